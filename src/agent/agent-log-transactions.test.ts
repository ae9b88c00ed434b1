import { describe, it, expect, afterEach } from 'vitest';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLog, iterateBatches } from './agent-log.js';
import { LogError, type TransactionVerifier } from './log-service.js';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import type { MetadataStore, Topic } from '../metadata/metadata-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-object-store.js';
import { buildRecordBatch, decodeRecords } from '../protocol/records/record-codec.js';
import { readBatchHeader } from '../protocol/records/record-batch.js';
import { controlRecordType, ControlRecordType } from '../protocol/records/control-batch.js';
import { ErrorCode } from '../protocol/error-codes.js';

const logger = pino({ level: 'silent' });
const PID = 4000n;

function txnBatch(values: string[], seq: number, opts: { epoch?: number; producerId?: bigint } = {}): Buffer {
  return buildRecordBatch({
    baseOffset: 0n,
    records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_700_000_000_000n + BigInt(i) })),
    producerId: opts.producerId ?? PID,
    producerEpoch: opts.epoch ?? 0,
    baseSequence: seq,
    isTransactional: true,
  });
}

function plainBatch(values: string[]): Buffer {
  return buildRecordBatch({ baseOffset: 0n, records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_700_000_000_000n + BigInt(i) })) });
}

/** Each batch of a read: its base offset, and its values or its marker type. */
function layout(records: Buffer): Array<{ offset: bigint; values?: string[]; marker?: 'COMMIT' | 'ABORT' }> {
  const out: Array<{ offset: bigint; values?: string[]; marker?: 'COMMIT' | 'ABORT' }> = [];
  for (const b of iterateBatches(records)) {
    const h = readBatchHeader(b);
    if (h.isControl) out.push({ offset: h.baseOffset, marker: controlRecordType(b) === ControlRecordType.COMMIT ? 'COMMIT' : 'ABORT' });
    else out.push({ offset: h.baseOffset, values: decodeRecords(b).records.map((r) => r.value!.toString()) });
  }
  return out;
}

describe('AgentLog transactions', () => {
  let dir: string;
  let metadata: MetadataStore;
  let objects: MemoryObjectStore;
  let topic: Topic;
  const logs: AgentLog[] = [];
  const checks: string[] = [];
  /** What the coordinator answers; the default confirms every check. */
  let verdict: () => Promise<void> = async () => {};

  const verifier: TransactionVerifier = async (c) => {
    checks.push(`${c.transactionalId}/${c.producerId}/${c.producerEpoch}/${c.topic}-${c.partition}`);
    await verdict();
  };

  function open(): AgentLog {
    const log = new AgentLog({ agentId: 'a1', metadata, objects, logger, flushMaxBytes: 1 << 20, flushIntervalMs: 5, recentWriteCacheBytes: 1 << 20, fetchCacheBytes: 1 << 20, topicPolicy: () => undefined });
    log.transactionVerifier = verifier;
    logs.push(log);
    return log;
  }

  async function setup(): Promise<AgentLog> {
    dir = mkdtempSync(join(tmpdir(), 'agent-log-txn-'));
    metadata = await openMetadataStore(`sqlite://${join(dir, 'meta.db')}`);
    objects = new MemoryObjectStore();
    topic = await metadata.topics.create({ name: 't', partitionCount: 1, configs: {} });
    checks.length = 0;
    verdict = async () => {};
    return open();
  }

  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    await metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deadline = () => Date.now() + 5000;
  const marker = (commit: boolean, epoch = 0) => ({ topic: 't', partition: 0, producerId: PID, producerEpoch: epoch, commit, coordinatorEpoch: 0, deadlineMs: deadline() });

  it('holds the last stable offset at an open transaction; a COMMIT releases it, an ABORT records its range for read_committed', async () => {
    const log = await setup();
    await log.append({ topic, partition: 0, batches: [plainBatch(['p0'])], deadlineMs: deadline() });
    await log.append({ topic, partition: 0, batches: [txnBatch(['t0', 't1'], 0)], deadlineMs: deadline(), transactionalId: 'tx' });
    await log.append({ topic, partition: 0, batches: [txnBatch(['t2'], 2)], deadlineMs: deadline(), transactionalId: 'tx' });
    // the coordinator was asked once for the transaction on this partition
    expect(checks).toEqual([`tx/${PID}/0/t-0`]);
    expect(await log.offsets('t', 0)).toEqual({ highWatermark: 4n, logStartOffset: 0n, lastStableOffset: 1n });
    const committedRead = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20, readCommitted: true });
    expect(layout(committedRead.records)).toEqual([{ offset: 0n, values: ['p0'] }]);
    expect([committedRead.lastStableOffset, committedRead.highWatermark]).toEqual([1n, 4n]);

    expect(await log.appendMarker(marker(false))).toBe(4n);
    expect(await log.offsets('t', 0)).toEqual({ highWatermark: 5n, logStartOffset: 0n, lastStableOffset: 5n });
    await log.append({ topic, partition: 0, batches: [txnBatch(['t3'], 3)], deadlineMs: deadline(), transactionalId: 'tx' });
    // a new transaction on the partition is checked again
    expect(checks).toHaveLength(2);
    expect(await log.appendMarker(marker(true))).toBe(6n);

    const all = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20, readCommitted: true });
    expect(layout(all.records)).toEqual([
      { offset: 0n, values: ['p0'] },
      { offset: 1n, values: ['t0', 't1'] },
      { offset: 3n, values: ['t2'] },
      { offset: 4n, marker: 'ABORT' },
      { offset: 5n, values: ['t3'] },
      { offset: 6n, marker: 'COMMIT' },
    ]);
    expect(all.abortedTransactions).toEqual([{ topic: 't', partition: 0, producerId: PID, firstOffset: 1n, lastOffset: 4n }]);
    // a read past the aborted range is not told about it; read_uncommitted never is
    expect((await log.read({ topic: 't', partition: 0, offset: 5n, maxBytes: 1 << 20, readCommitted: true })).abortedTransactions).toEqual([]);
    expect((await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20 })).abortedTransactions).toEqual([]);
    expect(await metadata.partitions.abortedTransactions('t', 0, 0n)).toEqual([{ topic: 't', partition: 0, producerId: PID, firstOffset: 1n, lastOffset: 4n }]);

    // a new leader (restart) loads the open transaction and the aborted range from the store
    await log.append({ topic, partition: 0, batches: [txnBatch(['t4'], 4)], deadlineMs: deadline(), transactionalId: 'tx' });
    await log.close();
    const fresh = open();
    expect(await fresh.offsets('t', 0)).toEqual({ highWatermark: 8n, logStartOffset: 0n, lastStableOffset: 7n });
    expect((await fresh.read({ topic: 't', partition: 0, offset: 2n, maxBytes: 1 << 20, readCommitted: true })).abortedTransactions).toEqual([{ topic: 't', partition: 0, producerId: PID, firstOffset: 1n, lastOffset: 4n }]);
    // DeleteRecords past the marker forgets the range
    expect(await fresh.deleteRecords('t', 0, 5n)).toBe(5n);
    expect((await fresh.read({ topic: 't', partition: 0, offset: 5n, maxBytes: 1 << 20, readCommitted: true })).abortedTransactions).toEqual([]);
    expect(await metadata.partitions.abortedTransactions('t', 0, 0n)).toEqual([]);
  });

  it('refuses a transactional batch the coordinator does not confirm, and writes nothing', async () => {
    const log = await setup();
    verdict = async () => {
      throw new LogError(ErrorCode.INVALID_TXN_STATE, 'not in the transaction');
    };
    await expect(log.append({ topic, partition: 0, batches: [txnBatch(['x'], 0)], deadlineMs: deadline(), transactionalId: 'tx' })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    await expect(log.append({ topic, partition: 0, batches: [txnBatch(['x'], 0)], deadlineMs: deadline() })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    expect(await log.offsets('t', 0)).toEqual({ highWatermark: 0n, logStartOffset: 0n, lastStableOffset: 0n });
  });

  it('keeps call order through the check: a plain append called after a transactional one lands after it', async () => {
    const log = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    verdict = () => gate;
    const first = log.append({ topic, partition: 0, batches: [txnBatch(['t0'], 0)], deadlineMs: deadline(), transactionalId: 'tx' });
    const second = log.append({ topic, partition: 0, batches: [plainBatch(['p0'])], deadlineMs: deadline() });
    release();
    expect([(await first).baseOffset, (await second).baseOffset]).toEqual([0n, 1n]);
  });

  it('queues a marker behind a check in flight, and fences the old epoch once a newer marker is queued', async () => {
    const log = await setup();
    await log.append({ topic, partition: 0, batches: [txnBatch(['t0'], 0)], deadlineMs: deadline(), transactionalId: 'tx' });
    // the coordinator fences epoch 0: an ABORT under epoch 1
    const aborted = log.appendMarker(marker(false, 1));
    // a batch of the old epoch, after the marker was queued but before it committed
    await expect(log.append({ topic, partition: 0, batches: plainBatchOfProducer(['late'], 1, 0), deadlineMs: deadline() })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await aborted).toBe(1n);
    // a marker of an epoch older than the partition knows is refused
    await expect(log.appendMarker(marker(true, 0))).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    // a marker called while a batch of its transaction is being checked lands after that batch
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    verdict = () => gate;
    const racing = log.append({ topic, partition: 0, batches: [txnBatch(['t1'], 0, { epoch: 1 })], deadlineMs: deadline(), transactionalId: 'tx' });
    await new Promise((r) => setTimeout(r, 10));
    const racingMarker = log.appendMarker(marker(false, 1));
    release();
    expect((await racing).baseOffset).toBe(2n);
    expect(await racingMarker).toBe(3n);
    const read = await log.read({ topic: 't', partition: 0, offset: 0n, maxBytes: 1 << 20, readCommitted: true });
    expect(layout(read.records)).toEqual([
      { offset: 0n, values: ['t0'] },
      { offset: 1n, marker: 'ABORT' },
      { offset: 2n, values: ['t1'] },
      { offset: 3n, marker: 'ABORT' },
    ]);
    expect(read.abortedTransactions).toEqual([
      { topic: 't', partition: 0, producerId: PID, firstOffset: 0n, lastOffset: 1n },
      { topic: 't', partition: 0, producerId: PID, firstOffset: 2n, lastOffset: 3n },
    ]);
    expect((await log.offsets('t', 0)).lastStableOffset).toBe(4n);
  });
});

/** An idempotent, non-transactional batch of PID. */
function plainBatchOfProducer(values: string[], seq: number, epoch: number): Buffer[] {
  return [buildRecordBatch({ baseOffset: 0n, records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_700_000_000_000n + BigInt(i) })), producerId: PID, producerEpoch: epoch, baseSequence: seq })];
}
