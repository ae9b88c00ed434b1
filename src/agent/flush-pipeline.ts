import type { Logger } from 'pino';
import { FencedError, isMetadataStoreError, type AbortedTransaction, type FlushCommit, type MetadataStore, type ProducerPartitionState } from '../metadata/metadata-store.js';
import { ErrorCode } from '../protocol/error-codes.js';
import {
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  TimestampType,
  setBaseOffset,
  setMaxTimestampAndType,
} from '../protocol/records/record-batch.js';
import type { ObjectStore } from '../storage/object-store.js';
import { buildSegment } from '../storage/segment/segment-writer.js';
import { SegmentKeyGenerator } from '../storage/segment/segment-key.js';
import type { RecentWriteCache } from './chunk-caches.js';
import { LogError } from './log-service.js';
import type { PartitionLog } from './partition-log.js';
import type { PendingProducerBatch, ProducerEntry, ProducerPreview, ProducerStep } from './producer-state.js';
import { backoff } from './retry.js';

/** One produce request's batches for one partition, waiting in the flush buffer. */
export interface AppendJob {
  readonly log: PartitionLog;
  readonly batches: readonly Buffer[];
  readonly bytes: number;
  readonly deadlineMs: number;
  readonly logAppendTime: boolean;
  readonly producer?: { readonly entry: ProducerEntry; readonly pending: PendingProducerBatch; readonly transactional: boolean };
  /** A transaction marker (one control batch in `batches`) ending `entry`'s transaction on the partition. */
  readonly marker?: { readonly entry: ProducerEntry; readonly producerEpoch: number; readonly commit: boolean };
  resolve(result: { baseOffset: bigint; logAppendTimeMs: bigint }): void;
  reject(error: LogError): void;
}

interface PartitionSlice {
  readonly log: PartitionLog;
  readonly jobs: Array<{ job: AppendJob; baseOffset: bigint; lastOffset: bigint }>;
  readonly baseOffset: bigint;
  readonly endOffset: bigint;
  readonly maxTimestamp: bigint;
  readonly recordCount: number;
  readonly batches: Buffer[];
  readonly appendTimeMs: bigint;
}

interface ClosedFlush {
  readonly id: number;
  readonly key: string;
  readonly slices: PartitionSlice[];
  readonly deadlineMs: number;
  readonly uploaded: Promise<{ ok: true; body: Buffer; chunkOffsets: Array<{ byteOffset: number; byteLength: number }> } | { ok: false; error: unknown }>;
}

export interface FlushPipelineOptions {
  readonly agentId: string;
  readonly flushMaxBytes: number;
  readonly flushIntervalMs: number;
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly recent: RecentWriteCache;
  readonly logger: Logger;
  /** Called when a partition's in-memory state can no longer be trusted (reload it). */
  readonly onStale: (log: PartitionLog) => void;
  /** Called when a commit was fenced because this agent's lease on the partition is gone. */
  readonly onLeaseLost?: (log: PartitionLog) => void;
  readonly observe?: FlushObserver;
}

export interface FlushObserver {
  flushed(stats: { bytes: number; partitions: number; uploadSeconds: number; commitSeconds: number; totalSeconds: number }): void;
  failed(reason: string): void;
}

const MIN_FLUSH_DEADLINE_MS = 2000;
const MAX_FLUSH_DEADLINE_MS = 120_000;

/**
 * The agent's flush buffer (docs/architecture.md §4): appends of all partitions gather until
 * flush.max.bytes or flush.interval.ms, then ONE object is uploaded and ONE metadata
 * transaction commits it. Uploads overlap; commits happen strictly in flush order.
 */
export class FlushPipeline {
  private open = new Map<PartitionLog, AppendJob[]>();
  private openBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private commitChain: Promise<void> = Promise.resolve();
  private nextId = 1;
  private readonly keys: SegmentKeyGenerator;
  /** Object keys uploaded or uploading but not yet committed (the GC must not touch them). */
  readonly inFlightKeys = new Set<string>();
  private closed = false;

  constructor(private readonly opts: FlushPipelineOptions) {
    this.keys = new SegmentKeyGenerator(opts.agentId);
  }

  enqueue(job: AppendJob): void {
    if (this.closed) {
      job.reject(new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'Agent is shutting down'));
      return;
    }
    let jobs = this.open.get(job.log);
    if (!jobs) this.open.set(job.log, (jobs = []));
    jobs.push(job);
    this.openBytes += job.bytes;
    if (this.openBytes >= this.opts.flushMaxBytes) this.closeBuffer();
    else if (!this.timer) this.timer = setTimeout(() => this.closeBuffer(), this.opts.flushIntervalMs);
  }

  /** Closes the open buffer now and waits until everything queued so far is committed. */
  async drain(): Promise<void> {
    this.closeBuffer();
    await this.commitChain;
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  private closeBuffer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.open.size === 0) return;
    const open = this.open;
    this.open = new Map();
    this.openBytes = 0;
    const now = BigInt(Date.now());
    const slices: PartitionSlice[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    for (const [log, jobs] of open) {
      if (log.stale) {
        for (const job of jobs) this.failJob(job, new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Partition ${log.topic}-${log.partition} is reloading; retry`));
        continue;
      }
      let offset = log.nextOffset;
      const base = offset;
      let maxTimestamp = -1n;
      let recordCount = 0;
      const batches: Buffer[] = [];
      const placed: PartitionSlice['jobs'] = [];
      for (const job of jobs) {
        if (job.producer?.pending.cancelled) {
          job.reject(new LogError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'An earlier batch of this producer failed; resend in order'));
          continue;
        }
        const jobBase = offset;
        for (const b of job.batches) {
          setBaseOffset(b, offset);
          if (job.logAppendTime) setMaxTimestampAndType(b, now, TimestampType.LogAppendTime);
          const ts = b.readBigInt64BE(MAX_TIMESTAMP_OFFSET);
          if (ts > maxTimestamp) maxTimestamp = ts;
          recordCount += b.readInt32BE(RECORD_COUNT_OFFSET);
          offset += BigInt(b.readInt32BE(LAST_OFFSET_DELTA_OFFSET) + 1);
          batches.push(b);
        }
        placed.push({ job, baseOffset: jobBase, lastOffset: offset - 1n });
        if (job.deadlineMs < deadline) deadline = job.deadlineMs;
      }
      if (placed.length === 0) continue;
      log.nextOffset = offset;
      slices.push({ log, jobs: placed, baseOffset: base, endOffset: offset, maxTimestamp, recordCount, batches, appendTimeMs: now });
    }
    if (slices.length === 0) return;
    const nowMs = Date.now();
    const deadlineMs = Math.min(Math.max(deadline, nowMs + MIN_FLUSH_DEADLINE_MS), nowMs + MAX_FLUSH_DEADLINE_MS);
    const key = this.keys.next();
    this.inFlightKeys.add(key);
    const started = performance.now();
    const uploaded = this.upload(key, slices, deadlineMs);
    const flush: ClosedFlush = { id: this.nextId++, key, slices, deadlineMs, uploaded };
    this.commitChain = this.commitChain.then(() => this.commit(flush, started));
  }

  private async upload(key: string, slices: PartitionSlice[], deadlineMs: number): Promise<Awaited<ClosedFlush['uploaded']>> {
    let segment;
    try {
      segment = buildSegment(
        slices.map((s) => ({
          topic: s.log.topic,
          partition: s.log.partition,
          baseOffset: s.baseOffset,
          lastOffset: s.endOffset - 1n,
          maxTimestamp: s.maxTimestamp,
          recordCount: s.recordCount,
          data: s.batches,
        })),
      );
    } catch (error) {
      return { ok: false, error };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.objects.put(key, segment.body);
        return { ok: true, body: segment.body, chunkOffsets: segment.chunks.map((c) => ({ byteOffset: c.byteOffset, byteLength: c.byteLength })) };
      } catch (error) {
        this.opts.logger.warn({ err: error, key, attempt }, 'object upload failed; retrying');
        this.opts.observe?.failed('upload');
        if (!(await backoff(attempt, deadlineMs))) return { ok: false, error };
      }
    }
  }

  private async commit(flush: ClosedFlush, started: number): Promise<void> {
    try {
      await this.commitInner(flush, started);
    } catch (err) {
      // never let one flush break the chain; fail what is left and reload its partitions
      this.opts.logger.error({ err, key: flush.key }, 'flush commit failed unexpectedly');
      for (const s of flush.slices) this.failSlice(s, new LogError(ErrorCode.KAFKA_STORAGE_ERROR, 'Flush failed'));
    } finally {
      this.inFlightKeys.delete(flush.key);
    }
  }

  private async commitInner(flush: ClosedFlush, started: number): Promise<void> {
    const result = await flush.uploaded;
    const uploadDone = performance.now();
    if (!result.ok) {
      const timedOut = Date.now() >= flush.deadlineMs;
      const message = `Could not write to object storage: ${result.error instanceof Error ? result.error.message : String(result.error)}`;
      for (const s of flush.slices) this.failSlice(s, new LogError(timedOut ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.KAFKA_STORAGE_ERROR, message));
      return;
    }
    // a partition whose earlier flush failed was marked stale: its offsets here are void
    let live: Array<{ slice: PartitionSlice; at: number }> = [];
    flush.slices.forEach((slice, at) => {
      if (slice.log.stale || slice.baseOffset !== slice.log.highWatermark) {
        this.failSlice(slice, new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Partition ${slice.log.topic}-${slice.log.partition} is reloading; retry`));
      } else live.push({ slice, at });
    });
    // set once an attempt ended without a known outcome: a later attempt may find it landed
    let ambiguous = false;
    let previews = new Map<PartitionLog, Array<[ProducerEntry, ProducerPreview]>>();
    let abortedBy = new Map<PartitionLog, AbortedTransaction[]>();
    for (let attempt = 0; live.length > 0; attempt++) {
      const built = this.buildCommit(flush.key, result.body.length, live.map((l) => ({ slice: l.slice, chunk: result.chunkOffsets[l.at]! })));
      const commit = built.commit;
      previews = built.previews;
      abortedBy = built.aborted;
      try {
        await this.opts.metadata.partitions.commitFlush(commit);
        break;
      } catch (err) {
        // the guard rejects a retry because the earlier attempt committed (its reply was lost)
        if (err instanceof FencedError && ambiguous && (await this.landed(flush.key, live.map((l) => l.slice)))) break;
        if (err instanceof FencedError) {
          const fenced = new Set(err.partitions.map((p) => `${p.topic}\u0000${p.partition}`));
          const lost = new Set(err.partitions.filter((p) => p.leaseLost === true).map((p) => `${p.topic}\u0000${p.partition}`));
          live = live.filter(({ slice }) => {
            if (!fenced.has(slice.log.key)) return true;
            if (lost.has(slice.log.key)) this.opts.onLeaseLost?.(slice.log);
            this.failSlice(slice, new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Partition ${slice.log.topic}-${slice.log.partition} was written by another agent`));
            return false;
          });
          continue;
        }
        if (isMetadataStoreError(err, 'OBJECT_ALREADY_EXISTS') || isMetadataStoreError(err, 'INVALID_ARGUMENT')) {
          this.opts.logger.error({ err, key: flush.key }, 'flush commit rejected');
          for (const { slice } of live) this.failSlice(slice, new LogError(ErrorCode.KAFKA_STORAGE_ERROR, String((err as Error).message)));
          return;
        }
        // outcome unknown (e.g. the database connection dropped): find out what happened
        this.opts.logger.warn({ err, key: flush.key, attempt }, 'flush commit failed; checking outcome');
        this.opts.observe?.failed('commit');
        ambiguous = true;
        const outcome = await this.probeOutcome(live.map((l) => l.slice));
        if (outcome === 'committed') break;
        if (outcome === 'not-committed' && (await backoff(attempt, flush.deadlineMs))) continue;
        const code = Date.now() >= flush.deadlineMs ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.KAFKA_STORAGE_ERROR;
        for (const { slice } of live) this.failSlice(slice, new LogError(code, `Metadata commit failed: ${(err as Error).message}`));
        return;
      }
    }
    const committedAt = performance.now();
    let bytes = 0;
    for (const { slice, at } of live) {
      const chunk = result.chunkOffsets[at]!;
      const data = result.body.subarray(chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
      bytes += data.length;
      this.opts.recent.add(slice.log.key, { baseOffset: slice.baseOffset, lastOffset: slice.endOffset - 1n, data });
      for (const { job, baseOffset, lastOffset } of slice.jobs) {
        if (job.producer) job.producer.entry.commit(job.producer.pending, baseOffset, lastOffset);
      }
      for (const [entry, preview] of previews.get(slice.log) ?? []) {
        const wasOpen = entry.txnFirstOffset;
        entry.adopt(preview);
        if (wasOpen !== entry.txnFirstOffset) slice.log.transactionChanged(entry);
      }
      const aborted = abortedBy.get(slice.log);
      if (aborted) slice.log.abortedTransactions.push(...aborted);
      slice.log.advanceTo(slice.endOffset);
      for (const { job, baseOffset } of slice.jobs) job.resolve({ baseOffset, logAppendTimeMs: job.logAppendTime ? slice.appendTimeMs : -1n });
    }
    this.opts.observe?.flushed({
      bytes,
      partitions: live.length,
      uploadSeconds: (uploadDone - started) / 1000,
      commitSeconds: (committedAt - uploadDone) / 1000,
      totalSeconds: (committedAt - started) / 1000,
    });
  }

  private buildCommit(
    key: string,
    size: number,
    parts: Array<{ slice: PartitionSlice; chunk: { byteOffset: number; byteLength: number } }>,
  ): { commit: FlushCommit; previews: Map<PartitionLog, Array<[ProducerEntry, ProducerPreview]>>; aborted: Map<PartitionLog, AbortedTransaction[]> } {
    const producerStates: ProducerPartitionState[] = [];
    const previews = new Map<PartitionLog, Array<[ProducerEntry, ProducerPreview]>>();
    const aborted = new Map<PartitionLog, AbortedTransaction[]>();
    const abortedTransactions: AbortedTransaction[] = [];
    for (const { slice } of parts) {
      const byProducer = new Map<ProducerEntry, ProducerStep[]>();
      const stepsOf = (entry: ProducerEntry): ProducerStep[] => {
        let list = byProducer.get(entry);
        if (!list) byProducer.set(entry, (list = []));
        return list;
      };
      for (const { job, baseOffset, lastOffset } of slice.jobs) {
        if (job.producer) stepsOf(job.producer.entry).push({ kind: 'batch', batch: job.producer.pending, baseOffset, lastOffset, transactional: job.producer.transactional });
        else if (job.marker) stepsOf(job.marker.entry).push({ kind: 'marker', producerEpoch: job.marker.producerEpoch, commit: job.marker.commit, offset: baseOffset });
      }
      const slicePreviews: Array<[ProducerEntry, ProducerPreview]> = [];
      if (byProducer.size > 0) previews.set(slice.log, slicePreviews);
      for (const [entry, steps] of byProducer) {
        const next = entry.previewSteps(steps);
        slicePreviews.push([entry, next]);
        producerStates.push({ topic: slice.log.topic, partition: slice.log.partition, producerId: entry.producerId, producerEpoch: next.producerEpoch, batches: next.batches, txnFirstOffset: next.txnFirstOffset });
        for (const a of next.aborted) {
          const row: AbortedTransaction = { topic: slice.log.topic, partition: slice.log.partition, producerId: entry.producerId, firstOffset: a.firstOffset, lastOffset: a.lastOffset };
          abortedTransactions.push(row);
          let list = aborted.get(slice.log);
          if (!list) aborted.set(slice.log, (list = []));
          list.push(row);
        }
      }
    }
    const commit: FlushCommit = {
      objectKey: key,
      objectSize: size,
      chunks: parts.map(({ slice, chunk }) => ({
        topic: slice.log.topic,
        partition: slice.log.partition,
        baseOffset: slice.baseOffset,
        lastOffset: slice.endOffset - 1n,
        maxTimestamp: slice.maxTimestamp,
        recordCount: slice.recordCount,
        byteOffset: chunk.byteOffset,
        byteLength: chunk.byteLength,
      })),
      partitions: parts.map(({ slice }) => ({
        topic: slice.log.topic,
        partition: slice.log.partition,
        expectedHighWatermark: slice.baseOffset,
        newHighWatermark: slice.endOffset,
        ...(slice.log.lease ? { leaseOwner: slice.log.lease.owner, leaseEpoch: slice.log.lease.epoch } : {}),
      })),
      producerStates,
      ...(abortedTransactions.length > 0 ? { abortedTransactions } : {}),
    };
    return { commit, previews, aborted };
  }

  /** After an ambiguous commit error: did the transaction land? */
  private async probeOutcome(slices: PartitionSlice[]): Promise<'committed' | 'not-committed' | 'unknown'> {
    try {
      let committed = 0;
      let untouched = 0;
      for (const s of slices) {
        const state = await this.opts.metadata.partitions.get(s.log.topic, s.log.partition);
        if (state?.highWatermark === s.endOffset) committed++;
        else if (state?.highWatermark === s.baseOffset) untouched++;
      }
      if (committed === slices.length) return 'committed';
      if (untouched === slices.length) return 'not-committed';
      return 'unknown';
    } catch {
      return 'not-committed';
    }
  }

  /**
   * Whether this flush's commit is in the store: the index row at a slice's base offset
   * points into this flush's object (keys are never reused, and a commit is one
   * transaction, so one slice tells for all).
   */
  private async landed(key: string, slices: PartitionSlice[]): Promise<boolean> {
    const first = slices[0];
    if (!first) return false;
    try {
      const [chunk] = await this.opts.metadata.chunks.findChunks(first.log.topic, first.log.partition, first.baseOffset, 1);
      return chunk?.objectKey === key && chunk.baseOffset === first.baseOffset;
    } catch {
      return false;
    }
  }

  private failSlice(slice: PartitionSlice, error: LogError): void {
    // later flushes already hold offsets past this slice: the partition must be reloaded
    this.opts.onStale(slice.log);
    for (const { job } of slice.jobs) this.failJob(job, error);
  }

  private failJob(job: AppendJob, error: LogError): void {
    if (job.producer) job.producer.entry.fail(job.producer.pending);
    job.reject(error);
  }
}
