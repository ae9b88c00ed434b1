/**
 * Topic ids (KIP-516) against real broker processes. Every topic has a random v4 UUID from
 * its creation on; Metadata v10+ reports it (and v12 looks topics up by it), Fetch v13+ names
 * topics by it. The id must stay the same across restarts and agents and change when the
 * topic is deleted and re-created: clients tell "same topic" from "new topic of that name" by
 * it, and a stale id must be refused with UNKNOWN_TOPIC_ID rather than read the new topic.
 *
 * The last case is librdkafka's test 0107 (producer side): a producer keeps producing while
 * its 10-partition topic is deleted and re-created with 3 partitions, and every message
 * produced after the re-create must be delivered into the new topic. Newer librdkafka (2.9+)
 * only shrinks its partition count when the topic id changes, so there all-zero ids left
 * messages queued for partitions 3-9 forever. librdkafka 2.0.2 (Debian's, used here) asks
 * for Metadata v4 at most and so never sees topic ids: it shrinks on the partition count
 * alone. The test records which Metadata version it sent; what it can show with 2.0.2 is
 * the delivery outcome, not that the id made the difference.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { FetchResponsePartitionData } from '../../src/protocol/messages/generated/fetch.js';
import type { MetadataResponseTopic } from '../../src/protocol/messages/generated/metadata.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { startCluster, type Cluster } from '../cluster/support.js';
import { fetchAllBatches, RawKafkaClient, storedBatches, waitUntilLeading } from '../../test-kit/raw-kafka-client.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON } from '../../test-kit/run-command.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function advertisedMax(raw: RawKafkaClient, apiKey: number): Promise<number> {
  const res = await raw.request(18, 3, { clientSoftwareName: 'topic-ids-test', clientSoftwareVersion: '1' });
  return res.apiKeys.find((k) => k.apiKey === apiKey)?.maxVersion ?? -1;
}

/** CreateTopics v7; returns the topic id the broker reported. */
async function createTopic(raw: RawKafkaClient, name: string, partitions: number): Promise<string> {
  const res = await raw.request(19, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  const t = res.topics[0]!;
  if (t.errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${t.errorCode} ${t.errorMessage}`);
  return t.topicId;
}

async function deleteTopic(raw: RawKafkaClient, by: { name: string } | { topicId: string }) {
  const topic = 'name' in by ? { name: by.name, topicId: ZERO_UUID } : { name: null, topicId: by.topicId };
  const res = await raw.request(20, 6, { topics: [topic], topicNames: [], timeoutMs: 10_000 });
  return res.responses[0]!;
}

/** Metadata for the given topics (null: all of them), without auto-creation. */
async function metadata(raw: RawKafkaClient, version: number, topics: Array<{ name: string | null; topicId?: string }> | null): Promise<MetadataResponseTopic[]> {
  const res = await raw.request(3, version, {
    topics: topics === null ? null : topics.map((t) => ({ name: t.name, topicId: t.topicId ?? ZERO_UUID })),
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  return res.topics;
}

/** Waits (Metadata v9, by name) until every partition of the topic has a leader. */
async function waitForLeaders(raw: RawKafkaClient, name: string, partitions: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [t] = await metadata(raw, 9, [{ name }]);
    if (t && t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0)) return;
    if (Date.now() > until) throw new Error(`${name}: no leader for all ${partitions} partitions within ${timeoutMs} ms: ${JSON.stringify(t)}`);
    await sleep(100);
  }
}

async function produce(raw: RawKafkaClient, topic: string, partition: number, values: string[]): Promise<void> {
  const t0 = BigInt(Date.now());
  const res = await raw.request(0, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: buildRecordBatch({ baseOffset: 0n, records: values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: t0 })) }) }] }],
  });
  const p = res.responses[0]!.partitionResponses[0]!;
  if (p.errorCode !== 0) throw new Error(`Produce ${topic}-${partition}: error ${p.errorCode}`);
}

/** One Fetch v13 of the given partitions of the topic with this id, from offset 0. */
async function fetchById(raw: RawKafkaClient, topicId: string, partitions: number[]): Promise<{ topicId: string; partitions: FetchResponsePartitionData[] }> {
  const res = await raw.request(1, 13, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: '', topicId, partitions: partitions.map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID })) }],
    forgottenTopicsData: [],
    rackId: '',
  });
  expect(res.errorCode).toBe(0);
  expect(res.responses).toHaveLength(1);
  return { topicId: res.responses[0]!.topicId, partitions: res.responses[0]!.partitions };
}

function values(p: FetchResponsePartitionData): string[] {
  return storedBatches(p.records).flatMap((b) => b.records.map((r) => r.value!.toString()));
}

describe('topic ids on the wire', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('a real id, the same across a restart, a new one after delete + re-create; Fetch v13 by id, stale id refused', async () => {
    const topic = uniqueTopic('ids');
    let raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    let id: string;
    try {
      expect(await advertisedMax(raw, 3), 'Metadata max version').toBeGreaterThanOrEqual(12);
      expect(await advertisedMax(raw, 1), 'Fetch max version').toBeGreaterThanOrEqual(13);

      id = await createTopic(raw, topic, 2);
      expect(id).toMatch(UUID_V4);
      await waitForLeaders(raw, topic, 2);
      for (const v of [10, 11, 12]) {
        const [t] = await metadata(raw, v, [{ name: topic }]);
        expect(t, `Metadata v${v}`).toMatchObject({ errorCode: 0, name: topic, topicId: id });
        expect(t!.partitions).toHaveLength(2);
      }
      const all = await metadata(raw, 12, null);
      expect(all.find((t) => t.name === topic)?.topicId).toBe(id);
      const [byId] = await metadata(raw, 12, [{ name: null, topicId: id }]);
      expect(byId).toMatchObject({ errorCode: 0, name: topic, topicId: id });
      expect(byId!.partitions).toHaveLength(2);

      await produce(raw, topic, 0, ['a0', 'a1', 'a2']);
      await produce(raw, topic, 1, ['b0', 'b1']);
      const fetched = await fetchById(raw, id, [0, 1]);
      expect(fetched.topicId).toBe(id);
      expect(fetched.partitions.map((p) => ({ partition: p.partitionIndex, errorCode: p.errorCode, hwm: p.highWatermark, values: values(p) }))).toEqual([
        { partition: 0, errorCode: 0, hwm: 3n, values: ['a0', 'a1', 'a2'] },
        { partition: 1, errorCode: 0, hwm: 2n, values: ['b0', 'b1'] },
      ]);
      // the name-based Fetch v12 the other compat tests use keeps working
      const byName = await fetchAllBatches(raw, topic, 0);
      expect(byName.batches.flatMap((b) => b.records.map((r) => r.value!.toString()))).toEqual(['a0', 'a1', 'a2']);
    } finally {
      raw.close();
    }

    broker = await broker.restart();
    raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      await waitUntilLeading(raw, topic, [0, 1]);
      const [t] = await metadata(raw, 12, [{ name: topic }]);
      expect(t, 'after the restart').toMatchObject({ errorCode: 0, name: topic, topicId: id });
      const fetched = await fetchById(raw, id, [0]);
      expect(fetched.partitions[0]!.errorCode).toBe(0);
      expect(values(fetched.partitions[0]!)).toEqual(['a0', 'a1', 'a2']);

      const deleted = await deleteTopic(raw, { topicId: id });
      expect(deleted).toMatchObject({ errorCode: 0, name: topic, topicId: id });
      const [gone] = await metadata(raw, 12, [{ name: null, topicId: id }]);
      expect(gone).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: id, partitions: [] });

      const newId = await createTopic(raw, topic, 1);
      expect(newId).toMatch(UUID_V4);
      expect(newId).not.toBe(id);
      await waitForLeaders(raw, topic, 1);
      const [recreated] = await metadata(raw, 12, [{ name: topic }]);
      expect(recreated).toMatchObject({ errorCode: 0, name: topic, topicId: newId });
      expect(recreated!.partitions).toHaveLength(1);

      // the old id names a topic that no longer exists, though its name does
      const stale = await fetchById(raw, id, [0, 1]);
      expect(stale.topicId).toBe(id);
      expect(stale.partitions.map((p) => ({ partition: p.partitionIndex, errorCode: p.errorCode, hwm: p.highWatermark, records: storedBatches(p.records).length }))).toEqual([
        { partition: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, hwm: -1n, records: 0 },
        { partition: 1, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, hwm: -1n, records: 0 },
      ]);
      const fresh = await fetchById(raw, newId, [0]);
      expect(fresh.partitions.map((p) => ({ errorCode: p.errorCode, hwm: p.highWatermark, values: values(p) }))).toEqual([{ errorCode: 0, hwm: 0n, values: [] }]);
    } finally {
      raw.close();
    }
  });

});

// A cluster of its own in both passes (real PostgreSQL and s3rver), so this never depends on the backend.
describe('topic ids across agents', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster('topicids', 2);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('two agents on one PostgreSQL report the same id, and the new one after a re-create', async () => {
    const topic = uniqueTopic('ids-agents');
    const [first, second] = cluster.agents as [BrokerProcess, BrokerProcess];
    const a = await RawKafkaClient.connect('127.0.0.1', first.kafkaPort);
    const b = await RawKafkaClient.connect('127.0.0.1', second.kafkaPort);
    try {
      const id = await createTopic(a, topic, 2);
      expect(id).toMatch(UUID_V4);
      const [seenByB] = await metadata(b, 12, [{ name: topic }]);
      expect(seenByB).toMatchObject({ errorCode: 0, name: topic, topicId: id });
      expect((await metadata(a, 12, [{ name: topic }]))[0]?.topicId).toBe(id);

      expect(await deleteTopic(b, { name: topic })).toMatchObject({ errorCode: 0, topicId: id });
      const newId = await createTopic(b, topic, 1);
      expect(newId).not.toBe(id);
      // agent a learns of the re-create from the store: by id at once, by name within a heartbeat or so
      const [byIdOnA] = await metadata(a, 12, [{ name: null, topicId: newId }]);
      expect(byIdOnA).toMatchObject({ errorCode: 0, name: topic, topicId: newId });
      const until = Date.now() + 15_000;
      for (;;) {
        const [t] = await metadata(a, 12, [{ name: topic }]);
        if (t?.topicId === newId) break;
        if (Date.now() > until) throw new Error(`agent a still reports ${JSON.stringify(t)}`);
        await sleep(200);
      }
      const [staleOnA] = await metadata(a, 12, [{ name: null, topicId: id }]);
      expect(staleOnA).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: id });
    } finally {
      a.close();
      b.close();
    }
  });
});

interface DeliveryLine {
  t: 'dr';
  n: number;
  phase: string;
  p: number;
  o: number;
  e: { code: number; name: string; message: string } | null;
}
interface ProduceErrorLine {
  t: 'produce_error';
  n: number;
  phase: string;
  e: { code: number; name: string; message: string };
}
interface LogLine {
  t: 'log';
  fac: string;
  msg: string;
}
interface DoneLine {
  t: 'done';
  produced: number;
  outstanding: number;
}
interface ClientErrorLine {
  t: 'client_error';
  e: { code: number; name: string; message: string };
}
type ProducerLine = DeliveryLine | ProduceErrorLine | LogLine | DoneLine | ClientErrorLine;

/** recreate-producer.py, running: what it printed so far, phase changes, a clean stop. */
function startRecreateProducer(bootstrap: string, topic: string) {
  const config = { bootstrap, topic, rate: 50, refresh_ms: 500, message_timeout_ms: 60_000 };
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(PYTHON, [join(import.meta.dirname, '../python/recreate-producer.py'), JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: ProducerLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line !== '') lines.push(JSON.parse(line) as ProducerLine);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    lines,
    deliveries: () => lines.filter((l): l is DeliveryLine => l.t === 'dr'),
    phase(name: string) {
      child.stdin.write(`phase ${name}\n`);
    },
    async stop(timeoutMs = 60_000): Promise<DoneLine> {
      child.stdin.end('stop\n');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`producer did not stop within ${timeoutMs} ms\n${stderr.slice(-4000)}`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      const done = lines.find((l): l is DoneLine => l.t === 'done');
      if (code !== 0 || !done) throw new Error(`recreate-producer.py exited with ${code} without a summary\n${stderr.slice(-4000)}`);
      return done;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('librdkafka producer across delete + re-create with fewer partitions (librdkafka test 0107)', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    // no auto-creation: the producer's own Metadata requests would re-create the topic with
    // one partition while it is deleted
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('delivers every message produced after the re-create into the 3-partition topic', async () => {
    const topic = uniqueTopic('recreate');
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    const producer = startRecreateProducer(broker.bootstrap, topic);
    try {
      await createTopic(raw, topic, 10);
      await waitForLeaders(raw, topic, 10);
      // the producer knows all 10 partitions once it delivered to each
      await waitFor('deliveries to all 10 partitions', () => new Set(producer.deliveries().filter((d) => d.e === null).map((d) => d.p)).size === 10, 30_000);

      producer.phase('during');
      expect((await deleteTopic(raw, { name: topic })).errorCode).toBe(0);
      // as in 0107: leave the topic deleted for a while (ten metadata refresh intervals)
      await sleep(5_000);
      await createTopic(raw, topic, 3);
      await waitForLeaders(raw, topic, 3);
      producer.phase('after');
      await sleep(6_000);
      const done = await producer.stop();

      const logs = producer.lines.filter((l): l is LogLine => l.t === 'log').map((l) => l.msg);
      const metadataVersions = [...new Set(logs.flatMap((m) => [...m.matchAll(/Sent MetadataRequest \(v(\d+)/g)].map((x) => Number(x[1]))))].sort((x, y) => x - y);
      const partitionCounts = logs.filter((m) => /partition count changed/.test(m));
      // what librdkafka did, for the record (see the file comment)
      console.log(JSON.stringify({ librdkafkaMetadataVersions: metadataVersions, partitionCounts, done }));

      expect(done.outstanding).toBe(0);
      const after = producer.deliveries().filter((d) => d.phase === 'after');
      const afterRefused = producer.lines.filter((l): l is ProduceErrorLine => l.t === 'produce_error' && l.phase === 'after');
      expect(afterRefused, 'produce() refused messages after the re-create').toEqual([]);
      expect(after.length).toBeGreaterThanOrEqual(200);
      expect(after.filter((d) => d.e !== null), 'delivery errors after the re-create').toEqual([]);
      expect(new Set(after.map((d) => d.p))).toEqual(new Set([0, 1, 2]));

      const stored = new Map<string, string>();
      for (let p = 0; p < 3; p++) {
        const { batches } = await fetchAllBatches(raw, topic, p);
        for (const b of batches) {
          b.records.forEach((r) => stored.set(`${p}/${r.offset}`, r.value!.toString()));
        }
      }
      const missing = after.filter((d) => stored.get(`${d.p}/${d.o}`) !== `after-${d.n}`);
      expect(missing, 'acknowledged after the re-create but not in the topic at that offset').toEqual([]);
    } finally {
      producer.kill();
      raw.close();
    }
  });
});
