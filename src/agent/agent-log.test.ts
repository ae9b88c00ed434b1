import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLog } from './agent-log.js';
import { LogError } from './log-service.js';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import type { MetadataStore, Topic } from '../metadata/metadata-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-object-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { buildRecordBatch } from '../protocol/records/record-codec.js';
import { decodeRecords } from '../protocol/records/record-codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { iterateBatches } from './agent-log.js';

const logger = pino({ level: 'silent' });

/** An object store whose puts can be made to fail. */
class FlakyStore extends MemoryObjectStore {
  failPuts = 0;
  puts = 0;
  override async put(key: string, body: Buffer): Promise<void> {
    this.puts++;
    if (this.failPuts > 0) {
      this.failPuts--;
      throw new Error('injected upload failure');
    }
    return super.put(key, body);
  }
}

function batch(values: string[], opts: { producerId?: bigint; epoch?: number; seq?: number; ts?: bigint } = {}): Buffer {
  return buildRecordBatch({
    baseOffset: 0n,
    records: values.map((v, i) => ({ key: Buffer.from(`k-${v}`), value: Buffer.from(v), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: (opts.ts ?? 1_700_000_000_000n) + BigInt(i) })),
    ...(opts.producerId !== undefined ? { producerId: opts.producerId, producerEpoch: opts.epoch ?? 0, baseSequence: opts.seq ?? 0 } : {}),
  });
}

function valuesOf(records: Buffer): Array<{ offset: bigint; value: string }> {
  const out: Array<{ offset: bigint; value: string }> = [];
  for (const b of iterateBatches(records)) for (const r of decodeRecords(b).records) out.push({ offset: r.offset, value: r.value!.toString() });
  return out;
}

describe('AgentLog', () => {
  let dir: string;
  let metadata: MetadataStore;
  let objects: FlakyStore;
  let topic: Topic;
  const logs: AgentLog[] = [];

  async function setup(flushIntervalMs = 5): Promise<AgentLog> {
    dir = mkdtempSync(join(tmpdir(), 'agent-log-'));
    metadata = await openMetadataStore(`sqlite://${join(dir, 'meta.db')}`);
    objects = new FlakyStore();
    topic = await metadata.topics.create({ name: 't', partitionCount: 2, configs: {} });
    return open(objects, flushIntervalMs);
  }

  function open(store: ObjectStore, flushIntervalMs = 5): AgentLog {
    const log = new AgentLog({ agentId: 'a1', metadata, objects: store, logger, flushMaxBytes: 1 << 20, flushIntervalMs, recentWriteCacheBytes: 1 << 20, fetchCacheBytes: 1 << 20, topicPolicy: () => undefined });
    logs.push(log);
    return log;
  }

  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    await metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('assigns consecutive offsets, writes one object per flush and reads back exact records', async () => {
    const log = await setup(20);
    const deadlineMs = Date.now() + 5000;
    const [a, b, c] = await Promise.all([
      log.append({ topic, partition: 0, batches: [batch(['a0', 'a1'])], deadlineMs }),
      log.append({ topic, partition: 1, batches: [batch(['b0'])], deadlineMs }),
      log.append({ topic, partition: 0, batches: [batch(['a2'])], deadlineMs }),
    ]);
    expect([a.baseOffset, b.baseOffset, c.baseOffset]).toEqual([0n, 0n, 2n]);
    expect(objects.puts).toBe(1);
    const p0 = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20 });
    expect(p0.highWatermark).toBe(3n);
    expect(valuesOf(p0.records)).toEqual([{ offset: 0n, value: 'a0' }, { offset: 1n, value: 'a1' }, { offset: 2n, value: 'a2' }]);
    expect((await metadata.partitions.get('t', 1))?.highWatermark).toBe(1n);
  });

  it('serves reads from the object store after a restart, and continues the offsets', async () => {
    const log = await setup();
    const deadlineMs = Date.now() + 5000;
    await log.append({ topic, partition: 0, batches: [batch(['x', 'y'])], deadlineMs });
    await log.close();
    const fresh = open(objects);
    const r = await fresh.read({ topic: 't', partition: 0, offset: 1n, maxBytes: 100 });
    // the whole batch holding offset 1 comes back
    expect(valuesOf(r.records)).toEqual([{ offset: 0n, value: 'x' }, { offset: 1n, value: 'y' }]);
    const next = await fresh.append({ topic, partition: 0, batches: [batch(['z'])], deadlineMs });
    expect(next.baseOffset).toBe(2n);
  });

  it('reads as views of the cached chunks, contiguous batches of a chunk as one part, without concatenating', async () => {
    const log = await setup(20);
    const deadlineMs = Date.now() + 5000;
    await Promise.all([
      log.append({ topic, partition: 0, batches: [batch(['a0', 'a1'])], deadlineMs }),
      log.append({ topic, partition: 0, batches: [batch(['a2'])], deadlineMs }),
    ]);
    await log.append({ topic, partition: 0, batches: [batch(['a3'])], deadlineMs });
    const r = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20 });
    // two flushes, two chunks: one part each, each a view of the recent-write cache's chunk
    expect(r.parts).toHaveLength(2);
    expect(r.parts[0]!.buffer).toBe(log.recent.find('t\u00000', 0n)!.data.buffer);
    expect(r.parts[1]!.buffer).toBe(log.recent.find('t\u00000', 3n)!.data.buffer);
    expect(r.size).toBe(r.parts[0]!.length + r.parts[1]!.length);
    expect(valuesOf(r.records).map((x) => x.value)).toEqual(['a0', 'a1', 'a2', 'a3']);
    // maxBytes cuts after whole batches: the first always comes back
    const one = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 });
    expect(one.parts).toHaveLength(1);
    expect(valuesOf(one.records).map((x) => x.value)).toEqual(['a0', 'a1']);
    // after a restart the parts are views of the chunk cache's buffers
    await log.close();
    const fresh = open(objects);
    const cold = await fresh.read({ topic: 't', partition: 0, offset: 2n, maxBytes: 1 << 20 });
    expect(cold.parts).toHaveLength(2);
    // the batch a0-a1 ends before offset 2: its chunk contributes only the batch a2
    expect(valuesOf(cold.records).map((x) => x.value)).toEqual(['a2', 'a3']);
    const again = await fresh.read({ topic: 't', partition: 0, offset: 2n, maxBytes: 1 << 20 });
    expect(again.parts[0]!.buffer).toBe(cold.parts[0]!.buffer);
  });

  it('answers OFFSET_OUT_OF_RANGE beyond the HWM and an empty read at it', async () => {
    const log = await setup();
    await log.append({ topic, partition: 0, batches: [batch(['x'])], deadlineMs: Date.now() + 5000 });
    await expect(log.read({ topic: 't', partition: 0, offset: 2n, maxBytes: 10 })).rejects.toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect((await log.read({ topic: 't', partition: 0, offset: 1n, maxBytes: 10 })).records.length).toBe(0);
    await expect(log.read({ topic: 't', partition: 7, offset: 0n, maxBytes: 10 })).rejects.toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  });

  it('retries a failed upload and then commits', async () => {
    const log = await setup();
    objects.failPuts = 2;
    const r = await log.append({ topic, partition: 0, batches: [batch(['x'])], deadlineMs: Date.now() + 10000 });
    expect(r.baseOffset).toBe(0n);
    expect(objects.puts).toBe(3);
  });

  it('fails the append when uploads keep failing past the deadline, commits nothing, and recovers', async () => {
    const log = await setup();
    objects.failPuts = 1_000_000;
    const err = await log.append({ topic, partition: 0, batches: [batch(['x'])], deadlineMs: Date.now() + 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogError);
    expect((err as LogError).errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect((await metadata.partitions.get('t', 0))?.highWatermark).toBe(0n);
    objects.failPuts = 0;
    const ok = await log.append({ topic, partition: 0, batches: [batch(['y'])], deadlineMs: Date.now() + 5000 });
    expect(ok.baseOffset).toBe(0n);
  });

  it('answers a retried idempotent batch with its original offset, also after a restart', async () => {
    const log = await setup();
    const deadlineMs = Date.now() + 5000;
    const first = await log.append({ topic, partition: 0, batches: [batch(['p0', 'p1'], { producerId: 1000n, seq: 0 })], deadlineMs });
    await log.append({ topic, partition: 0, batches: [batch(['q'])], deadlineMs });
    const retry = await log.append({ topic, partition: 0, batches: [batch(['p0', 'p1'], { producerId: 1000n, seq: 0 })], deadlineMs });
    expect(retry.baseOffset).toBe(first.baseOffset);
    await log.close();
    const fresh = open(objects);
    const again = await fresh.append({ topic, partition: 0, batches: [batch(['p0', 'p1'], { producerId: 1000n, seq: 0 })], deadlineMs });
    expect(again.baseOffset).toBe(0n);
    await expect(fresh.append({ topic, partition: 0, batches: [batch(['gap'], { producerId: 1000n, seq: 5 })], deadlineMs })).rejects.toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    const next = await fresh.append({ topic, partition: 0, batches: [batch(['p2'], { producerId: 1000n, seq: 2 })], deadlineMs });
    expect(next.baseOffset).toBe(3n);
    expect((await fresh.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20 })).highWatermark).toBe(4n);
  });

  it('keeps the call order of pipelined idempotent appends, even on first load of the partition', async () => {
    const log = await setup();
    const deadlineMs = Date.now() + 5000;
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((seq) => log.append({ topic, partition: 1, batches: [batch([`v${seq}`], { producerId: 2000n, seq })], deadlineMs })),
    );
    expect(results.map((r) => r.baseOffset)).toEqual([0n, 1n, 2n, 3n, 4n]);
  });

  it('finds the exact first offset at or after a timestamp', async () => {
    const log = await setup();
    const deadlineMs = Date.now() + 5000;
    await log.append({ topic, partition: 0, batches: [batch(['a', 'b', 'c'], { ts: 1000n })], deadlineMs });
    await log.append({ topic, partition: 0, batches: [batch(['d', 'e'], { ts: 2000n })], deadlineMs });
    expect(await log.offsetForTimestamp('t', 0, 1001n)).toEqual({ offset: 1n, timestamp: 1001n });
    expect(await log.offsetForTimestamp('t', 0, 1003n)).toEqual({ offset: 3n, timestamp: 2000n });
    expect(await log.offsetForTimestamp('t', 0, 0n)).toEqual({ offset: 0n, timestamp: 1000n });
    expect(await log.offsetForTimestamp('t', 0, 5000n)).toBeUndefined();
    expect(await log.maxTimestampOffset('t', 0)).toEqual({ offset: 4n, timestamp: 2001n });
  });

  it('wakes a long-poll when data arrives and advances the log start on deleteRecords', async () => {
    const log = await setup();
    const started = Date.now();
    const waiting = log.waitForData([{ topic: 't', partition: 0, offset: 0n }], 5000);
    await log.append({ topic, partition: 0, batches: [batch(['a', 'b'])], deadlineMs: Date.now() + 5000 });
    await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await log.deleteRecords('t', 0, 1n)).toBe(1n);
    await expect(log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 10 })).rejects.toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    await expect(log.deleteRecords('t', 0, 9n)).rejects.toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect(await log.deleteRecords('t', 0, -1n)).toBe(2n);
  });
});
