import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogError } from '../../agent/log-service.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { CompressionType } from '../../protocol/records/compression.js';
import { readBatchHeader, splitBatches } from '../../protocol/records/record-batch.js';
import { decodeRecords } from '../../protocol/records/record-codec.js';
import { partitionForKey } from '../../protocol/murmur2.js';
import { startGrpcTestBroker, type GrpcTestBroker } from '../test-support/grpc-broker.js';
import { AdminClient } from './admin-client.js';
import { Producer } from './producer.js';

let b: GrpcTestBroker;
let admin: AdminClient;

beforeAll(async () => {
  b = await startGrpcTestBroker();
  admin = new AdminClient({ address: b.address });
});

afterAll(async () => {
  admin.close();
  await b.close();
});

async function batchesOf(topic: string, partition: number): Promise<Buffer[]> {
  const r = await b.broker.services.log.read({ topic, partition, offset: 0n, maxBytes: 64 << 20 });
  return splitBatches(r.records).batches;
}

describe('Producer', () => {
  it('lingers and sends one batch per partition, resolving each record to its offset', async () => {
    await admin.createTopic('p-linger', { partitions: 1 });
    const producer = new Producer({ address: b.address, lingerMs: 50 });
    const sent = await Promise.all([...Array(100).keys()].map((i) => producer.send({ topic: 'p-linger', value: `v${i}`, headers: { i: String(i) }, timestamp: 1700000000000 + i })));
    await producer.close();
    expect(sent.map((m) => m.offset)).toEqual([...Array(100).keys()].map((i) => BigInt(i)));
    expect(sent.every((m) => m.partition === 0 && m.topic === 'p-linger')).toBe(true);
    const batches = await batchesOf('p-linger', 0);
    expect(batches).toHaveLength(1);
    const decoded = decodeRecords(batches[0]!).records;
    expect(decoded.map((r) => [r.value!.toString(), r.headers[0]!.value!.toString(), r.timestamp])).toEqual(
      [...Array(100).keys()].map((i) => [`v${i}`, String(i), 1700000000000n + BigInt(i)]),
    );
  });

  it('cuts batches at batchMaxRecords and at batchMaxBytes', async () => {
    await admin.createTopic('p-size', { partitions: 2 });
    const byCount = new Producer({ address: b.address, batchMaxRecords: 10, lingerMs: 1000 });
    await Promise.all([...Array(100).keys()].map((i) => byCount.send({ topic: 'p-size', partition: 0, value: `${i}` })));
    await byCount.close();
    expect((await batchesOf('p-size', 0)).map((x) => readBatchHeader(x).recordCount)).toEqual(Array(10).fill(10));

    // each record counts 1000 value bytes + 24 overhead: four fit under 5000, a fifth does not
    const bySize = new Producer({ address: b.address, batchMaxBytes: 5000, lingerMs: 1000 });
    await Promise.all([...Array(10).keys()].map(() => bySize.send({ topic: 'p-size', partition: 1, value: Buffer.alloc(1000, 1) })));
    await bySize.close();
    expect((await batchesOf('p-size', 1)).map((x) => readBatchHeader(x).recordCount)).toEqual([4, 4, 2]);
  });

  it('partitions keyed records with murmur2 and keeps one partition per batch for null keys', async () => {
    await admin.createTopic('p-keys', { partitions: 5 });
    const producer = new Producer({ address: b.address });
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const sent = await Promise.all(keys.map((k) => producer.send({ topic: 'p-keys', key: k, value: 'x' })));
    expect(sent.map((m) => m.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 5)));
    const unkeyed = await Promise.all([...Array(20).keys()].map(() => producer.send({ topic: 'p-keys', value: 'y' })));
    expect(new Set(unkeyed.map((m) => m.partition)).size).toBe(1);
    await producer.close();
  });

  it('compresses batches with LZ4 unless told not to (and not when tiny)', async () => {
    await admin.createTopic('p-lz4', { partitions: 3 });
    const lz4 = new Producer({ address: b.address });
    await Promise.all([...Array(50).keys()].map((i) => lz4.send({ topic: 'p-lz4', partition: 0, value: `compressible value ${i} `.repeat(10) })));
    await lz4.send({ topic: 'p-lz4', partition: 1, value: 'tiny' });
    await lz4.close();
    const plain = new Producer({ address: b.address, compression: 'none' });
    await Promise.all([...Array(50).keys()].map((i) => plain.send({ topic: 'p-lz4', partition: 2, value: `compressible value ${i} `.repeat(10) })));
    await plain.close();
    expect((await batchesOf('p-lz4', 0)).map((x) => readBatchHeader(x).compression)).toEqual([CompressionType.Lz4]);
    expect((await batchesOf('p-lz4', 1)).map((x) => readBatchHeader(x).compression)).toEqual([CompressionType.None]);
    expect((await batchesOf('p-lz4', 2)).map((x) => readBatchHeader(x).compression)).toEqual([CompressionType.None]);
  });

  it('retries a batch after UNAVAILABLE and fails at once on NOT_FOUND', async () => {
    await admin.createTopic('p-retry', { partitions: 1 });
    const log = b.broker.services.log;
    const original = log.append.bind(log);
    let refusals = 2;
    log.append = (req) => (refusals-- > 0 ? Promise.reject(new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'moving')) : original(req));
    try {
      const producer = new Producer({ address: b.address, initialBackoffMs: 5, maxBackoffMs: 20 });
      expect(await producer.send({ topic: 'p-retry', value: 'once' })).toEqual({ topic: 'p-retry', partition: 0, offset: 0n });
      expect(refusals).toBe(-1);
      await expect(producer.send({ topic: 'p-retry', partition: 3, value: 'x' })).rejects.toMatchObject({ codeName: 'NOT_FOUND' });
      refusals = 100;
      const giveUp = new Producer({ address: b.address, retries: 2, initialBackoffMs: 1, maxBackoffMs: 2 });
      await expect(giveUp.send({ topic: 'p-retry', partition: 0, value: 'never' })).rejects.toMatchObject({ codeName: 'UNAVAILABLE', kafkaError: 'NOT_LEADER_OR_FOLLOWER' });
      expect(refusals).toBe(97);
      await producer.close();
      await giveUp.close();
    } finally {
      log.append = original;
    }
    expect((await batchesOf('p-retry', 0)).length).toBe(1);
  });

  it('sends the batches that lingered while one was in flight together, in order, within the limits', async () => {
    await admin.createTopic('p-merge', { partitions: 1 });
    const log = b.broker.services.log;
    const original = log.append.bind(log);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let appends = 0;
    log.append = async (req) => {
      if (appends++ === 0) await held; // the first batch stays in flight
      return original(req);
    };
    try {
      const producer = new Producer({ address: b.address, lingerMs: 1, batchMaxRecords: 25 });
      const first = producer.send({ topic: 'p-merge', value: 'first' });
      await new Promise((r) => setTimeout(r, 50));
      // 60 sends, a few milliseconds apart: each linger closes a small batch behind the first
      const rest: Array<Promise<{ offset: bigint }>> = [];
      for (let i = 0; i < 60; i++) {
        rest.push(producer.send({ topic: 'p-merge', value: `v${i}` }));
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 20));
      release();
      expect((await first).offset).toBe(0n);
      expect((await Promise.all(rest)).map((m) => m.offset)).toEqual([...Array(60).keys()].map((i) => BigInt(i + 1)));
      await producer.close();
    } finally {
      log.append = original;
    }
    // the first alone, then the waiting ones in batches of at most 25 (not one per linger)
    const counts = (await batchesOf('p-merge', 0)).map((x) => readBatchHeader(x).recordCount);
    expect(counts[0]).toBe(1);
    expect(counts.slice(1).every((n) => n <= 25)).toBe(true);
    expect(counts.slice(1).reduce((a, n) => a + n, 0)).toBe(60);
    expect(counts.length).toBeLessThanOrEqual(4);
    const values = (await batchesOf('p-merge', 0)).flatMap((x) => decodeRecords(x).records.map((r) => r.value!.toString()));
    expect(values).toEqual(['first', ...[...Array(60).keys()].map((i) => `v${i}`)]);
  });

  it('flush() sends without waiting for the linger; a closed producer refuses sends', async () => {
    await admin.createTopic('p-flush', { partitions: 1 });
    const producer = new Producer({ address: b.address, lingerMs: 60_000 });
    const pending = producer.send({ topic: 'p-flush', value: 'now' });
    const started = Date.now();
    await producer.flush();
    expect(await pending).toEqual({ topic: 'p-flush', partition: 0, offset: 0n });
    expect(Date.now() - started).toBeLessThan(5000);
    await producer.close();
    await expect(producer.send({ topic: 'p-flush', value: 'late' })).rejects.toThrow('producer is closed');
  });

  it('acks none resolves to offset -1', async () => {
    await admin.createTopic('p-acks', { partitions: 1 });
    const producer = new Producer({ address: b.address, acks: 'none' });
    expect(await producer.send({ topic: 'p-acks', value: 'v' })).toEqual({ topic: 'p-acks', partition: 0, offset: -1n });
    await producer.close();
  });

  it('a topic the broker does not know fails with NOT_FOUND when it does not auto-create', async () => {
    const producer = new Producer({ address: b.address });
    await expect(producer.send({ topic: 'p-missing', value: 'v' })).rejects.toMatchObject({ codeName: 'NOT_FOUND', details: "topic 'p-missing' does not exist" });
    await producer.close();
  });

  it('validates its options', () => {
    expect(() => new Producer({ batchMaxRecords: 0 })).toThrow('batchMaxRecords must be a positive integer, got 0');
    expect(() => new Producer({ lingerMs: -1 })).toThrow('lingerMs must be 0 or more, got -1');
  });
});

describe('Producer with auto-created topics', () => {
  it('sends the first record of an unknown topic alone, then batches', async () => {
    const auto = await startGrpcTestBroker({ autoCreateTopics: true, defaultPartitions: 2 });
    try {
      const producer = new Producer({ address: auto.address });
      const first = await producer.send({ topic: 'fresh', key: 'k', value: 'v0' });
      expect(first).toEqual({ topic: 'fresh', partition: partitionForKey(Buffer.from('k'), 2), offset: 0n });
      const next = await producer.send({ topic: 'fresh', key: 'k', value: 'v1' });
      expect(next).toEqual({ ...first, offset: 1n });
      await producer.close();
    } finally {
      await auto.close();
    }
  });
});
