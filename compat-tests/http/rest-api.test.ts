/**
 * The REST API (/api/v1) against a real broker process, with real Kafka clients beside it:
 * every route of the OpenAPI document with good and bad input (exact status and error body),
 * records produced through REST read by kcat and kafkajs at the same partitions and offsets
 * (keys hashed the way Kafka clients hash them), records produced by kcat read through REST
 * with exact keys, values, headers and timestamps, and consumer-group lag and resets that
 * agree with the kafkajs admin API.
 */
import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand } from '../../test-kit/run-command.js';
import { RestApiClient } from './rest-api-client.js';

const KCAT = '/usr/bin/kcat';

let broker: BrokerProcess;
let api: RestApiClient;
let kafka: Kafka;

const name = (what: string): string => `rest-${what}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  broker = await startBrokerProcess();
  api = new RestApiClient(`http://127.0.0.1:${broker.httpPort}`);
  kafka = new Kafka({ clientId: 'rest-compat', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.cleanup();
});

async function createTopic(topic: string, partitions: number, configs?: Record<string, string>): Promise<void> {
  const res = await api.call('POST', '/topics', { body: { name: topic, partitions, ...(configs ? { configs } : {}) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

interface KcatRecord {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
  ts: number;
}

async function kcatRead(topic: string, partition: number, count: number): Promise<KcatRecord[]> {
  const res = await runCommand(KCAT, ['-C', '-b', broker.bootstrap, '-t', topic, '-p', String(partition), '-o', 'beginning', '-c', String(count), '-e', '-J', '-q'], { timeoutMs: 30000 });
  expect(res.code, res.stderr).toBe(0);
  return res.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as KcatRecord);
}

interface RestRecord {
  offset: number;
  timestamp: number;
  timestamp_type: string;
  key: string | null;
  key_encoding: string;
  value: string | null;
  value_encoding: string;
  headers: Array<{ key: string; value: string | null; value_encoding: string }>;
}

interface RecordsAnswer {
  topic: string;
  partition: number;
  log_start_offset: number;
  high_watermark: number;
  next_offset: number;
  records: RestRecord[];
}

describe('topics', () => {
  it('creates, lists, describes, alters configs, adds partitions and deletes', async () => {
    const topic = name('topics');
    const created = await api.call('POST', '/topics', { body: { name: topic, partitions: 3, configs: { 'retention.ms': '3600000' } } });
    expect(created.status).toBe(201);
    const body = created.body as { name: string; topic_id: string; partition_count: number; partitions: unknown[]; configs: Array<{ name: string; value: string; source: string }> };
    expect(body.name).toBe(topic);
    expect(body.topic_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.partition_count).toBe(3);
    expect(body.partitions).toEqual([0, 1, 2].map((p) => ({ partition: p, leader: { node_id: 0, agent_id: expect.any(String) }, log_start_offset: 0, high_watermark: 0, records: 0, bytes: 0 })));
    expect(body.configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG', sensitive: false });
    expect(body.configs.find((c) => c.name === 'cleanup.policy')).toEqual({ name: 'cleanup.policy', value: 'delete', source: 'DEFAULT_CONFIG', sensitive: false });

    // the same topic as a Kafka client sees it
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(md.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    } finally {
      await admin.disconnect();
    }

    const again = await api.call('POST', '/topics', { body: { name: topic, partitions: 1 } });
    expect(again).toMatchObject({ status: 409, body: { error_code: 'TOPIC_ALREADY_EXISTS', message: expect.stringContaining(topic) } });

    const listed = await api.call('GET', '/topics');
    expect(listed.status).toBe(200);
    expect((listed.body as { topics: unknown[] }).topics).toContainEqual({ name: topic, partitions: 3, records: 0, bytes: 0 });

    const altered = await api.call('PATCH', '/topics/{topic}/configs', { params: { topic }, body: { configs: { 'retention.ms': null, 'cleanup.policy': 'compact' } } });
    expect(altered.status).toBe(200);
    const configs = (altered.body as typeof body).configs;
    expect(configs.find((c) => c.name === 'retention.ms')?.source).toBe('DEFAULT_CONFIG');
    expect(configs.find((c) => c.name === 'cleanup.policy')).toEqual({ name: 'cleanup.policy', value: 'compact', source: 'DYNAMIC_TOPIC_CONFIG', sensitive: false });
    const badConfig = await api.call('PATCH', '/topics/{topic}/configs', { params: { topic }, body: { configs: { 'cleanup.policy': 'sometimes' } } });
    expect(badConfig).toMatchObject({ status: 400, body: { error_code: 'INVALID_CONFIG' } });

    const grown = await api.call('POST', '/topics/{topic}/partitions', { params: { topic }, body: { count: 5 } });
    expect(grown.status).toBe(200);
    expect((grown.body as typeof body).partition_count).toBe(5);
    const shrink = await api.call('POST', '/topics/{topic}/partitions', { params: { topic }, body: { count: 2 } });
    expect(shrink).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARTITIONS' } });

    const described = await api.call('GET', '/topics/{topic}', { params: { topic } });
    expect((described.body as typeof body).partitions).toHaveLength(5);

    expect((await api.call('DELETE', '/topics/{topic}', { params: { topic } })).status).toBe(204);
    expect(await api.call('GET', '/topics/{topic}', { params: { topic } })).toMatchObject({ status: 404, body: { error_code: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic '${topic}' does not exist` } });
    expect(await api.call('DELETE', '/topics/{topic}', { params: { topic } })).toMatchObject({ status: 404, body: { error_code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
  });

  it('refuses bad topic requests with 400 and the reason', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ name: 'bad name!' }, 'INVALID_TOPIC_EXCEPTION', /bad name!/],
      [{ name: name('t'), partitions: '3' }, 'INVALID_REQUEST', /partitions must be integer/],
      [{ name: name('t'), partitions: 0 }, 'INVALID_REQUEST', /partitions must be >= 1/],
      [{ name: name('t'), replication: 3 }, 'INVALID_REQUEST', /must NOT have additional properties/],
      [{ partitions: 1 }, 'INVALID_REQUEST', /must have required property 'name'/],
      [[1, 2], 'INVALID_REQUEST', /body must be object/],
      [{ name: name('t'), configs: { 'no.such.config': '1' } }, 'INVALID_CONFIG', /no\.such\.config/],
    ];
    for (const [bodyIn, code, message] of cases) {
      const res = await api.call('POST', '/topics', { body: bodyIn });
      expect(res.status, JSON.stringify(bodyIn)).toBe(400);
      expect(res.body, JSON.stringify(bodyIn)).toEqual({ error_code: code, message: expect.stringMatching(message) });
    }
  });
});

describe('produce', () => {
  it('takes the curl example as written and answers partition and offset after the commit', async () => {
    const topic = name('events');
    const created = await fetch(`${api.baseUrl}/api/v1/topics`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: topic, partitions: 3 }) });
    expect(created.status).toBe(201);
    const res = await fetch(`${api.baseUrl}/api/v1/produce`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topic, key: 'user-1', value: '{"event": "signup"}' }) });
    expect(res.status).toBe(200);
    const partition = partitionForKey(Buffer.from('user-1'), 3);
    expect(await res.json()).toEqual({ topic, offsets: [{ partition, offset: 0 }] });
    const [read] = await kcatRead(topic, partition, 1);
    expect(read).toMatchObject({ partition, offset: 0, key: 'user-1', payload: '{"event": "signup"}' });
  });

  it('partitions a keyed batch as Kafka clients do; kcat and kafkajs read the same records at the same offsets', async () => {
    const topic = name('batch');
    await createTopic(topic, 4);
    const records = Array.from({ length: 40 }, (_, i) => ({ key: `customer-${i % 13}`, value: `order-${i}`, headers: [{ key: 'source', value: 'rest' }, { key: 'seq', value: String(i) }] }));
    const res = await api.call('POST', '/produce', { body: { topic, records } });
    expect(res.status).toBe(200);
    const offsets = (res.body as { offsets: Array<{ partition: number; offset: number }> }).offsets;
    // partition by murmur2 of the key; offsets count up per partition in request order
    const next = new Map<number, number>();
    expect(offsets).toEqual(
      records.map((r) => {
        const partition = partitionForKey(Buffer.from(r.key), 4);
        const offset = next.get(partition) ?? 0;
        next.set(partition, offset + 1);
        return { partition, offset };
      }),
    );

    for (const [partition, count] of next) {
      const read = await kcatRead(topic, partition, count);
      const expected = records.flatMap((r, i) => (offsets[i]!.partition === partition ? [{ offset: offsets[i]!.offset, key: r.key, payload: r.value, headers: ['source', 'rest', 'seq', r.headers[1]!.value] }] : []));
      expect(read.map((r) => ({ offset: r.offset, key: r.key, payload: r.payload, headers: r.headers }))).toEqual(expected);
    }

    // kafkajs's default partitioner picks the same partitions for the same keys
    const producer = kafka.producer();
    await producer.connect();
    try {
      const sent = await producer.send({ topic, messages: [{ key: 'customer-5', value: 'from-kafkajs' }] });
      expect(sent[0]!.partition).toBe(partitionForKey(Buffer.from('customer-5'), 4));
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: name('reader') });
    const seen: Array<{ partition: number; offset: number; key: string; value: string }> = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, offset: Number(message.offset), key: message.key!.toString(), value: message.value!.toString() }) });
      const deadline = Date.now() + 20000;
      while (seen.length < 41 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await consumer.disconnect();
    }
    const restSeen = seen.filter((s) => s.value !== 'from-kafkajs').sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    const want = records.map((r, i) => ({ ...offsets[i]!, key: r.key, value: r.value })).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    expect(restSeen).toEqual(want);
  });

  it('writes text, JSON and base64 values, headers and timestamps exactly', async () => {
    // a given create time, an hour old (older than retention.ms would be deleted by retention)
    const CREATED_AT = Date.now() - 3_600_123;
    const topic = name('encodings');
    await createTopic(topic, 1);
    const json = await api.call('POST', '/produce', { body: { topic, partition: 0, value: { event: 'signup', n: 1 }, value_encoding: 'json', timestamp: CREATED_AT } });
    expect(json).toMatchObject({ status: 200, body: { offsets: [{ partition: 0, offset: 0 }] } });
    const binary = await api.call('POST', '/produce', { body: { topic, partition: 0, key: Buffer.from([0xff, 0x00, 0x01]).toString('base64'), key_encoding: 'base64', value: null } });
    expect(binary).toMatchObject({ status: 200, body: { offsets: [{ partition: 0, offset: 1 }] } });
    const read = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { from: 'earliest' } });
    expect(read.status).toBe(200);
    const records = (read.body as RecordsAnswer).records;
    expect(records).toEqual([
      { offset: 0, timestamp: CREATED_AT, timestamp_type: 'CREATE_TIME', key: null, key_encoding: 'text', value: '{"event":"signup","n":1}', value_encoding: 'text', headers: [] },
      { offset: 1, timestamp: expect.any(Number), timestamp_type: 'CREATE_TIME', key: '/wAB', key_encoding: 'base64', value: null, value_encoding: 'text', headers: [] },
    ]);
  });

  it('refuses bad produce requests with the right status and error, and stays up', async () => {
    const topic = name('bad-produce');
    await createTopic(topic, 2);
    const expectError = async (body: unknown, status: number, code: string, message: RegExp) => {
      const res = await api.call('POST', '/produce', { body });
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(status);
      expect(res.body, JSON.stringify(body).slice(0, 200)).toEqual({ error_code: code, message: expect.stringMatching(message) });
    };
    await expectError('{"topic": ', 400, 'INVALID_JSON', /not valid JSON/);
    await expectError({ topic: name('missing'), value: 'x' }, 404, 'UNKNOWN_TOPIC_OR_PARTITION', /does not exist/);
    await expectError({ topic, partition: 2, value: 'x' }, 404, 'UNKNOWN_TOPIC_OR_PARTITION', /has 2 partition\(s\); partition 2 does not exist/);
    await expectError({ topic, partition: '1', value: 'x' }, 400, 'INVALID_REQUEST', /partition must be integer/);
    await expectError({ topic, value: 42 }, 400, 'INVALID_REQUEST', /value must be a string with text encoding/);
    await expectError({ topic, value: 'not base64!', value_encoding: 'base64' }, 400, 'INVALID_REQUEST', /value is not valid base64/);
    await expectError({ topic, value: 'x', value_encoding: 'yaml' }, 400, 'INVALID_REQUEST', /value_encoding must be equal to one of the allowed values/);
    await expectError({ topic, records: [] }, 400, 'INVALID_REQUEST', /records must NOT have fewer than 1 items/);
    await expectError({ topic, records: [{ value: 'a' }], value: 'b' }, 400, 'INVALID_REQUEST', /either records or one record/);
    await expectError({ topic, headers: [{ key: 'h', value: 7 }], value: 'x' }, 400, 'INVALID_REQUEST', /headers\/0\/value must be string,null/);
    // a record over the topic's max.message.bytes
    const small = name('small');
    await createTopic(small, 1, { 'max.message.bytes': '1024' });
    await expectError({ topic: small, value: 'x'.repeat(5000) }, 413, 'MESSAGE_TOO_LARGE', /larger than|max/i);
    // a body over the HTTP limit (16 MiB), answered before it is read: the client still gets
    // the answer (a connection closed on unread data would reset it and lose the answer)
    const huge = JSON.stringify({ topic, value: 'x'.repeat(17 * 1024 * 1024) });
    for (let i = 0; i < 3; i++) await expectError(huge, 413, 'REQUEST_TOO_LARGE', /^request body is larger than 16777216 bytes$/);
    const wrongType = await api.call('POST', '/produce', { body: 'topic=x', headers: { 'content-type': 'text/plain' } });
    expect(wrongType).toMatchObject({ status: 415, body: { error_code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(await api.call('GET', '/no/such/route')).toMatchObject({ status: 404, body: { error_code: 'NOT_FOUND', message: 'no route GET /api/v1/no/such/route' } });
    // nothing was written, and the broker still serves
    const range = await api.call('GET', '/topics/{topic}', { params: { topic } });
    expect((range.body as { partitions: Array<{ high_watermark: number }> }).partitions.map((p) => p.high_watermark)).toEqual([0, 0]);
    expect((await fetch(`${api.baseUrl}/health`)).status).toBe(200);
  });
});

describe('records', () => {
  it('reads what kcat produced with exact keys, values, headers and timestamps', async () => {
    const topic = name('from-kcat');
    await createTopic(topic, 1);
    const before = Date.now();
    const input = 'k1\x1fhello\x1ek2\x1f<b>bold</b>\x1ek3\x1f{"a":1}';
    const res = await runCommand(KCAT, ['-P', '-q', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K', '\\x1f', '-D', '\\x1e', '-H', 'trace=abc', '-H', 'empty=', '-X', 'linger.ms=100'], { input, timeoutMs: 30000 });
    expect(res.code, res.stderr).toBe(0);
    const after = Date.now();
    const read = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { offset: 0, limit: 10 } });
    const answer = read.body as RecordsAnswer;
    expect(answer).toMatchObject({ topic, partition: 0, log_start_offset: 0, high_watermark: 3, next_offset: 3 });
    const kcatView = await kcatRead(topic, 0, 3);
    expect(answer.records.map((r) => ({ offset: r.offset, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }))).toEqual(
      [['k1', 'hello'], ['k2', '<b>bold</b>'], ['k3', '{"a":1}']].map(([key, value], i) => ({
        offset: i,
        key,
        value,
        headers: [{ key: 'trace', value: 'abc', value_encoding: 'text' }, { key: 'empty', value: '', value_encoding: 'text' }],
        timestamp: kcatView[i]!.ts,
      })),
    );
    for (const r of answer.records) expect(r.timestamp).toBeGreaterThanOrEqual(before - 1);
    for (const r of answer.records) expect(r.timestamp).toBeLessThanOrEqual(after + 1);

    // limit, next_offset, timestamp, latest and base64
    const one = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { offset: 1, limit: 1, encoding: 'base64' } });
    expect((one.body as RecordsAnswer).records.map((r) => [r.offset, r.key, r.key_encoding, r.value])).toEqual([[1, Buffer.from('k2').toString('base64'), 'base64', Buffer.from('<b>bold</b>').toString('base64')]]);
    expect((one.body as RecordsAnswer).next_offset).toBe(2);
    const byTime = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { timestamp: kcatView[2]!.ts } });
    expect((byTime.body as RecordsAnswer).records[0]!.offset).toBe(kcatView.findIndex((r) => r.ts === kcatView[2]!.ts));
    const latest = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { from: 'latest' } });
    expect(latest.body).toMatchObject({ records: [], next_offset: 3, high_watermark: 3 });
  });

  it('long-polls with wait_ms until a record arrives', async () => {
    const topic = name('poll');
    await createTopic(topic, 1);
    const started = Date.now();
    const pending = api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { offset: 0, wait_ms: 10000 } });
    await new Promise((r) => setTimeout(r, 500));
    await api.call('POST', '/produce', { body: { topic, value: 'late' } });
    const got = await pending;
    expect((got.body as RecordsAnswer).records.map((r) => r.value)).toEqual(['late']);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(8000);
    // nothing arrives: the answer comes when the wait is over, empty
    const t0 = Date.now();
    const empty = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic, partition: 0 }, query: { offset: 1, wait_ms: 700 } });
    expect(empty.body).toMatchObject({ records: [], next_offset: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
  });

  it('refuses bad reads with the right status', async () => {
    const topic = name('bad-read');
    await createTopic(topic, 1);
    const read = (params: Record<string, string | number>, query: Record<string, string | number> = {}) => api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params, query });
    expect(await read({ topic: name('none'), partition: 0 })).toMatchObject({ status: 404, body: { error_code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await read({ topic, partition: 1 })).toMatchObject({ status: 404, body: { error_code: 'UNKNOWN_TOPIC_OR_PARTITION', message: expect.stringContaining('partition 1 does not exist') } });
    expect(await read({ topic, partition: 'x' })).toMatchObject({ status: 400, body: { error_code: 'INVALID_REQUEST', message: expect.stringContaining('params/partition must match pattern') } });
    expect(await read({ topic, partition: 0 }, { offset: 5 })).toMatchObject({ status: 416, body: { error_code: 'OFFSET_OUT_OF_RANGE', message: `offset 5 is outside the log 0..0 of ${topic}-0` } });
    expect(await read({ topic, partition: 0 }, { limit: 0 })).toMatchObject({ status: 400, body: { error_code: 'INVALID_REQUEST', message: 'limit must be between 1 and 1000, got 0' } });
    expect(await read({ topic, partition: 0 }, { offset: 0, from: 'latest' })).toMatchObject({ status: 400, body: { message: 'give at most one of offset, timestamp and from' } });
    expect(await read({ topic, partition: 0 }, { wait_ms: 60000 })).toMatchObject({ status: 400, body: { message: 'wait_ms must be between 0 and 30000, got 60000' } });
    expect(await read({ topic, partition: 0 }, { colour: 'red' })).toMatchObject({ status: 400, body: { error_code: 'INVALID_REQUEST' } });
  });
});

describe('consumer groups', () => {
  async function lagByAdmin(groupId: string, topic: string): Promise<Array<{ partition: number; committed: number; lag: number }>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const ends = await admin.fetchTopicOffsets(topic);
      return committed!.partitions
        .map((p) => {
          const high = Number(ends.find((e) => e.partition === p.partition)!.high);
          return { partition: p.partition, committed: Number(p.offset), lag: high - Number(p.offset) };
        })
        .sort((a, b) => a.partition - b.partition);
    } finally {
      await admin.disconnect();
    }
  }

  it('shows members, assignments and the lag the admin API reports; resets offsets with a preview; deletes', async () => {
    const topic = name('group-topic');
    const groupId = name('group');
    await createTopic(topic, 3);
    await api.call('POST', '/produce', { body: { topic, records: Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: `v${i}` })) } });

    const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const committedPartitions = new Set<number>();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch }) => {
        // consume 4 of each partition's 10 records, commit offset 4, then idle
        const taken = batch.messages.filter((m) => Number(m.offset) < 4).length;
        if (taken === 0) return;
        if (committedPartitions.has(batch.partition)) return;
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: '4' }]);
        committedPartitions.add(batch.partition);
      },
    });
    const deadline = Date.now() + 20000;
    while (committedPartitions.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect([...committedPartitions].sort()).toEqual([0, 1, 2]);

    const live = await api.call('GET', '/groups/{group}', { params: { group: groupId } });
    expect(live.status).toBe(200);
    const g = live.body as { state: string; protocol_type: string; protocol: string; members: Array<{ client_id: string; assignments: Array<{ topic: string; partitions: number[] }> }>; offsets: Array<{ partition: number; committed_offset: number; lag: number }>; total_lag: number };
    expect(g).toMatchObject({ state: 'Stable', protocol_type: 'consumer', protocol: 'RoundRobinAssigner' });
    expect(g.members).toHaveLength(1);
    expect(g.members[0]!.client_id).toBe('rest-compat');
    expect(g.members[0]!.assignments).toEqual([{ topic, partitions: [0, 1, 2] }]);

    // refused while the member is active
    const refused = await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, to: 'earliest' } });
    expect(refused).toMatchObject({ status: 409, body: { error_code: 'NON_EMPTY_GROUP', message: expect.stringContaining('active member') } });
    expect(await api.call('DELETE', '/groups/{group}', { params: { group: groupId } })).toMatchObject({ status: 409, body: { error_code: 'NON_EMPTY_GROUP' } });

    await consumer.disconnect();
    const byAdmin = await lagByAdmin(groupId, topic);
    expect(byAdmin).toEqual([0, 1, 2].map((partition) => ({ partition, committed: 4, lag: 6 })));
    const stopped = (await api.call('GET', '/groups/{group}', { params: { group: groupId } })).body as typeof g;
    expect(stopped.state).toBe('Empty');
    expect(stopped.members).toEqual([]);
    expect(stopped.offsets.map((o) => ({ partition: o.partition, committed: o.committed_offset, lag: o.lag }))).toEqual(byAdmin);
    expect(stopped.total_lag).toBe(18);

    const listed = await api.call('GET', '/groups');
    expect((listed.body as { groups: unknown[] }).groups).toContainEqual({ group_id: groupId, state: 'Empty', members: 0, partitions: 3, total_lag: 18 });

    const preview = await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, partitions: [0, 2], to: 'offset', offset: 8, dry_run: true } });
    expect(preview).toMatchObject({ status: 200, body: { group_id: groupId, dry_run: true, offsets: [{ topic, partition: 0, previous_offset: 4, offset: 8 }, { topic, partition: 2, previous_offset: 4, offset: 8 }] } });
    expect(await lagByAdmin(groupId, topic)).toEqual(byAdmin);

    const applied = await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, to: 'latest' } });
    expect(applied).toMatchObject({ status: 200, body: { dry_run: false, offsets: [0, 1, 2].map((partition) => ({ topic, partition, previous_offset: 4, offset: 10 })) } });
    expect(await lagByAdmin(groupId, topic)).toEqual([0, 1, 2].map((partition) => ({ partition, committed: 10, lag: 0 })));
    const early = await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, partitions: [1], to: 'earliest' } });
    expect((early.body as { offsets: unknown[] }).offsets).toEqual([{ topic, partition: 1, previous_offset: 10, offset: 0 }]);

    expect(await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, to: 'offset' } })).toMatchObject({ status: 400, body: { message: 'to=offset needs offset' } });
    expect(await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, to: 'sideways' } })).toMatchObject({ status: 400, body: { error_code: 'INVALID_REQUEST' } });
    expect(await api.call('POST', '/groups/{group}/reset-offsets', { params: { group: groupId }, body: { topic, partitions: [7], to: 'earliest' } })).toMatchObject({ status: 404, body: { error_code: 'UNKNOWN_TOPIC_OR_PARTITION' } });

    expect((await api.call('DELETE', '/groups/{group}', { params: { group: groupId } })).status).toBe(204);
    expect(await api.call('GET', '/groups/{group}', { params: { group: groupId } })).toMatchObject({ status: 404, body: { error_code: 'GROUP_ID_NOT_FOUND' } });
    expect(await api.call('DELETE', '/groups/{group}', { params: { group: groupId } })).toMatchObject({ status: 404, body: { error_code: 'GROUP_ID_NOT_FOUND' } });
  });
});

describe('a consumer group without committed offsets', () => {
  it('exists while its coordinator knows it (Empty after its member left), as in Kafka', async () => {
    const topic = name('no-commit-topic');
    const groupId = name('no-commit');
    await createTopic(topic, 1);
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    const deadline = Date.now() + 20000;
    while (!joined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(joined).toBe(true);
    await consumer.disconnect();
    const described = await api.call('GET', '/groups/{group}', { params: { group: groupId } });
    expect(described).toMatchObject({ status: 200, body: { group_id: groupId, state: 'Empty', members: [], offsets: [], total_lag: 0 } });
  });
});

describe('agents, cluster, storage', () => {
  it('shows this agent with the partitions and shards it leads, the cluster in numbers, throughput and storage', async () => {
    const topic = name('overview');
    await createTopic(topic, 2);
    await api.call('POST', '/produce', { body: { topic, records: Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: 'x'.repeat(100) })) } });

    const agents = (await api.call('GET', '/agents')).body as { agents: Array<{ node_id: number; self: boolean; host: string; port: number; partitions: Array<{ topic: string; partition: number }>; coordinator_shards: number[]; heartbeat_age_ms: number | null }> };
    expect(agents.agents).toHaveLength(1);
    const me = agents.agents[0]!;
    expect(me).toMatchObject({ node_id: 0, self: true, host: '127.0.0.1', port: broker.kafkaPort });
    expect(me.partitions).toEqual(expect.arrayContaining([{ topic, partition: 0 }, { topic, partition: 1 }]));
    expect(me.coordinator_shards).toEqual([...Array(50).keys()]);

    const cluster = (await api.call('GET', '/cluster')).body as { agents: number; topics: number; partitions: number; records: number; storage_bytes: number; objects: number };
    const topics = (await api.call('GET', '/topics')).body as { topics: Array<{ partitions: number; records: number }> };
    expect(cluster.agents).toBe(1);
    expect(cluster.topics).toBe(topics.topics.length);
    expect(cluster.partitions).toBe(topics.topics.reduce((s, t) => s + t.partitions, 0));
    expect(cluster.records).toBe(topics.topics.reduce((s, t) => s + t.records, 0));
    expect(cluster.objects).toBeGreaterThan(0);
    expect(cluster.storage_bytes).toBeGreaterThan(50 * 100);

    // one more produce after a sample interval shows up as a rate
    await new Promise((r) => setTimeout(r, 2500));
    await api.call('POST', '/produce', { body: { topic, records: Array.from({ length: 500 }, () => ({ partition: 0, value: 'y'.repeat(100) })) } });
    await new Promise((r) => setTimeout(r, 4500));
    const throughput = (await api.call('GET', '/cluster/throughput')).body as { interval_ms: number; samples: Array<{ records_in_per_sec: number; bytes_in_per_sec: number }> };
    expect(throughput.interval_ms).toBe(2000);
    const counted = throughput.samples.reduce((s, x) => s + x.records_in_per_sec * (throughput.interval_ms / 1000), 0);
    expect(counted).toBeGreaterThan(450);

    const storage = (await api.call('GET', '/storage', { query: { price_per_gb_month: '0.05' } })).body as { price_per_gb_month: number; total: { objects: number; stored_bytes: number; payload_bytes: number; monthly_cost: number }; topics: Array<{ name: string; objects: number; chunks: number; payload_bytes: number; records: number; partitions_awaiting_compaction: number }>; compaction: unknown };
    expect(storage.price_per_gb_month).toBe(0.05);
    const mine = storage.topics.find((t) => t.name === topic)!;
    expect(mine.records).toBe(550);
    expect(mine.objects).toBeGreaterThan(0);
    expect(mine.chunks).toBeGreaterThanOrEqual(2);
    // partition 0 got two produces (two small chunks) and partition 1 one; once the compactor
    // (every 60 s) merged partition 0, nothing is left to merge
    expect(storage.compaction).toEqual({ enabled: true, interval_ms: 60000, small_chunk_bytes: expect.any(Number) });
    expect(mine.partitions_awaiting_compaction).toBe(mine.chunks === 3 ? 1 : 0);
    expect(mine.payload_bytes).toBeGreaterThan(550 * 100);
    expect(storage.total.stored_bytes).toBeGreaterThanOrEqual(storage.total.payload_bytes);
    expect(storage.total.monthly_cost).toBeCloseTo((storage.total.stored_bytes / 1024 ** 3) * 0.05, 6);
    expect(await api.call('GET', '/storage', { query: { price_per_gb_month: 'cheap' } })).toMatchObject({ status: 400, body: { error_code: 'INVALID_REQUEST' } });
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3 and every route in it was exercised by this file', async () => {
    const res = await fetch(`${api.baseUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`));
    expect(documented.length).toBeGreaterThanOrEqual(15);
    const exercised = [...api.exercised].filter((r) => !r.includes('/no/such/route'));
    expect(documented.sort()).toEqual([...new Set(exercised)].sort());
  });
});
