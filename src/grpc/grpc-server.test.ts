import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionType } from '../protocol/records/compression.js';
import { readBatchHeader, splitBatches } from '../protocol/records/record-batch.js';
import { buildRecordBatch } from '../protocol/records/record-codec.js';
import { RpcChannel } from './client/rpc-channel.js';
import type { ConsumedRecordMsg, SubscribeResponseMsg } from './messages.js';
import { VERSION } from '../version.js';
import { partitionForKey } from '../protocol/murmur2.js';
import { startGrpcTestBroker, type GrpcTestBroker } from './test-support/grpc-broker.js';

let b: GrpcTestBroker;
let rpc: RpcChannel;

beforeAll(async () => {
  b = await startGrpcTestBroker();
  rpc = new RpcChannel({ address: b.address, timeoutMs: 10_000 });
  await rpc.call('CreateTopic', { name: 'orders', partitions: 4 });
  await rpc.call('CreateTopic', { name: 'single', partitions: 1, configs: { 'retention.ms': '3600000' } });
});

afterAll(async () => {
  rpc.close();
  await b.close();
});

/** The raw batches of a partition as the log holds them. */
async function logBatches(topic: string, partition: number): Promise<Buffer[]> {
  const r = await b.broker.services.log.read({ topic, partition, offset: 0n, maxBytes: 64 << 20 });
  return splitBatches(r.records).batches;
}

function simple(records: ConsumedRecordMsg[]) {
  return records.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null }));
}

describe('ProducerService', () => {
  it('Produce puts a keyed record where Kafka would (murmur2) and returns its offset', async () => {
    const expected = partitionForKey(Buffer.from('customer-17'), 4);
    const first = await rpc.call('Produce', { topic: 'orders', record: { key: Buffer.from('customer-17'), value: Buffer.from('a'), headers: [] } });
    const second = await rpc.call('Produce', { topic: 'orders', record: { key: Buffer.from('customer-17'), value: Buffer.from('b'), headers: [] } });
    expect(first).toEqual({ partition: expected, offset: '0', logAppendTimeMs: '-1' });
    expect(second).toEqual({ partition: expected, offset: '1', logAppendTimeMs: '-1' });
  });

  it('Produce honours an explicit partition, and spreads null keys round-robin', async () => {
    const explicit = await rpc.call('Produce', { topic: 'single', partition: 0, record: { value: Buffer.from('x'), headers: [] } });
    expect(explicit).toEqual({ partition: 0, offset: '0', logAppendTimeMs: '-1' });
    await rpc.call('CreateTopic', { name: 'rr', partitions: 3 });
    const parts = [];
    for (let i = 0; i < 6; i++) parts.push((await rpc.call('Produce', { topic: 'rr', record: { value: Buffer.from(String(i)), headers: [] } })).partition);
    expect(parts).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('ProduceBatch writes one batch with consecutive offsets, keeping null vs empty keys, headers and timestamps', async () => {
    const res = await rpc.call('ProduceBatch', {
      topic: 'single',
      partition: 0,
      records: [
        { key: Buffer.alloc(0), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from([0, 255]) }, { key: 'nul' }], timestampMs: '1700000000000' },
        { value: Buffer.from('v2'), headers: [], timestampMs: '1700000000001' },
        { key: Buffer.from('k3'), headers: [], timestampMs: '1700000000002' },
      ],
    });
    expect(res).toEqual({ partition: 0, baseOffset: '1', recordCount: 3, logAppendTimeMs: '-1' });
    const batches = await logBatches('single', 0);
    expect(batches.map((x) => readBatchHeader(x).recordCount)).toEqual([1, 3]);
    const c = await rpc.call('Consume', { topic: 'single', partition: 0, offset: '1' });
    expect(c.highWatermark).toBe('4');
    expect(c.logStartOffset).toBe('0');
    expect(c.nextOffset).toBe('4');
    expect(c.records).toEqual([
      {
        topic: 'single',
        partition: 0,
        offset: '1',
        timestampMs: '1700000000000',
        key: Buffer.alloc(0),
        optionalKey: 'key',
        value: Buffer.from('v1'),
        optionalValue: 'value',
        headers: [{ key: 'h', value: Buffer.from([0, 255]), optionalValue: 'value' }, { key: 'nul' }],
        timestampType: 'TIMESTAMP_TYPE_CREATE_TIME',
      },
      { topic: 'single', partition: 0, offset: '2', timestampMs: '1700000000001', value: Buffer.from('v2'), optionalValue: 'value', headers: [], timestampType: 'TIMESTAMP_TYPE_CREATE_TIME' },
      { topic: 'single', partition: 0, offset: '3', timestampMs: '1700000000002', key: Buffer.from('k3'), optionalKey: 'key', headers: [], timestampType: 'TIMESTAMP_TYPE_CREATE_TIME' },
    ]);
  });

  it('ProduceBatch takes a Kafka batch as is (LZ4 stays LZ4 in the log)', async () => {
    await rpc.call('CreateTopic', { name: 'lz4', partitions: 1 });
    const records = [...Array(50).keys()].map((i) => ({ key: null, value: Buffer.from(`value-${i}-`.repeat(20)), timestamp: 1700000000000n + BigInt(i) }));
    const batch = buildRecordBatch({ baseOffset: 0n, records, compression: CompressionType.Lz4 });
    const res = await rpc.call('ProduceBatch', { topic: 'lz4', partition: 0, kafkaRecordBatch: batch });
    expect(res).toEqual({ partition: 0, baseOffset: '0', recordCount: 50, logAppendTimeMs: '-1' });
    const [stored] = await logBatches('lz4', 0);
    expect(readBatchHeader(stored!).compression).toBe(CompressionType.Lz4);
    const c = await rpc.call('Consume', { topic: 'lz4', partition: 0, offset: '0', maxRecords: 100 });
    expect(c.records.map((r) => r.value!.toString())).toEqual(records.map((r) => r.value.toString()));
  });

  it('refuses bad produce requests with statuses that say why', async () => {
    await expect(rpc.call('Produce', { topic: 'nope', record: { value: Buffer.from('x'), headers: [] } })).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'nope' does not exist" });
    await expect(rpc.call('Produce', { topic: 'orders', partition: 4, record: { value: Buffer.from('x'), headers: [] } })).rejects.toMatchObject({
      codeName: 'NOT_FOUND',
      details: "topic 'orders' has 4 partitions; partition 4 does not exist",
    });
    await expect(rpc.call('Produce', { topic: 'orders', partition: -1, record: { headers: [] } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'partition must be 0 or more, got -1' });
    await expect(rpc.call('Produce', { topic: 'orders' })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'record is required' });
    await expect(rpc.call('Produce', { topic: '', record: { headers: [] } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'topic is required' });
    await expect(rpc.call('Produce', { topic: 'bad/name', record: { headers: [] } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT' });
    await expect(rpc.call('ProduceBatch', { topic: 'single', partition: 0 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'records is empty' });
    await expect(rpc.call('ProduceBatch', { topic: 'single', partition: 0, records: [{ headers: [] }], kafkaRecordBatch: Buffer.from('x') })).rejects.toMatchObject({
      codeName: 'INVALID_ARGUMENT',
      details: 'give either records or kafka_record_batch, not both',
    });
    const corrupt = buildRecordBatch({ baseOffset: 0n, records: [{ key: null, value: Buffer.from('v'), timestamp: 1n }] });
    corrupt[corrupt.length - 1] ^= 0xff;
    await expect(rpc.call('ProduceBatch', { topic: 'single', partition: 0, kafkaRecordBatch: corrupt })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', kafkaError: 'CORRUPT_MESSAGE' });
    await expect(rpc.call('Produce', { topic: 'single', record: { value: Buffer.alloc(1_100_000), headers: [] } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', kafkaError: 'MESSAGE_TOO_LARGE' });
    await expect(rpc.call('Produce', { topic: 'single', record: { headers: [], timestampMs: '-5' } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'record 0: timestamp_ms -5 is negative' });
  });

  it('maps a partition that cannot be written to UNAVAILABLE', async () => {
    const log = b.broker.services.log;
    const original = log.append.bind(log);
    const { LogError } = await import('../agent/log-service.js');
    log.append = () => Promise.reject(new LogError(6, 'This server is not the leader for that topic-partition.'));
    try {
      await expect(rpc.call('Produce', { topic: 'single', partition: 0, record: { headers: [] } })).rejects.toMatchObject({
        codeName: 'UNAVAILABLE',
        details: 'This server is not the leader for that topic-partition.',
        kafkaError: 'NOT_LEADER_OR_FOLLOWER',
        unreachable: false,
      });
    } finally {
      log.append = original;
    }
  });

  it('acks NONE answers offset -1 and the record is still written', async () => {
    await rpc.call('CreateTopic', { name: 'acks0', partitions: 1 });
    const res = await rpc.call('Produce', { topic: 'acks0', partition: 0, acks: 'ACKS_NONE', record: { value: Buffer.from('fire'), headers: [] } });
    expect(res.offset).toBe('-1');
    const c = await rpc.call('Consume', { topic: 'acks0', partition: 0, offset: '0', maxWaitMs: 2000 });
    expect(simple(c.records)).toEqual([{ offset: '0', key: null, value: 'fire' }]);
  });
});

describe('ConsumerService', () => {
  it('Consume limits records and reports where to continue', async () => {
    await rpc.call('CreateTopic', { name: 'c1', partitions: 1 });
    await rpc.call('ProduceBatch', { topic: 'c1', partition: 0, records: [...Array(10).keys()].map((i) => ({ value: Buffer.from(`r${i}`), headers: [] })) });
    const first = await rpc.call('Consume', { topic: 'c1', partition: 0, offset: '3', maxRecords: 4 });
    expect(simple(first.records).map((r) => r.value)).toEqual(['r3', 'r4', 'r5', 'r6']);
    expect(first.nextOffset).toBe('7');
    const end = await rpc.call('Consume', { topic: 'c1', partition: 0, offset: '10' });
    expect(end).toEqual({ records: [], highWatermark: '10', logStartOffset: '0', nextOffset: '10' });
  });

  it('Consume without an offset starts per offset_reset, or at the group\'s committed offset', async () => {
    expect((await rpc.call('Consume', { topic: 'c1', partition: 0, maxRecords: 1 })).records[0]!.offset).toBe('0');
    expect(await rpc.call('Consume', { topic: 'c1', partition: 0, offsetReset: 'OFFSET_RESET_LATEST' })).toMatchObject({ records: [], nextOffset: '10' });
    await rpc.call('CommitOffset', { group: 'g-start', topic: 'c1', partition: 0, offset: '8' });
    expect(simple((await rpc.call('Consume', { topic: 'c1', partition: 0, group: 'g-start' })).records).map((r) => r.offset)).toEqual(['8', '9']);
    await expect(rpc.call('Consume', { topic: 'c1', partition: 0, group: 'g-none', offsetReset: 'OFFSET_RESET_NONE' })).rejects.toMatchObject({
      codeName: 'FAILED_PRECONDITION',
      details: "group 'g-none' has no committed offset for c1-0 and offset_reset is NONE",
    });
  });

  it('Consume answers OUT_OF_RANGE past the high watermark and NOT_FOUND for unknown partitions', async () => {
    await expect(rpc.call('Consume', { topic: 'c1', partition: 0, offset: '11' })).rejects.toMatchObject({ codeName: 'OUT_OF_RANGE', kafkaError: 'OFFSET_OUT_OF_RANGE' });
    await expect(rpc.call('Consume', { topic: 'c1', partition: 0, offset: '-2' })).rejects.toMatchObject({ codeName: 'OUT_OF_RANGE' });
    await expect(rpc.call('Consume', { topic: 'c1', partition: 1 })).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
    await expect(rpc.call('Consume', { topic: 'ghost', partition: 0 })).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'ghost' does not exist" });
    await expect(rpc.call('Consume', { topic: 'c1', partition: 0, maxRecords: -1 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'max_records must be 0 or more, got -1' });
  });

  it('Consume long-polls until a record arrives', async () => {
    await rpc.call('CreateTopic', { name: 'lp', partitions: 1 });
    const started = Date.now();
    const pending = rpc.call('Consume', { topic: 'lp', partition: 0, offset: '0', maxWaitMs: 5000 });
    setTimeout(() => void rpc.call('Produce', { topic: 'lp', partition: 0, record: { value: Buffer.from('late'), headers: [] } }), 200);
    const res = await pending;
    expect(simple(res.records)).toEqual([{ offset: '0', key: null, value: 'late' }]);
    expect(Date.now() - started).toBeLessThan(4000);
    const idle = Date.now();
    expect((await rpc.call('Consume', { topic: 'lp', partition: 0, offset: '1', maxWaitMs: 300 })).records).toEqual([]);
    expect(Date.now() - idle).toBeGreaterThanOrEqual(290);
  });

  it('CommitOffset and GetOffset', async () => {
    await rpc.call('CommitOffset', { group: 'g1', topic: 'c1', partition: 0, offset: '4', metadata: 'm' });
    expect(await rpc.call('GetOffset', { topic: 'c1', partition: 0, group: 'g1' })).toEqual({ offset: '4', found: true, highWatermark: '10', logStartOffset: '0' });
    expect(await rpc.call('GetOffset', { topic: 'c1', partition: 0, group: 'other' })).toEqual({ offset: '-1', found: false, highWatermark: '10', logStartOffset: '0' });
    expect((await rpc.call('GetOffset', { topic: 'c1', partition: 0, spec: 'OFFSET_SPEC_EARLIEST' })).offset).toBe('0');
    expect((await rpc.call('GetOffset', { topic: 'c1', partition: 0, spec: 'OFFSET_SPEC_LATEST' })).offset).toBe('10');
    await rpc.call('CreateTopic', { name: 'ts', partitions: 1 });
    await rpc.call('ProduceBatch', { topic: 'ts', partition: 0, records: [100, 200, 300].map((t) => ({ value: Buffer.from('x'), headers: [], timestampMs: String(t) })) });
    expect(await rpc.call('GetOffset', { topic: 'ts', partition: 0, spec: 'OFFSET_SPEC_TIMESTAMP', timestampMs: '150' })).toMatchObject({ offset: '1', found: true });
    expect(await rpc.call('GetOffset', { topic: 'ts', partition: 0, spec: 'OFFSET_SPEC_TIMESTAMP', timestampMs: '301' })).toMatchObject({ offset: '-1', found: false });
    await expect(rpc.call('CommitOffset', { group: '', topic: 'c1', partition: 0, offset: '1' })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'group is required' });
    await expect(rpc.call('CommitOffset', { group: 'g1', topic: 'c1', partition: 0, offset: '-1' })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'offset must be 0 or more, got -1' });
    await expect(rpc.call('GetOffset', { topic: 'c1', partition: 0 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', details: 'group is required' });
  });

  it('Subscribe streams existing and new records in order', async () => {
    await rpc.call('CreateTopic', { name: 'sub', partitions: 1 });
    await rpc.call('ProduceBatch', { topic: 'sub', partition: 0, records: [...Array(700).keys()].map((i) => ({ value: Buffer.from(`s${i}`), headers: [] })) });
    const stream = rpc.subscribe({ topic: 'sub', partition: 0, offset: '100', maxRecords: 250 });
    const seen: string[] = [];
    const sizes: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: SubscribeResponseMsg) => {
        sizes.push(m.records.length);
        for (const r of m.records) seen.push(r.value!.toString());
        if (seen.length === 700) resolve();
      });
      stream.on('error', (e: { code: number }) => (e.code === 1 ? undefined : reject(e)));
    });
    await sleep(100);
    await rpc.call('ProduceBatch', { topic: 'sub', partition: 0, records: [...Array(100).keys()].map((i) => ({ value: Buffer.from(`s${700 + i}`), headers: [] })) });
    await done;
    stream.cancel();
    expect(seen).toEqual([...Array(700).keys()].map((i) => `s${i + 100}`));
    expect(sizes.every((n) => n > 0 && n <= 250)).toBe(true);
  });

  it('Subscribe to an unknown topic ends with NOT_FOUND', async () => {
    const stream = rpc.subscribe({ topic: 'ghost', partition: 0 });
    const err = await new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    expect(err).toMatchObject({ code: 5, details: "topic 'ghost' does not exist" });
  });
});

describe('AdminService', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const created = await rpc.call('CreateTopic', { name: 'adm', partitions: 2, configs: { 'cleanup.policy': 'compact' } });
    expect(created).toMatchObject({ name: 'adm', partitionCount: 2, configs: { 'cleanup.policy': 'compact' } });
    expect(created.partitions.map((p) => [p.partition, p.highWatermark, p.logStartOffset, p.leaderNodeId])).toEqual([
      [0, '0', '0', 0],
      [1, '0', '0', 0],
    ]);
    await rpc.call('ProduceBatch', { topic: 'adm', partition: 1, records: [{ value: Buffer.from('a'), headers: [] }, { value: Buffer.from('b'), headers: [] }] });
    const described = await rpc.call('DescribeTopic', { name: 'adm' });
    expect(described.partitions[1]).toMatchObject({ partition: 1, highWatermark: '2', logStartOffset: '0', leaderAgentId: b.broker.services.config.agentId });
    const listed = await rpc.call('ListTopics', {});
    expect(listed.topics.find((t) => t.name === 'adm')).toEqual({ name: 'adm', partitionCount: 2, recordCount: '2' });
    await expect(rpc.call('CreateTopic', { name: 'adm', partitions: 1 })).rejects.toMatchObject({ codeName: 'ALREADY_EXISTS', details: "Topic 'adm' already exists." });
    await expect(rpc.call('CreateTopic', { name: 'x', partitions: -3 })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT' });
    await expect(rpc.call('CreateTopic', { name: 'y', partitions: 1, configs: { 'cleanup.policy': 'sometimes' } })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT', kafkaError: 'INVALID_CONFIG' });
    await rpc.call('DeleteTopic', { name: 'adm' });
    await expect(rpc.call('DescribeTopic', { name: 'adm' })).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'adm' does not exist" });
    await expect(rpc.call('DeleteTopic', { name: 'adm' })).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
  });

  it('lists and describes groups with lag, and resets offsets', async () => {
    await rpc.call('CreateTopic', { name: 'lag', partitions: 2 });
    await rpc.call('ProduceBatch', { topic: 'lag', partition: 0, records: [...Array(10).keys()].map(() => ({ value: Buffer.from('x'), headers: [] })) });
    await rpc.call('ProduceBatch', { topic: 'lag', partition: 1, records: [...Array(5).keys()].map(() => ({ value: Buffer.from('x'), headers: [] })) });
    await rpc.call('CommitOffset', { group: 'lagging', topic: 'lag', partition: 0, offset: '7' });
    await rpc.call('CommitOffset', { group: 'lagging', topic: 'lag', partition: 1, offset: '1' });
    const g = await rpc.call('DescribeGroup', { groupId: 'lagging' });
    expect(g.totalLag).toBe('7');
    expect(g.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.highWatermark, o.lag])).toEqual([
      ['lag', 0, '7', '10', '3'],
      ['lag', 1, '1', '5', '4'],
    ]);
    const listed = await rpc.call('ListGroups', {});
    expect(listed.groups.find((x) => x.groupId === 'lagging')).toMatchObject({ totalLag: '7', partitionCount: 2, memberCount: 0 });
    await expect(rpc.call('DescribeGroup', { groupId: 'never' })).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "consumer group 'never' does not exist" });

    const dry = await rpc.call('ResetGroupOffsets', { groupId: 'lagging', topic: 'lag', to: 'OFFSET_SPEC_LATEST', dryRun: true });
    expect(dry.offsets.map((o) => [o.partition, o.committedOffset, o.lag])).toEqual([
      [0, '10', '0'],
      [1, '5', '0'],
    ]);
    expect((await rpc.call('DescribeGroup', { groupId: 'lagging' })).totalLag).toBe('7');
    await rpc.call('ResetGroupOffsets', { groupId: 'lagging', topic: 'lag', partitions: [1], to: 'OFFSET_SPEC_EARLIEST' });
    await rpc.call('ResetGroupOffsets', { groupId: 'lagging', topic: 'lag', partitions: [0], offset: '99' });
    expect((await rpc.call('DescribeGroup', { groupId: 'lagging' })).offsets.map((o) => o.committedOffset)).toEqual(['10', '0']);
    await expect(rpc.call('ResetGroupOffsets', { groupId: 'lagging', topic: 'lag', partitions: [2], to: 'OFFSET_SPEC_EARLIEST' })).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
    await expect(rpc.call('ResetGroupOffsets', { groupId: 'lagging', topic: 'lag', to: 'OFFSET_SPEC_COMMITTED' })).rejects.toMatchObject({ codeName: 'INVALID_ARGUMENT' });
  });

  it('lists this agent with its partitions, and answers health', async () => {
    const { agents } = await rpc.call('ListAgents', {});
    expect(agents).toHaveLength(1);
    const topics = await b.broker.services.topics.list();
    expect(agents[0]).toMatchObject({ agentId: b.broker.services.config.agentId, nodeId: 0, kafkaAddress: '127.0.0.1:9092', grpcPort: b.broker.grpcPort, httpPort: b.broker.httpPort, rack: '' });
    expect(agents[0]!.partitions).toHaveLength(topics.reduce((n, t) => n + t.partitionCount, 0));
    const health = await rpc.call('Health', {});
    expect(health).toMatchObject({ status: 'SERVING', agentId: b.broker.services.config.agentId, clusterId: b.broker.services.cluster.clusterId, version: VERSION });
  });
});
