import {
  LogError,
  type AppendRequest,
  type AppendResult,
  type LogService,
  type PartitionOffsets,
  type ReadRequest,
  type ReadResult,
  type TimestampLookup,
  readResult,
} from '../../../agent/log-service.js';
import type { AbortedTransaction } from '../../../metadata/metadata-store.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { readBatchHeader, setBaseOffset } from '../../../protocol/records/record-batch.js';
import { decodeRecords } from '../../../protocol/records/record-codec.js';

interface StoredBatch {
  readonly bytes: Buffer;
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
}

interface FakePartition {
  batches: StoredBatch[];
  highWatermark: bigint;
  logStartOffset: bigint;
  /** Set by `setTransactions`: the first offset of the oldest open transaction; undefined means the HWM. */
  lastStableOffset: bigint | undefined;
  abortedTransactions: AbortedTransaction[];
}

/** Positions as waitForData receives them. */
type WaitPosition = { topic: string; partition: number; offset: bigint; readCommitted?: boolean };

interface Waiter {
  readonly positions: ReadonlyArray<WaitPosition>;
  readonly wake: () => void;
}

/**
 * An in-memory LogService for handler tests: appends assign offsets immediately, reads
 * return whole batches (always at least one), and `failNext` injects one failure.
 */
export class FakeLog implements LogService {
  private readonly partitions = new Map<string, FakePartition>();
  private waiters: Waiter[] = [];
  private readonly failures = new Map<string, Error>();
  readonly appends: AppendRequest[] = [];
  readonly reads: ReadRequest[] = [];
  readonly waits: Array<{ positions: ReadonlyArray<WaitPosition>; timeoutMs: number }> = [];
  /** When set, appends stay pending until `releaseAppends()`. */
  holdAppends = false;
  private held: Array<() => void> = [];

  failNext(op: 'append' | 'read' | 'offsets' | 'deleteRecords' | 'lookup', topic: string, partition: number, error: Error): void {
    this.failures.set(`${op}:${topic}:${partition}`, error);
  }

  private takeFailure(op: string, topic: string, partition: number): void {
    const key = `${op}:${topic}:${partition}`;
    const err = this.failures.get(key);
    if (err) {
      this.failures.delete(key);
      throw err;
    }
  }

  private part(topic: string, partition: number): FakePartition {
    const key = `${topic}:${partition}`;
    let p = this.partitions.get(key);
    if (!p) {
      p = { batches: [], highWatermark: 0n, logStartOffset: 0n, lastStableOffset: undefined, abortedTransactions: [] };
      this.partitions.set(key, p);
    }
    return p;
  }

  /** Appends batches directly (test setup); returns the base offset. */
  seed(topic: string, partition: number, batches: Buffer[]): bigint {
    const p = this.part(topic, partition);
    const base = p.highWatermark;
    for (const b of batches) {
      const copy = Buffer.from(b);
      const h = readBatchHeader(copy);
      setBaseOffset(copy, p.highWatermark);
      const lastOffset = p.highWatermark + BigInt(h.lastOffsetDelta);
      p.batches.push({ bytes: copy, baseOffset: p.highWatermark, lastOffset });
      p.highWatermark = lastOffset + 1n;
    }
    this.notify();
    return base;
  }

  /**
   * The fake has no transactions of its own: a test sets a partition's last stable offset
   * (undefined: the HWM again) and its aborted transactions, which read_committed reads
   * stop at and report, like the agent's log. Wakes waiters whose LSO position it passes.
   */
  setTransactions(
    topic: string,
    partition: number,
    t: { lastStableOffset?: bigint; abortedTransactions?: ReadonlyArray<{ producerId: bigint; firstOffset: bigint; lastOffset: bigint }> },
  ): void {
    const p = this.part(topic, partition);
    p.lastStableOffset = t.lastStableOffset;
    if (t.abortedTransactions) p.abortedTransactions = t.abortedTransactions.map((a) => ({ topic, partition, producerId: a.producerId, firstOffset: a.firstOffset, lastOffset: a.lastOffset }));
    this.notify();
  }

  private lso(p: FakePartition): bigint {
    return p.lastStableOffset === undefined || p.lastStableOffset > p.highWatermark ? p.highWatermark : p.lastStableOffset;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.appends.push(request);
    this.takeFailure('append', request.topic.name, request.partition);
    if (this.holdAppends) await new Promise<void>((resolve) => this.held.push(resolve));
    const base = this.seed(request.topic.name, request.partition, [...request.batches]);
    return { baseOffset: base, logAppendTimeMs: -1n, logStartOffset: this.part(request.topic.name, request.partition).logStartOffset };
  }

  releaseAppends(): void {
    this.holdAppends = false;
    for (const r of this.held.splice(0)) r();
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    this.reads.push(request);
    this.takeFailure('read', request.topic, request.partition);
    const p = this.part(request.topic, request.partition);
    if (request.offset < p.logStartOffset || request.offset > p.highWatermark) {
      throw new LogError(ErrorCode.OFFSET_OUT_OF_RANGE, `Offset ${request.offset} is out of range for ${request.topic}-${request.partition}`);
    }
    const lso = this.lso(p);
    // read_committed stops at the last stable offset
    const end = request.readCommitted ? lso : p.highWatermark;
    const out: Buffer[] = [];
    let size = 0;
    let lastReturned = -1n;
    for (const b of p.batches) {
      if (b.lastOffset < request.offset) continue;
      if (b.baseOffset >= end) break;
      if (out.length > 0 && size + b.bytes.length > request.maxBytes) break;
      out.push(b.bytes);
      size += b.bytes.length;
      lastReturned = b.lastOffset;
    }
    const aborted = request.readCommitted && lastReturned >= request.offset ? p.abortedTransactions.filter((a) => a.lastOffset >= request.offset && a.firstOffset <= lastReturned) : [];
    return readResult(out, p.highWatermark, p.logStartOffset, lso, aborted);
  }

  async appendMarker(): Promise<bigint> {
    throw new LogError(ErrorCode.INVALID_TXN_STATE, 'the fake log has no transactions');
  }

  async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    this.takeFailure('offsets', topic, partition);
    const p = this.part(topic, partition);
    return { highWatermark: p.highWatermark, logStartOffset: p.logStartOffset, lastStableOffset: this.lso(p) };
  }

  waitForData(positions: ReadonlyArray<WaitPosition>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.waits.push({ positions, timeoutMs });
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        positions,
        wake: () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      if (this.hasData(positions) || signal?.aborted) {
        resolve();
        return;
      }
      timer = setTimeout(waiter.wake, timeoutMs);
      signal?.addEventListener('abort', waiter.wake, { once: true });
      this.waiters.push(waiter);
    });
  }

  private hasData(positions: Waiter['positions']): boolean {
    return positions.some((pos) => {
      const p = this.part(pos.topic, pos.partition);
      return (pos.readCommitted ? this.lso(p) : p.highWatermark) > pos.offset;
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) if (this.hasData(w.positions)) w.wake();
  }

  /** Every readable record as (offset, timestamp), decoded from the stored batches. */
  private records(topic: string, partition: number): TimestampLookup[] {
    const p = this.part(topic, partition);
    return p.batches
      .flatMap((b) => decodeRecords(b.bytes).records.map((r) => ({ offset: r.offset, timestamp: r.timestamp })))
      .filter((r) => r.offset >= p.logStartOffset);
  }

  async offsetForTimestamp(topic: string, partition: number, timestamp: bigint): Promise<TimestampLookup | undefined> {
    this.takeFailure('lookup', topic, partition);
    return this.records(topic, partition).find((r) => r.timestamp >= timestamp);
  }

  async maxTimestampOffset(topic: string, partition: number): Promise<TimestampLookup | undefined> {
    this.takeFailure('lookup', topic, partition);
    let best: TimestampLookup | undefined;
    for (const r of this.records(topic, partition)) if (!best || r.timestamp > best.timestamp) best = r;
    return best;
  }

  async deleteRecords(topic: string, partition: number, offset: bigint): Promise<bigint> {
    this.takeFailure('deleteRecords', topic, partition);
    const p = this.part(topic, partition);
    const target = offset === -1n ? p.highWatermark : offset;
    if (target > p.highWatermark) {
      throw new LogError(ErrorCode.OFFSET_OUT_OF_RANGE, `Cannot delete ${topic}-${partition} up to ${target}: above the high watermark ${p.highWatermark}`);
    }
    if (target > p.logStartOffset) p.logStartOffset = target;
    return p.logStartOffset;
  }

  forgetTopic(): void {}

  async close(): Promise<void> {}
}
