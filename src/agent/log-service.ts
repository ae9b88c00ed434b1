import type { AbortedTransaction, Topic } from '../metadata/metadata-store.js';

/** A Kafka error for one partition, raised by the log and answered per partition. */
export class LogError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'LogError';
  }
}

export interface AppendRequest {
  readonly topic: Topic;
  readonly partition: number;
  /** Validated magic-v2 batches (views into the request frame; the log patches offsets in place). */
  readonly batches: readonly Buffer[];
  /** Epoch ms after which the producer has given up; the append fails with REQUEST_TIMED_OUT. */
  readonly deadlineMs: number;
  /** The Produce request's transactional id: transactional batches are checked against its transaction. */
  readonly transactionalId?: string | null;
}

/** A COMMIT or ABORT marker for one partition (WriteTxnMarkers, or the local coordinator). */
export interface MarkerRequest {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
  readonly deadlineMs: number;
}

/**
 * Asks the transaction coordinator whether `transactionalId`'s open transaction at this
 * producer id and epoch includes the partition (Kafka's produce-time verification); throws
 * LogError INVALID_TXN_STATE, INVALID_PRODUCER_EPOCH, ... when it does not.
 */
export type TransactionVerifier = (check: { transactionalId: string; producerId: bigint; producerEpoch: number; topic: string; partition: number }) => Promise<void>;

export interface AppendResult {
  /** Offset of the first record of the first batch (the original offset for a duplicate). */
  readonly baseOffset: bigint;
  /** Broker time used for LogAppendTime topics, else -1. */
  readonly logAppendTimeMs: bigint;
  readonly logStartOffset: bigint;
}

export interface ReadRequest {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Upper bound on returned bytes, except that one whole batch is always returned. */
  readonly maxBytes: number;
  /** isolation.level=read_committed: only below the last stable offset, with the aborted transactions. */
  readonly readCommitted?: boolean;
}

export interface ReadResult {
  /**
   * Whole record batches starting with the one containing `offset`; empty at the HWM. One
   * buffer: when the read came back in several parts, they are concatenated on first use.
   */
  readonly records: Buffer;
  /**
   * The same bytes as a list of parts, each made of whole batches, usually views of cached
   * chunks (Fetch writes them to the socket without concatenating them).
   */
  readonly parts: readonly Buffer[];
  /** Total bytes of `parts` (= records.length). */
  readonly size: number;
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  readonly lastStableOffset: bigint;
  /** read_committed: the aborted transactions overlapping the returned batches (else empty). */
  readonly abortedTransactions: readonly AbortedTransaction[];
}

/** A ReadResult over `parts`, whose `records` concatenates them only if someone asks. */
export function readResult(
  parts: readonly Buffer[],
  highWatermark: bigint,
  logStartOffset: bigint,
  lastStableOffset: bigint = highWatermark,
  abortedTransactions: readonly AbortedTransaction[] = [],
): ReadResult {
  let size = 0;
  for (const p of parts) size += p.length;
  let joined: Buffer | undefined = parts.length === 0 ? Buffer.alloc(0) : parts.length === 1 ? parts[0] : undefined;
  return {
    get records(): Buffer {
      return (joined ??= Buffer.concat(parts as Buffer[], size));
    },
    parts,
    size,
    highWatermark,
    logStartOffset,
    lastStableOffset,
    abortedTransactions,
  };
}

export interface PartitionOffsets {
  readonly highWatermark: bigint;
  readonly logStartOffset: bigint;
  /** First offset of the oldest open transaction, or the HWM. */
  readonly lastStableOffset: bigint;
}

export interface TimestampLookup {
  readonly offset: bigint;
  readonly timestamp: bigint;
}

/**
 * The agent's log, as request handlers see it (docs/architecture.md §4-§5). Errors are LogError with a Kafka
 * error code, per partition.
 */
export interface LogService {
  append(request: AppendRequest): Promise<AppendResult>;
  /** Writes a transaction marker after everything appended to the partition before it; resolves with its offset once committed. */
  appendMarker(request: MarkerRequest): Promise<bigint>;
  read(request: ReadRequest): Promise<ReadResult>;
  offsets(topic: string, partition: number): Promise<PartitionOffsets>;
  /**
   * Resolves when any listed partition's HWM (its last stable offset for a read_committed
   * position) moves past the given offset, when the
   * timeout passes, or when the signal aborts — whichever comes first.
   */
  waitForData(positions: ReadonlyArray<{ topic: string; partition: number; offset: bigint; readCommitted?: boolean }>, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** First offset whose record timestamp is >= timestamp, or undefined when there is none. */
  offsetForTimestamp(topic: string, partition: number, timestamp: bigint): Promise<TimestampLookup | undefined>;
  /** Offset and timestamp of the record with the largest timestamp (ListOffsets -3). */
  maxTimestampOffset(topic: string, partition: number): Promise<TimestampLookup | undefined>;
  /** Advances the log start offset (-1 means the HWM); returns the new low watermark. */
  deleteRecords(topic: string, partition: number, offset: bigint): Promise<bigint>;
  /** Forgets cached state of a deleted topic. */
  forgetTopic(topic: string): void;
  close(): Promise<void>;
}
