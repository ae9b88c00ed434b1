import type { Logger } from 'pino';
import type { GroupOffsetStore, ProducerMetadataStore, TransactionRecord, TransactionRecordInput, TransactionStateStore } from '../../metadata/metadata-store.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { KeyedMutex } from '../../common/keyed-mutex.js';
import { LogError, type MarkerRequest } from '../log-service.js';
import { PeriodicTask } from '../periodic-task.js';
import { backoff } from '../retry.js';

/** Kafka's int16 epoch: at the limit a transactional id gets a new producer id. */
const MAX_EPOCH = 32766;
const INT16_MAX = 32767;
/** How long EndTxn keeps retrying markers before answering a retriable error (the periodic task goes on). */
const MARKER_DEADLINE_MS = 15_000;

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** Writes one marker to a partition's leader, wherever it is (LogError on failure). */
export type MarkerWriter = (marker: MarkerRequest) => Promise<void>;

export interface TransactionCoordinatorOptions {
  readonly store: TransactionStateStore;
  readonly groupOffsets: GroupOffsetStore;
  readonly producers: ProducerMetadataStore;
  /** Whether this agent coordinates the id now (its coordinator shard). */
  readonly isLocal: (transactionalId: string) => boolean;
  readonly writeMarker: MarkerWriter;
  readonly logger: Logger;
  /** transaction.max.timeout.ms */
  readonly maxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortIntervalMs: number;
  /** For tests: the clock. */
  readonly now?: () => number;
}

/** A request's answer: a Kafka error code, NONE on success. */
export interface InitProducerIdResult {
  readonly errorCode: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

class TxnError extends Error {
  constructor(readonly errorCode: number, message: string) {
    super(message);
  }
}

/**
 * Kafka's transaction coordinator (KIP-98) for the transactional ids of the coordinator
 * shards this agent holds. Its state lives only in the metadata store: every request reads
 * the id's record and writes it back under a compare-and-set guard, so an agent that takes a
 * shard over continues where the previous one stopped. EndTxn persists PrepareCommit or
 * PrepareAbort before any marker is written, writes the markers to every partition, applies
 * the transaction's offsets, then persists CompleteCommit or CompleteAbort and answers; a
 * transaction left in a Prepare state (its coordinator died) is finished by the periodic
 * task, which also aborts transactions open past their timeout.
 */
export class TransactionCoordinator {
  private readonly mutex = new KeyedMutex<string>();
  private readonly task: PeriodicTask<void>;
  private readonly now: () => number;

  constructor(private readonly opts: TransactionCoordinatorOptions) {
    this.now = opts.now ?? Date.now;
    this.task = new PeriodicTask({
      run: () => this.sweep(),
      intervalMs: opts.abortIntervalMs,
      logger: opts.logger,
      failureMessage: 'transaction timeout and recovery pass failed',
    });
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One pass of the periodic work now (tests). */
  sweepNow(): Promise<void> {
    return this.task.runOnce();
  }

  // ---- requests ---------------------------------------------------------------------

  initProducerId(transactionalId: string, timeoutMs: number, expected: { producerId: bigint; producerEpoch: number }): Promise<InitProducerIdResult> {
    const refuse = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (timeoutMs <= 0 || timeoutMs > this.opts.maxTimeoutMs) return Promise.resolve(refuse(ErrorCode.INVALID_TRANSACTION_TIMEOUT));
    return this.guarded(transactionalId, refuse, async () => {
      let record = await this.opts.store.get(transactionalId);
      if (!record) {
        const producerId = await this.opts.producers.allocateProducerId();
        const created = await this.put(emptyRecord(transactionalId, producerId, 0, -1, timeoutMs, this.now()), 0);
        return { errorCode: ErrorCode.NONE, producerId: created.producerId, producerEpoch: created.producerEpoch };
      }
      // KIP-360: a producer that names its id and epoch may only bump its own, current epoch;
      // naming the epoch the last bump started from, it retries that bump (its answer was
      // lost) and gets the same answer. A new instance (no id) bumps and forgets that epoch.
      const named = expected.producerId >= 0n;
      if (named && expected.producerId === record.producerId && record.lastProducerEpoch >= 0 && expected.producerEpoch === record.lastProducerEpoch) {
        return { errorCode: ErrorCode.NONE, producerId: record.producerId, producerEpoch: record.producerEpoch };
      }
      if (named && (expected.producerId !== record.producerId || expected.producerEpoch !== record.producerEpoch)) {
        throw new TxnError(ErrorCode.PRODUCER_FENCED, `Producer ${expected.producerId} epoch ${expected.producerEpoch} is not the current ${record.producerId}/${record.producerEpoch} of ${transactionalId}`);
      }
      const bumpedFrom = named ? record.producerEpoch : -1;
      if (record.state === 'PrepareCommit' || record.state === 'PrepareAbort') record = await this.complete(record);
      if (record.state === 'Ongoing') {
        // fence the previous producer: its open transaction is aborted under the next epoch
        record = await this.abort(record, true, bumpedFrom);
        if (record.producerEpoch < INT16_MAX) return { errorCode: ErrorCode.NONE, producerId: record.producerId, producerEpoch: record.producerEpoch };
      }
      const bumped = record.producerEpoch >= MAX_EPOCH ? { producerId: await this.opts.producers.allocateProducerId(), producerEpoch: 0 } : { producerId: record.producerId, producerEpoch: record.producerEpoch + 1 };
      const next = await this.put(emptyRecord(transactionalId, bumped.producerId, bumped.producerEpoch, bumped.producerId === record.producerId ? bumpedFrom : -1, timeoutMs, this.now()), record.version);
      return { errorCode: ErrorCode.NONE, producerId: next.producerId, producerEpoch: next.producerEpoch };
    });
  }

  /** AddPartitionsToTxn for partitions the caller checked exist: one code for all of them. */
  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly TopicPartitionRef[]): Promise<number> {
    return this.guarded(transactionalId, (code) => code, async () => {
      const record = this.current(await this.opts.store.get(transactionalId), transactionalId, producerId, producerEpoch);
      this.openable(record);
      const known = new Set(record.partitions.map((p) => `${p.topic}\u0000${p.partition}`));
      const added = partitions.filter((p) => !known.has(`${p.topic}\u0000${p.partition}`));
      if (added.length === 0 && record.state === 'Ongoing') return ErrorCode.NONE;
      const merged = [...record.partitions, ...dedupe(added)].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      await this.put({ ...inputOf(record), state: 'Ongoing', partitions: merged, startedAtMs: record.state === 'Ongoing' ? record.startedAtMs : this.now(), updatedAtMs: this.now() }, record.version);
      return ErrorCode.NONE;
    });
  }

  /** AddOffsetsToTxn: the group's offsets will commit (TxnOffsetCommit) with the transaction. */
  addOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    return this.guarded(transactionalId, (code) => code, async () => {
      const record = this.current(await this.opts.store.get(transactionalId), transactionalId, producerId, producerEpoch);
      this.openable(record);
      if (record.groups.includes(groupId) && record.state === 'Ongoing') return ErrorCode.NONE;
      const groups = [...new Set([...record.groups, groupId])].sort();
      await this.put({ ...inputOf(record), state: 'Ongoing', groups, startedAtMs: record.state === 'Ongoing' ? record.startedAtMs : this.now(), updatedAtMs: this.now() }, record.version);
      return ErrorCode.NONE;
    });
  }

  /** EndTxn: commits or aborts the open transaction; answers once its markers and offsets are written. */
  endTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    return this.guarded(transactionalId, (code) => code, async () => {
      let record = this.current(await this.opts.store.get(transactionalId), transactionalId, producerId, producerEpoch);
      const prepare = commit ? 'PrepareCommit' : 'PrepareAbort';
      const done = commit ? 'CompleteCommit' : 'CompleteAbort';
      // a retry of an EndTxn that already finished, or one whose markers are still owed
      if (record.state === done) return ErrorCode.NONE;
      if (record.state === prepare) {
        await this.complete(record);
        return ErrorCode.NONE;
      }
      if (record.state !== 'Ongoing') throw new TxnError(ErrorCode.INVALID_TXN_STATE, `EndTxn(${commit ? 'commit' : 'abort'}) of ${transactionalId} in state ${record.state}`);
      record = await this.put({ ...inputOf(record), state: prepare, updatedAtMs: this.now() }, record.version);
      await this.complete(record);
      return ErrorCode.NONE;
    });
  }

  /**
   * Produce-time verification: the producer's open transaction includes the partition.
   * Reads the store, so it holds on every agent, whoever coordinates the id.
   */
  async verify(check: { transactionalId: string; producerId: bigint; producerEpoch: number; topic: string; partition: number }): Promise<void> {
    const record = await this.opts.store.get(check.transactionalId);
    if (!record || record.producerId !== check.producerId) throw new LogError(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `No transaction of producer ${check.producerId} for ${check.transactionalId}`);
    // Kafka: the coordinator answers an epoch other than its own first (PRODUCER_FENCED, which
    // Produce reports as INVALID_PRODUCER_EPOCH), before it looks at the partitions
    if (check.producerEpoch !== record.producerEpoch) throw new LogError(ErrorCode.INVALID_PRODUCER_EPOCH, `Producer epoch ${check.producerEpoch} of ${check.transactionalId} is not the coordinator's epoch ${record.producerEpoch}`);
    const included = record.state === 'Ongoing' && record.producerEpoch === check.producerEpoch && record.partitions.some((p) => p.topic === check.topic && p.partition === check.partition);
    if (!included) throw new LogError(ErrorCode.INVALID_TXN_STATE, `${check.topic}-${check.partition} is not part of the open transaction of ${check.transactionalId}`);
  }

  /** TxnOffsetCommit's check that the group is in the producer's open transaction; an error code. */
  async verifyOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): Promise<number> {
    const record = await this.opts.store.get(transactionalId);
    if (!record || record.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== record.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (record.state !== 'Ongoing' || !record.groups.includes(groupId)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /** Every transactional id's record (DescribeTransactions, ListTransactions). */
  list(): Promise<TransactionRecord[]> {
    return this.opts.store.list();
  }

  /** Whether this agent coordinates the id now. */
  isLocal(transactionalId: string): boolean {
    return this.opts.isLocal(transactionalId);
  }

  get(transactionalId: string): Promise<TransactionRecord | undefined> {
    return this.opts.store.get(transactionalId);
  }

  // ---- the work -----------------------------------------------------------------------

  /** Runs `work` in the id's turn on this agent; TxnError and store failures become codes. */
  private guarded<T>(transactionalId: string, refuse: (code: number) => T, work: () => Promise<T>): Promise<T> {
    if (!this.opts.isLocal(transactionalId)) return Promise.resolve(refuse(ErrorCode.NOT_COORDINATOR));
    return this.mutex.run(transactionalId, async () => {
      try {
        return await work();
      } catch (err) {
        if (err instanceof TxnError) return refuse(err.errorCode);
        this.opts.logger.error({ err, transactionalId }, 'transaction coordinator request failed');
        return refuse(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
    });
  }

  /** The record, if `producerId`/`producerEpoch` are its current producer (Kafka's checks and codes). */
  private current(record: TransactionRecord | undefined, transactionalId: string, producerId: bigint, producerEpoch: number): TransactionRecord {
    if (!record || record.producerId !== producerId) throw new TxnError(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `${transactionalId} has no producer ${producerId}`);
    if (record.producerEpoch !== producerEpoch) throw new TxnError(ErrorCode.PRODUCER_FENCED, `epoch ${producerEpoch} of ${transactionalId} is not the current ${record.producerEpoch}`);
    return record;
  }

  /** A transaction can be added to only when none is ending. */
  private openable(record: TransactionRecord): void {
    if (record.state === 'PrepareCommit' || record.state === 'PrepareAbort') throw new TxnError(ErrorCode.CONCURRENT_TRANSACTIONS, `${record.transactionalId} is completing its transaction`);
  }

  private async put(input: TransactionRecordInput, expectedVersion: number): Promise<TransactionRecord> {
    const stored = await this.opts.store.put(input, expectedVersion);
    // another agent changed it (a coordinator hand-over in progress): the client retries
    if (!stored) throw new TxnError(ErrorCode.CONCURRENT_TRANSACTIONS, `${input.transactionalId} was changed concurrently`);
    return stored;
  }

  /**
   * Aborts the open transaction; `fence` moves the id to the next epoch first (the old
   * producer is fenced), unless the epoch is at its int16 limit: then the abort keeps it and
   * InitProducerId moves the id to a new producer id.
   */
  private async abort(record: TransactionRecord, fence: boolean, lastProducerEpoch = -1): Promise<TransactionRecord> {
    const epoch = fence && record.producerEpoch < INT16_MAX ? record.producerEpoch + 1 : record.producerEpoch;
    const prepared = await this.put({ ...inputOf(record), producerEpoch: epoch, lastProducerEpoch: epoch === record.producerEpoch ? record.lastProducerEpoch : lastProducerEpoch, state: 'PrepareAbort', updatedAtMs: this.now() }, record.version);
    return this.complete(prepared);
  }

  /** Writes the markers of a Prepare state to every partition, applies the offsets, and records the end. */
  private async complete(record: TransactionRecord): Promise<TransactionRecord> {
    const commit = record.state === 'PrepareCommit';
    // wall-clock: backoff() compares against Date.now()
    const deadline = Date.now() + MARKER_DEADLINE_MS;
    await Promise.all(record.partitions.map((p) => this.markPartition(record, p, commit, deadline)));
    if (record.groups.length > 0) await this.opts.groupOffsets.completeTransactional(record.producerId, record.groups, commit);
    return this.put({ ...inputOf(record), state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [], groups: [], startedAtMs: -1, updatedAtMs: this.now() }, record.version);
  }

  private async markPartition(record: TransactionRecord, p: TopicPartitionRef, commit: boolean, deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.writeMarker({ topic: p.topic, partition: p.partition, producerId: record.producerId, producerEpoch: record.producerEpoch, commit, coordinatorEpoch: 0, deadlineMs: Date.now() + 10_000 });
        return;
      } catch (err) {
        const code = err instanceof LogError ? err.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
        // a deleted partition has nothing to end; a newer epoch's marker already ended it
        if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || code === ErrorCode.INVALID_PRODUCER_EPOCH) return;
        this.opts.logger.warn({ err, transactionalId: record.transactionalId, topic: p.topic, partition: p.partition, attempt }, 'writing a transaction marker failed; retrying');
        if (!(await backoff(attempt, deadline))) throw new TxnError(ErrorCode.CONCURRENT_TRANSACTIONS, `markers of ${record.transactionalId} are not all written yet`);
      }
    }
  }

  /** Aborts transactions open past their timeout and finishes those a coordinator left half done. */
  private async sweep(): Promise<void> {
    const records = await this.opts.store.list();
    const now = this.now();
    for (const r of records) {
      if (!this.opts.isLocal(r.transactionalId)) continue;
      const timedOut = r.state === 'Ongoing' && r.startedAtMs >= 0 && now - r.startedAtMs > r.timeoutMs;
      const halfDone = r.state === 'PrepareCommit' || r.state === 'PrepareAbort';
      if (!timedOut && !halfDone) continue;
      await this.mutex.run(r.transactionalId, async () => {
        const fresh = await this.opts.store.get(r.transactionalId);
        if (!fresh || fresh.version !== r.version) return;
        try {
          if (timedOut) {
            this.opts.logger.info({ transactionalId: r.transactionalId, producerId: r.producerId, timeoutMs: r.timeoutMs }, 'aborting a transaction open past its timeout');
            await this.abort(fresh, true);
          } else {
            await this.complete(fresh);
          }
        } catch (err) {
          this.opts.logger.warn({ err, transactionalId: r.transactionalId }, 'could not end a transaction yet; the next pass retries');
        }
      });
    }
  }
}

function emptyRecord(transactionalId: string, producerId: bigint, producerEpoch: number, lastProducerEpoch: number, timeoutMs: number, now: number): TransactionRecordInput {
  return { transactionalId, producerId, producerEpoch, lastProducerEpoch, state: 'Empty', timeoutMs, partitions: [], groups: [], startedAtMs: -1, updatedAtMs: now };
}

function inputOf(record: TransactionRecord): TransactionRecordInput {
  const { version: _version, ...input } = record;
  return input;
}

function dedupe(partitions: readonly TopicPartitionRef[]): TopicPartitionRef[] {
  const seen = new Map<string, TopicPartitionRef>();
  for (const p of partitions) seen.set(`${p.topic}\u0000${p.partition}`, { topic: p.topic, partition: p.partition });
  return [...seen.values()];
}
