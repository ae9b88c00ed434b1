// Helpers of the transaction compat tests: topic set-up, the confluent-kafka script, kcat,
// raw ListOffsets at either isolation level, and the expected layout of a partition's log.

import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { RawKafkaClient, storedBatches } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';

export const KCAT = '/usr/bin/kcat';
const SCRIPT = join(import.meta.dirname, 'confluent-transactions.py');

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

export async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'txn-compat-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopics(bootstrap: string, topics: Array<{ topic: string; numPartitions: number }>): Promise<void> {
  const created = await withAdmin(bootstrap, (admin) => admin.createTopics({ topics, waitForLeaders: true }));
  if (!created) throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} already existed`);
}

export interface ConfluentOutput {
  results: unknown[];
  errors: Array<{ code: number; name: string; message: string }>;
}

/** Runs confluent-transactions.py with these ops (see its docstring). */
export async function runConfluent(bootstrap: string, ops: object[], timeoutMs = 60_000): Promise<ConfluentOutput> {
  const res = await runCommand(PYTHON, [SCRIPT], { input: JSON.stringify({ bootstrap, ops }), timeoutMs });
  if (res.code !== 0) throw new Error(`confluent-transactions.py exited with ${res.code}\nstdout: ${res.stdout.slice(-2000)}\nstderr: ${res.stderr.slice(-6000)}`);
  return JSON.parse(res.stdout) as ConfluentOutput;
}

/** [partition, offset, key, value] */
export type Row = [number, number, string | null, string | null];

/** Rows grouped by partition, each partition's in the order they came. */
export function byPartition(rows: readonly Row[], partitions: number): Row[][] {
  const out: Row[][] = Array.from({ length: partitions }, () => []);
  for (const r of rows) out[r[0]]!.push(r);
  return out;
}

/** kcat -C from the beginning to the end (-e) at an isolation level; rows in output order. */
export async function kcatRead(bootstrap: string, topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<Row[]> {
  const res = await runCommand(KCAT, ['-C', '-b', bootstrap, '-t', topic, '-X', `isolation.level=${isolation}`, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%k|%s\\n'], { timeoutMs: 30_000 });
  if (res.code !== 0) throw new Error(`kcat -C (${isolation}) exited with ${res.code}: ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [p, o, k, v] = l.split('|') as [string, string, string, string];
      return [Number(p), Number(o), k, v];
    });
}

/** ListOffsets v7 latest (-1) of every partition at an isolation level: the high watermark or the last stable offset. */
export async function endOffsets(client: RawKafkaClient, topic: string, partitions: number, isolationLevel: number): Promise<number[]> {
  const res = await client.request(2, 7, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) }],
    timeoutMs: 0,
  });
  const parts = [...res.topics[0]!.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
  for (const p of parts) if (p.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${p.partitionIndex} isolation ${isolationLevel}: error ${p.errorCode}`);
  return parts.map((p) => Number(p.offset));
}

/**
 * Kafka answers EndTxn once the outcome is logged and writes the markers after: waits until
 * the last stable offset of every partition reached the high watermark (no transaction open).
 */
export async function waitUntilStable(bootstrap: string, topic: string, partitions: number, timeoutMs = 15_000): Promise<number[]> {
  const client = await RawKafkaClient.connect(bootstrap);
  try {
    let last: { committed: number[]; uncommitted: number[] } = { committed: [], uncommitted: [] };
    await waitUntil(
      `read_committed end offsets of ${topic} to reach the high watermarks`,
      async () => {
        last = { committed: await endOffsets(client, topic, partitions, READ_COMMITTED), uncommitted: await endOffsets(client, topic, partitions, READ_UNCOMMITTED) };
        return last.committed.every((o, i) => o === last.uncommitted[i]);
      },
      timeoutMs,
      () => `last: read_committed ${JSON.stringify(last.committed)}, read_uncommitted ${JSON.stringify(last.uncommitted)}`,
    );
    return last.uncommitted;
  } finally {
    client.close();
  }
}

export interface PlannedRecord {
  partition: number;
  key: string;
  value: string;
}

export interface PlannedTransaction {
  commit: boolean;
  records: PlannedRecord[];
}

export interface ExpectedLog {
  /** Every data record, per partition, with the offset it must get: committed and aborted. */
  all: Row[][];
  /** Only the committed ones. */
  committed: Row[][];
  /** Offsets that hold a transaction marker (control batch), per partition. */
  markers: number[][];
  /** The high watermark each partition ends at. */
  end: number[];
}

/**
 * Where each record and marker lands when one producer runs these transactions in order on
 * partitions starting at `start`: a transaction's records on a partition take consecutive
 * offsets in produce order, and each partition it wrote to gets one marker after them.
 */
export function expectedLog(transactions: readonly PlannedTransaction[], partitions: number, start: readonly number[] = []): ExpectedLog {
  const next = Array.from({ length: partitions }, (_, p) => start[p] ?? 0);
  const all: Row[][] = Array.from({ length: partitions }, () => []);
  const committed: Row[][] = Array.from({ length: partitions }, () => []);
  const markers: number[][] = Array.from({ length: partitions }, () => []);
  for (const txn of transactions) {
    const touched = new Set<number>();
    for (const r of txn.records) {
      const row: Row = [r.partition, next[r.partition]!++, r.key, r.value];
      all[r.partition]!.push(row);
      if (txn.commit) committed[r.partition]!.push(row);
      touched.add(r.partition);
    }
    for (const p of [...touched].sort()) markers[p]!.push(next[p]!++);
  }
  return { all, committed, markers, end: next };
}

/** The Kafka protocol error (type and code) a kafkajs error carries, itself or somewhere down its causes. */
export function protocolErrorOf(err: unknown): { type: string; code: number } | { unexpected: string } {
  let e = err as { type?: unknown; code?: unknown; cause?: unknown; originalError?: unknown; name?: unknown; message?: unknown } | undefined;
  const seen = new Set<unknown>();
  while (e && !seen.has(e)) {
    seen.add(e);
    if (typeof e.code === 'number' && typeof e.type === 'string') return { type: e.type, code: e.code };
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return { unexpected: `${(err as Error)?.name}: ${(err as Error)?.message}` };
}

/** What a promise settles to: `{ ok: true }` or the Kafka protocol error it was rejected with. */
export async function outcome(p: Promise<unknown>): Promise<{ ok: true } | ReturnType<typeof protocolErrorOf>> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    return protocolErrorOf(err);
  }
}

export interface FetchedBatch {
  baseOffset: number;
  lastOffset: number;
  isTransactional: boolean;
  isControl: boolean;
  producerId: number;
  producerEpoch: number;
  /** Data records' values; for a control batch, 'COMMIT' or 'ABORT' (the control record's type). */
  values: Array<string | null>;
}

/** One Fetch v12 of one partition from `offset` (no wait) at an isolation level: what the broker answered, batch by batch (partitionMaxBytes 1: the first batch only). */
export async function fetchOnce(client: RawKafkaClient, topic: string, partition: number, offset: number, isolationLevel: number, partitionMaxBytes = 1024 * 1024) {
  const res = await client.request(1, 12, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1024 * 1024,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const p = res.responses[0]!.partitions[0]!;
  const batches: FetchedBatch[] = storedBatches(p.records).map(({ header, records }) => ({
    baseOffset: Number(header.baseOffset),
    lastOffset: Number(header.baseOffset) + header.lastOffsetDelta,
    isTransactional: header.isTransactional,
    isControl: header.isControl,
    producerId: Number(header.producerId),
    producerEpoch: header.producerEpoch,
    // a control record's key is version (int16) then type (int16): 0 ABORT, 1 COMMIT
    values: header.isControl ? records.map((r) => (r.key!.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT')) : records.map((r) => (r.value === null ? null : r.value.toString())),
  }));
  return {
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    abortedTransactions: p.abortedTransactions === null ? null : p.abortedTransactions.map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) })),
    batches,
  };
}

/** A transactional producer driven over raw frames: its id, epoch and next sequence per partition. */
export interface RawTxnProducer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  sequence: Map<number, number>;
}

/** InitProducerId v4 then AddPartitionsToTxn v3; throws unless both succeed. */
export async function rawBegin(client: RawKafkaClient, transactionalId: string, topic: string, partitions: number[], transactionTimeoutMs = 60_000): Promise<RawTxnProducer> {
  const init = await client.request(22, 4, { transactionalId, transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
  if (init.errorCode !== 0) throw new Error(`InitProducerId ${transactionalId}: error ${init.errorCode}`);
  const p: RawTxnProducer = { transactionalId, producerId: init.producerId, producerEpoch: init.producerEpoch, sequence: new Map() };
  await rawAddPartitions(client, p, topic, partitions);
  return p;
}

export async function rawAddPartitions(client: RawKafkaClient, p: RawTxnProducer, topic: string, partitions: number[]): Promise<void> {
  const added = await client.request(24, 3, { v3AndBelowTransactionalId: p.transactionalId, v3AndBelowProducerId: p.producerId, v3AndBelowProducerEpoch: p.producerEpoch, v3AndBelowTopics: [{ name: topic, partitions }] });
  const codes = added.resultsByTopicV3AndBelow.flatMap((t) => t.resultsByPartition.map((r) => r.partitionErrorCode));
  if (codes.some((c) => c !== 0)) throw new Error(`AddPartitionsToTxn ${p.transactionalId}: errors ${codes.join(',')}`);
}

/** One transactional batch (Produce v9, acks all); the base offset, or throws with the error code. */
export async function rawProduce(client: RawKafkaClient, p: RawTxnProducer, topic: string, partition: number, values: string[]): Promise<number> {
  const baseSequence = p.sequence.get(partition) ?? 0;
  const records = buildRecordBatch({ baseOffset: 0n, producerId: p.producerId, producerEpoch: p.producerEpoch, baseSequence, isTransactional: true, records: values.map((v) => ({ key: Buffer.from(p.transactionalId), value: Buffer.from(v), timestamp: BigInt(Date.now()) })) });
  const res = await client.request(0, 9, { transactionalId: p.transactionalId, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  const r = res.responses[0]!.partitionResponses[0]!;
  if (r.errorCode !== 0) throw new Error(`Produce ${p.transactionalId} ${values.join(',')}: error ${r.errorCode}`);
  p.sequence.set(partition, baseSequence + values.length);
  return Number(r.baseOffset);
}

export async function rawEndTxn(client: RawKafkaClient, p: RawTxnProducer, committed: boolean): Promise<number> {
  return (await client.request(26, 3, { transactionalId: p.transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed })).errorCode;
}
