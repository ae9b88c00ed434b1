import type { TopicPolicy } from './topics/topic-policy.js';
import type { Logger } from 'pino';
import type { MetadataStore, IndexedChunk } from '../metadata/metadata-store.js';
import { isMetadataStoreError } from '../metadata/metadata-store.js';
import { ErrorCode, errorMessage } from '../protocol/error-codes.js';
import { BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET, readBatchHeader } from '../protocol/records/record-batch.js';
import { decodeRecords } from '../protocol/records/record-codec.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ChunkCache, RecentWriteCache, type CachedChunk } from './chunk-caches.js';
import { FlushPipeline, type FlushObserver } from './flush-pipeline.js';
import {
  LogError,
  type AppendRequest,
  type AppendResult,
  type LogService,
  type MarkerRequest,
  type TransactionVerifier,
  type PartitionOffsets,
  type ReadRequest,
  type ReadResult,
  type TimestampLookup,
  readResult,
} from './log-service.js';
import { PartitionLog } from './partition-log.js';
import type { PendingProducerBatch } from './producer-state.js';
import { recompressBatch } from './recompress.js';
import { buildControlBatch } from '../protocol/records/control-batch.js';

export interface AgentLogOptions {
  readonly agentId: string;
  readonly metadata: MetadataStore;
  readonly objects: ObjectStore;
  readonly logger: Logger;
  readonly flushMaxBytes: number;
  readonly flushIntervalMs: number;
  readonly recentWriteCacheBytes: number;
  readonly fetchCacheBytes: number;
  /** The topic's parsed configs (compression, timestamp type), undefined for an unknown topic. */
  readonly topicPolicy: (topic: string) => TopicPolicy | undefined;
  readonly observe?: FlushObserver;
  /**
   * Cluster mode: which partitions this agent holds a lease on. Without it the agent leads
   * every partition (the embedded single agent) and commits carry no lease guard.
   */
  readonly leases?: PartitionLeases;
}

export interface PartitionLeases {
  /** The valid lease this agent holds on the partition, if any. */
  held(topic: string, partition: number): { readonly owner: string; readonly epoch: number } | undefined;
  /** A commit was fenced by the lease guard: the lease is gone. */
  lost(topic: string, partition: number): void;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The agent's log for the partitions it leads: write path, read path and offset lookups. */
export class AgentLog implements LogService {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly loading = new Map<string, Promise<PartitionLog | undefined>>();
  /** Per partition, the last append still waiting for the partition to load (keeps call order). */
  private readonly waitingAppends = new Map<string, Promise<void>>();
  private readonly chunkLoads = new Map<string, Promise<Buffer>>();
  readonly recent: RecentWriteCache;
  readonly chunkCache: ChunkCache;
  readonly pipeline: FlushPipeline;
  /**
   * The transaction coordinator's check of transactional batches (set once the coordinator
   * exists); without it transactional batches are refused.
   */
  transactionVerifier: TransactionVerifier | undefined;

  constructor(private readonly opts: AgentLogOptions) {
    this.recent = new RecentWriteCache(opts.recentWriteCacheBytes);
    this.chunkCache = new ChunkCache(opts.fetchCacheBytes);
    this.pipeline = new FlushPipeline({
      agentId: opts.agentId,
      flushMaxBytes: opts.flushMaxBytes,
      flushIntervalMs: opts.flushIntervalMs,
      objects: opts.objects,
      metadata: opts.metadata,
      recent: this.recent,
      logger: opts.logger,
      onStale: (log) => this.markStale(log),
      onLeaseLost: (log) => opts.leases?.lost(log.topic, log.partition),
      ...(opts.observe ? { observe: opts.observe } : {}),
    });
  }

  /**
   * The partition's state, loaded from the metadata store on first use. In cluster mode only
   * partitions this agent holds a lease on are cached; any other is read fresh from the store
   * each time (another agent moves its HWM).
   */
  async partitionLog(topic: string, partition: number): Promise<PartitionLog | undefined> {
    const key = partitionKey(topic, partition);
    const lease = this.opts.leases?.held(topic, partition);
    if (this.opts.leases && !lease) {
      // The HWM first, then the open transactions and aborted ranges: a flush committed in
      // between only adds offsets at or above that HWM, so the last stable offset and the
      // ranges stay right for everything below it (read_committed on any agent).
      const state = await this.opts.metadata.partitions.get(topic, partition);
      if (!state) return undefined;
      const [producers, aborted] = await Promise.all([
        this.opts.metadata.producers.getStates(topic, partition),
        this.opts.metadata.partitions.abortedTransactions(topic, partition, state.logStartOffset),
      ]);
      return new PartitionLog(topic, partition, state.highWatermark, state.logStartOffset, producers, aborted);
    }
    const existing = this.logs.get(key);
    if (existing && existing.lease?.epoch === lease?.epoch) return existing;
    if (existing) this.markStale(existing);
    let pending = this.loading.get(key);
    if (!pending) {
      pending = (async () => {
        const state = await this.opts.metadata.partitions.get(topic, partition);
        if (!state) return undefined;
        const [producers, aborted] = await Promise.all([
          this.opts.metadata.producers.getStates(topic, partition),
          this.opts.metadata.partitions.abortedTransactions(topic, partition, state.logStartOffset),
        ]);
        const log = new PartitionLog(topic, partition, state.highWatermark, state.logStartOffset, producers, aborted);
        log.lease = lease;
        this.logs.set(key, log);
        return log;
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async requireLog(topic: string, partition: number): Promise<PartitionLog> {
    const log = await this.partitionLog(topic, partition);
    if (!log) throw new LogError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    return log;
  }

  private markStale(log: PartitionLog): void {
    if (log.stale) return;
    log.stale = true;
    if (this.logs.get(log.key) === log) this.logs.delete(log.key);
    this.recent.dropPartition(log.key);
    log.wakeAll();
  }

  /** The partition's lease was acquired, released or lost: drop what this agent knew of it. */
  leaseChanged(topic: string, partition: number): void {
    const log = this.logs.get(partitionKey(topic, partition));
    if (log) this.markStale(log);
  }

  forgetTopic(topic: string): void {
    for (const log of [...this.logs.values()]) if (log.topic === topic) this.markStale(log);
  }

  append(request: AppendRequest): Promise<AppendResult> {
    const first = readBatchHeader(request.batches[0]!);
    if (!first.isTransactional) return this.inOrder(request.topic.name, request.partition, undefined, (log) => this.appendTo(log, request));
    const transactionalId = request.transactionalId;
    const verify = this.transactionVerifier;
    if (transactionalId === undefined || transactionalId === null || !verify) {
      return Promise.reject(new LogError(ErrorCode.INVALID_TXN_STATE, `A transactional batch for ${request.topic.name}-${request.partition} needs the request's transactional id`));
    }
    // The coordinator confirms once per transaction and partition that the partition was
    // added (Kafka's transaction verification); later batches of that transaction go straight in.
    const needsCheck = (log: PartitionLog): boolean => log.producers.get(first.producerId)?.txnVerifiedEpoch !== first.producerEpoch;
    // A marker queues behind a check in flight (inOrder), so a batch the coordinator confirmed
    // always lands before the marker that ends its transaction, and is covered by it.
    const check = async (log: PartitionLog): Promise<void> => {
      await verify({ transactionalId, producerId: first.producerId, producerEpoch: first.producerEpoch, topic: request.topic.name, partition: request.partition });
      log.producer(first.producerId, first.producerEpoch).txnVerifiedEpoch = first.producerEpoch;
    };
    return this.inOrder(request.topic.name, request.partition, { needed: needsCheck, run: check }, (log) => this.appendTo(log, request));
  }

  appendMarker(request: MarkerRequest): Promise<bigint> {
    return this.inOrder(request.topic, request.partition, undefined, (log) => {
      const entry = log.producer(request.producerId, request.producerEpoch);
      if (request.producerEpoch < entry.producerEpoch || request.producerEpoch < entry.epochFloor) {
        throw new LogError(ErrorCode.INVALID_PRODUCER_EPOCH, `Marker epoch ${request.producerEpoch} is older than the current epoch ${entry.producerEpoch} of producer ${request.producerId}`);
      }
      // batches of the ended transaction that are still being checked must not follow it in
      entry.txnVerifiedEpoch = undefined;
      if (request.producerEpoch > entry.epochFloor) entry.epochFloor = request.producerEpoch;
      const batch = buildControlBatch({ producerId: request.producerId, producerEpoch: request.producerEpoch, commit: request.commit, coordinatorEpoch: request.coordinatorEpoch, timestamp: BigInt(Date.now()) });
      return new Promise<bigint>((resolve, reject) => {
        this.pipeline.enqueue({
          log,
          batches: [batch],
          bytes: batch.length,
          deadlineMs: request.deadlineMs,
          logAppendTime: false,
          marker: { entry, producerEpoch: request.producerEpoch, commit: request.commit },
          resolve: (r) => resolve(r.baseOffset),
          reject,
        });
      });
    });
  }

  /**
   * Runs `enqueue` for the partition in the order the calls were made (one connection's
   * requests, a pipelining idempotent producer, a marker after the batches before it):
   * synchronously when the partition is loaded and nothing waits before it, else behind the
   * calls already waiting for it to load or for a transaction check. `enqueue` puts the work
   * into the flush pipeline; its outcome is not waited for before the next call's turn.
   */
  private inOrder<T>(
    topic: string,
    partition: number,
    check: { needed(log: PartitionLog): boolean; run(log: PartitionLog): Promise<void> } | undefined,
    enqueue: (log: PartitionLog) => Promise<T>,
  ): Promise<T> {
    let lease: { readonly owner: string; readonly epoch: number } | undefined;
    if (this.opts.leases) {
      lease = this.opts.leases.held(topic, partition);
      if (!lease) return Promise.reject(new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This agent does not lead ${topic}-${partition}`));
    }
    const key = partitionKey(topic, partition);
    const waiting = this.waitingAppends.get(key);
    const loaded = this.logs.get(key);
    if (!waiting && loaded && loaded.lease?.epoch === lease?.epoch && !check?.needed(loaded)) {
      try {
        return enqueue(loaded);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    // Resolves once this call's work is in the pipeline (boxed, so it does not wait for the commit).
    const enqueued = (waiting ?? Promise.resolve())
      .then(() => this.requireLog(topic, partition))
      .then(async (log) => {
        if (log.lease?.epoch !== lease?.epoch) throw new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Leadership of ${topic}-${partition} changed; retry`);
        if (check?.needed(log)) {
          await check.run(log);
          if (log.stale) throw new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `Partition ${topic}-${partition} is reloading; retry`);
        }
        return { outcome: enqueue(log) };
      });
    const turn = enqueued.then(
      () => {},
      () => {},
    );
    this.waitingAppends.set(key, turn);
    void turn.then(() => {
      if (this.waitingAppends.get(key) === turn) this.waitingAppends.delete(key);
    });
    return enqueued.then((e) => e.outcome);
  }

  private appendTo(log: PartitionLog, request: AppendRequest): Promise<AppendResult> {
    const policy = this.opts.topicPolicy(request.topic.name);
    const codec = policy?.compression;
    let batches = request.batches;
    if (codec !== undefined) {
      try {
        batches = request.batches.map((b) => recompressBatch(b, codec));
      } catch (err) {
        throw new LogError(ErrorCode.CORRUPT_MESSAGE, `Cannot recompress batch: ${(err as Error).message}`);
      }
    }
    const first = readBatchHeader(request.batches[0]!);
    const last = request.batches.length === 1 ? first : readBatchHeader(request.batches[request.batches.length - 1]!);
    let producer: { entry: ReturnType<PartitionLog['producer']>; pending: PendingProducerBatch; transactional: boolean } | undefined;
    let settle: { resolve: (o: bigint) => void; reject: (e: unknown) => void } | undefined;
    if (first.producerId >= 0n) {
      const entry = log.producer(first.producerId, first.producerEpoch);
      const lastSequence = last.baseSequence + last.lastOffsetDelta;
      const verdict = entry.check({ producerId: first.producerId, producerEpoch: first.producerEpoch, firstSequence: first.baseSequence, lastSequence });
      if (verdict.kind === 'error') throw new LogError(verdict.errorCode, verdict.message);
      if (verdict.kind === 'duplicate') return Promise.resolve({ baseOffset: verdict.baseOffset, logAppendTimeMs: -1n, logStartOffset: log.logStartOffset });
      if (verdict.kind === 'duplicate-pending') {
        return verdict.pending.outcome.then((baseOffset) => ({ baseOffset, logAppendTimeMs: -1n, logStartOffset: log.logStartOffset }));
      }
      let resolve!: (o: bigint) => void;
      let reject!: (e: unknown) => void;
      const outcome = new Promise<bigint>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // a retry waiting on this outcome handles the rejection; nobody else must crash on it
      outcome.catch(() => {});
      const pending: PendingProducerBatch = { producerEpoch: first.producerEpoch, firstSequence: first.baseSequence, lastSequence, cancelled: false, outcome };
      entry.addPending(pending);
      producer = { entry, pending, transactional: first.isTransactional };
      settle = { resolve, reject };
    }
    let bytes = 0;
    for (const b of batches) bytes += b.length;
    const logAppendTime = policy?.logAppendTime ?? false;
    return new Promise<AppendResult>((resolve, reject) => {
      this.pipeline.enqueue({
        log,
        batches,
        bytes,
        deadlineMs: request.deadlineMs,
        logAppendTime,
        ...(producer ? { producer } : {}),
        resolve: (r) => {
          settle?.resolve(r.baseOffset);
          resolve({ ...r, logStartOffset: log.logStartOffset });
        },
        reject: (e) => {
          settle?.reject(e);
          reject(e);
        },
      });
    });
  }

  async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const log = await this.requireLog(topic, partition);
    return { highWatermark: log.highWatermark, logStartOffset: log.logStartOffset, lastStableOffset: log.lastStableOffset };
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const log = await this.requireLog(request.topic, request.partition);
    const hwm = log.highWatermark;
    const start = log.logStartOffset;
    const lso = log.lastStableOffset;
    if (request.offset < start || request.offset > hwm) {
      throw new LogError(ErrorCode.OFFSET_OUT_OF_RANGE, `Offset ${request.offset} is outside the log ${start}..${hwm} of ${request.topic}-${request.partition}`);
    }
    // read_committed stops at the last stable offset: no batch of an open transaction
    const end = request.readCommitted ? lso : hwm;
    if (request.offset >= end) return readResult([], hwm, start, lso);
    // views of the cached chunks, contiguous batches of one chunk as one part: nothing is copied
    const parts: Buffer[] = [];
    let total = 0;
    let next = request.offset;
    let lastReturned = -1n;
    while (next < end) {
      const chunk = await this.chunkAt(log, next);
      if (!chunk) break;
      const data = chunk.data;
      let pos = 0;
      let runStart = 0;
      let runEnd = -1;
      let full = false;
      while (pos + LOG_OVERHEAD <= data.length) {
        const size = data.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
        const base = data.readBigInt64BE(pos);
        const lastOffset = base + BigInt(data.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET));
        if (lastOffset >= next && base < end) {
          // always at least one whole batch, then stay within maxBytes
          if (total > 0 && total + size > request.maxBytes) {
            full = true;
            break;
          }
          if (runEnd !== pos) {
            if (runEnd >= 0) parts.push(data.subarray(runStart, runEnd));
            runStart = pos;
          }
          runEnd = pos + size;
          total += size;
          lastReturned = lastOffset;
        }
        pos += size;
      }
      if (runEnd >= 0) parts.push(data.subarray(runStart, runEnd));
      if (full) break;
      next = chunk.lastOffset + 1n;
      if (total >= request.maxBytes) break;
    }
    const aborted = request.readCommitted && lastReturned >= request.offset ? log.abortedIn(request.offset, lastReturned + 1n) : [];
    return readResult(parts, hwm, start, lso, aborted);
  }

  /** The chunk holding `offset`: recent writes first, then the chunk cache, then the object store. */
  private async chunkAt(log: PartitionLog, offset: bigint): Promise<CachedChunk | undefined> {
    const recent = this.recent.find(log.key, offset);
    if (recent) return recent;
    const [indexed] = await this.opts.metadata.chunks.findChunks(log.topic, log.partition, offset, 1);
    if (!indexed) return undefined;
    return { baseOffset: indexed.baseOffset, lastOffset: indexed.lastOffset, data: await this.loadChunk(indexed) };
  }

  private async loadChunk(chunk: IndexedChunk): Promise<Buffer> {
    const cached = this.chunkCache.get(chunk.objectKey, chunk.byteOffset);
    if (cached) return cached;
    const loadKey = `${chunk.objectKey}@${chunk.byteOffset}`;
    let load = this.chunkLoads.get(loadKey);
    if (!load) {
      load = this.opts.objects
        .get(chunk.objectKey, { start: chunk.byteOffset, end: chunk.byteOffset + chunk.byteLength })
        .then((data) => this.chunkCache.set(chunk.objectKey, chunk.byteOffset, data))
        .finally(() => this.chunkLoads.delete(loadKey));
      this.chunkLoads.set(loadKey, load);
    }
    try {
      return await load;
    } catch (err) {
      throw new LogError(ErrorCode.KAFKA_STORAGE_ERROR, `Could not read ${chunk.objectKey}: ${(err as Error).message}`);
    }
  }

  async waitForData(positions: ReadonlyArray<{ topic: string; partition: number; offset: bigint; readCommitted?: boolean }>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || signal?.aborted) return;
    const logs: Array<{ log: PartitionLog; offset: bigint }> = [];
    for (const p of positions) {
      const log = await this.partitionLog(p.topic, p.partition);
      if (!log) continue;
      if ((p.readCommitted ? log.lastStableOffset : log.highWatermark) > p.offset) return;
      logs.push({ log, offset: p.offset });
    }
    await new Promise<void>((resolve) => {
      const unsubscribe: Array<() => void> = [];
      const done = () => {
        clearTimeout(timer);
        for (const u of unsubscribe) u();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done);
      for (const { log } of logs) unsubscribe.push(log.onAdvance(done));
    });
  }

  async offsetForTimestamp(topic: string, partition: number, timestamp: bigint): Promise<TimestampLookup | undefined> {
    const log = await this.requireLog(topic, partition);
    let chunk = await this.opts.metadata.chunks.findChunkByTimestamp(topic, partition, timestamp);
    while (chunk) {
      if (chunk.maxTimestamp >= timestamp) {
        const found = this.scanForTimestamp(await this.loadChunk(chunk), timestamp, log.logStartOffset);
        if (found) return found;
      }
      [chunk] = await this.opts.metadata.chunks.findChunks(topic, partition, chunk.lastOffset + 1n, 1);
    }
    return undefined;
  }

  /** First record (in offset order) at or after `timestamp` and not below the log start. */
  private scanForTimestamp(data: Buffer, timestamp: bigint, logStart: bigint): TimestampLookup | undefined {
    for (const batch of iterateBatches(data)) {
      if (batch.readBigInt64BE(MAX_TIMESTAMP_OFFSET) < timestamp) continue;
      for (const r of decodeRecords(batch).records) {
        if (r.offset >= logStart && r.timestamp >= timestamp) return { offset: r.offset, timestamp: r.timestamp };
      }
    }
    return undefined;
  }

  async maxTimestampOffset(topic: string, partition: number): Promise<TimestampLookup | undefined> {
    const log = await this.requireLog(topic, partition);
    let best: IndexedChunk | undefined;
    let from = log.logStartOffset;
    for (;;) {
      const page = await this.opts.metadata.chunks.findChunks(topic, partition, from, 1000);
      for (const c of page) if (!best || c.maxTimestamp > best.maxTimestamp) best = c;
      if (page.length < 1000) break;
      from = page[page.length - 1]!.lastOffset + 1n;
    }
    if (!best) return undefined;
    let result: TimestampLookup | undefined;
    for (const batch of iterateBatches(await this.loadChunk(best))) {
      for (const r of decodeRecords(batch).records) {
        if (r.offset >= log.logStartOffset && (!result || r.timestamp > result.timestamp)) result = { offset: r.offset, timestamp: r.timestamp };
      }
    }
    return result;
  }

  async deleteRecords(topic: string, partition: number, offset: bigint): Promise<bigint> {
    // Only the leader moves a partition's log start (Kafka answers NOT_LEADER_OR_FOLLOWER).
    if (this.opts.leases && !this.opts.leases.held(topic, partition)) {
      throw new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `This agent does not lead ${topic}-${partition}`);
    }
    const log = await this.requireLog(topic, partition);
    const target = offset === -1n ? log.highWatermark : offset;
    if (target < 0n || target > log.highWatermark) {
      throw new LogError(ErrorCode.OFFSET_OUT_OF_RANGE, `Cannot delete records up to ${offset}: the high watermark of ${topic}-${partition} is ${log.highWatermark}`);
    }
    try {
      const newStart = await this.opts.metadata.partitions.advanceLogStart(topic, partition, target);
      if (newStart > log.logStartOffset) log.logStartOffset = newStart;
      log.dropAbortedBelow(log.logStartOffset);
      return log.logStartOffset;
    } catch (err) {
      if (isMetadataStoreError(err, 'OFFSET_OUT_OF_RANGE')) throw new LogError(ErrorCode.OFFSET_OUT_OF_RANGE, (err as Error).message);
      if (isMetadataStoreError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new LogError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, (err as Error).message);
      throw err;
    }
  }

  /** Bytes held by the caches (for metrics and the memory bound). */
  cacheBytes(): { recent: number; chunks: number } {
    return { recent: this.recent.size, chunks: this.chunkCache.size };
  }

  async close(): Promise<void> {
    await this.pipeline.close();
  }
}

/** Batches of a chunk, as views. */
export function* iterateBatches(data: Buffer): Generator<Buffer> {
  let pos = 0;
  while (pos + LOG_OVERHEAD <= data.length) {
    const size = data.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (pos + size > data.length) return;
    yield data.subarray(pos, pos + size);
    pos += size;
  }
}
