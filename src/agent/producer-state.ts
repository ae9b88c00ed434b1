import { ErrorCode } from '../protocol/error-codes.js';
import { MAX_PRODUCER_BATCHES, type ProducerBatchRecord } from '../metadata/metadata-store.js';

const INT32_MAX = 2147483647;

/** A batch accepted but not yet committed; it learns its offsets at flush. */
export interface PendingProducerBatch {
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  /** Set when an earlier batch of the same producer failed: this one must not be written. */
  cancelled: boolean;
  /** Settles with the batch's base offset once committed. */
  readonly outcome: Promise<bigint>;
}

export type SequenceVerdict =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly baseOffset: bigint }
  | { readonly kind: 'duplicate-pending'; readonly pending: PendingProducerBatch }
  | { readonly kind: 'error'; readonly errorCode: number; readonly message: string };

export interface BatchIdentity {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
}

function inSequence(lastSequence: number, nextFirst: number): boolean {
  return nextFirst === (lastSequence === INT32_MAX ? 0 : lastSequence + 1);
}

/** What one flush does to a producer on a partition, in log order. */
export type ProducerStep =
  | { readonly kind: 'batch'; readonly batch: PendingProducerBatch; readonly baseOffset: bigint; readonly lastOffset: bigint; readonly transactional: boolean }
  | { readonly kind: 'marker'; readonly producerEpoch: number; readonly commit: boolean; readonly offset: bigint };

/** A producer's committed state on a partition after a flush, and the transactions it aborted. */
export interface ProducerPreview {
  readonly producerEpoch: number;
  readonly batches: ProducerBatchRecord[];
  readonly txnFirstOffset: bigint | null;
  readonly aborted: ReadonlyArray<{ readonly firstOffset: bigint; readonly lastOffset: bigint }>;
}

/**
 * One idempotent producer's history on one partition: the last committed batches (which a
 * new owner loads from the metadata store) and the batches in flight; for a transactional
 * producer also where its open transaction on the partition starts.
 */
export class ProducerEntry {
  private pending: PendingProducerBatch[] = [];
  /** The epoch whose open transaction the coordinator confirmed includes this partition (cleared by a marker). */
  txnVerifiedEpoch: number | undefined;
  /**
   * The epoch of the newest marker enqueued: from then on older epochs are fenced here, even
   * before that marker commits (a batch of the old epoch must not follow it into the log).
   */
  epochFloor = -1;

  constructor(
    readonly producerId: bigint,
    public producerEpoch: number,
    private committed: ProducerBatchRecord[],
    /** First offset of the open transaction on this partition, null when none is open. */
    public txnFirstOffset: bigint | null = null,
  ) {}

  /** Applies a committed flush's preview (after `commit` of its batches). */
  adopt(preview: ProducerPreview): void {
    this.producerEpoch = preview.producerEpoch;
    this.committed = [...preview.batches];
    this.txnFirstOffset = preview.txnFirstOffset;
  }

  get committedBatches(): readonly ProducerBatchRecord[] {
    return this.committed;
  }

  /** Kafka's rules for a new batch: fenced epochs, duplicates, sequence gaps. */
  check(batch: BatchIdentity): SequenceVerdict {
    if (batch.producerEpoch < this.producerEpoch || batch.producerEpoch < this.epochFloor) {
      return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `Producer epoch ${batch.producerEpoch} is older than the current epoch ${Math.max(this.producerEpoch, this.epochFloor)} of producer ${this.producerId}` };
    }
    if (batch.producerEpoch === this.producerEpoch) {
      for (const p of this.pending) {
        if (!p.cancelled && p.producerEpoch === batch.producerEpoch && p.firstSequence === batch.firstSequence && p.lastSequence === batch.lastSequence) {
          return { kind: 'duplicate-pending', pending: p };
        }
      }
      for (const c of this.committed) {
        if (c.firstSequence === batch.firstSequence && c.lastSequence === batch.lastSequence) return { kind: 'duplicate', baseOffset: c.baseOffset };
      }
    }
    const last = this.lastSequence(batch.producerEpoch);
    if (last === undefined) {
      if (batch.firstSequence !== 0) {
        // a known producer with a new epoch must restart at 0; an unknown one may have lost its state
        return this.committed.length > 0 || this.pending.length > 0 || batch.producerEpoch > this.producerEpoch
          ? { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Invalid sequence number for new epoch ${batch.producerEpoch} of producer ${this.producerId}: ${batch.firstSequence} (request epoch), 0 (expected)` }
          : { kind: 'error', errorCode: ErrorCode.UNKNOWN_PRODUCER_ID, message: `Found no record of producer ${this.producerId} on this partition; first sequence ${batch.firstSequence}` };
      }
      return { kind: 'append' };
    }
    if (!inSequence(last, batch.firstSequence)) {
      return { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Out of order sequence number for producer ${this.producerId}: ${batch.firstSequence} (incoming seq. number), ${last} (current end sequence number)` };
    }
    return { kind: 'append' };
  }

  /** Last sequence of the newest live batch in this epoch, if any. */
  private lastSequence(epoch: number): number | undefined {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (!p.cancelled && p.producerEpoch === epoch) return p.lastSequence;
    }
    if (epoch !== this.producerEpoch) return undefined;
    const c = this.committed[this.committed.length - 1];
    return c?.lastSequence;
  }

  addPending(batch: PendingProducerBatch): void {
    this.pending.push(batch);
  }

  /** The batch became durable at `baseOffset..lastOffset`. */
  commit(batch: PendingProducerBatch, baseOffset: bigint, lastOffset: bigint): void {
    const i = this.pending.indexOf(batch);
    if (i >= 0) this.pending.splice(i, 1);
    if (batch.producerEpoch !== this.producerEpoch) {
      this.producerEpoch = batch.producerEpoch;
      this.committed = [];
    }
    this.committed.push({ firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, baseOffset, lastOffset });
    if (this.committed.length > MAX_PRODUCER_BATCHES) this.committed.splice(0, this.committed.length - MAX_PRODUCER_BATCHES);
  }

  /** The batch failed: it and every later batch of this producer are cancelled. */
  fail(batch: PendingProducerBatch): void {
    const i = this.pending.indexOf(batch);
    if (i < 0) return;
    for (let j = i; j < this.pending.length; j++) this.pending[j]!.cancelled = true;
    this.pending.splice(i);
  }

  /**
   * What the commit persists: the committed history with this flush's batches and markers
   * applied in log order. A marker ends the open transaction (an ABORT records its range)
   * and a marker of a newer epoch (the coordinator fenced the producer) starts that epoch.
   */
  previewSteps(steps: readonly ProducerStep[]): ProducerPreview {
    let epoch = this.producerEpoch;
    let batches = [...this.committed];
    let txnFirstOffset = this.txnFirstOffset;
    const aborted: Array<{ firstOffset: bigint; lastOffset: bigint }> = [];
    for (const step of steps) {
      if (step.kind === 'marker') {
        if (!step.commit && txnFirstOffset !== null) aborted.push({ firstOffset: txnFirstOffset, lastOffset: step.offset });
        txnFirstOffset = null;
        if (step.producerEpoch > epoch) {
          epoch = step.producerEpoch;
          batches = [];
        }
        continue;
      }
      if (step.batch.producerEpoch !== epoch) {
        epoch = step.batch.producerEpoch;
        batches = [];
      }
      batches.push({ firstSequence: step.batch.firstSequence, lastSequence: step.batch.lastSequence, baseOffset: step.baseOffset, lastOffset: step.lastOffset });
      if (step.transactional && txnFirstOffset === null) txnFirstOffset = step.baseOffset;
    }
    return { producerEpoch: epoch, batches: batches.slice(-MAX_PRODUCER_BATCHES), txnFirstOffset, aborted };
  }
}
