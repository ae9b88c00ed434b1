import type { AbortedTransaction, ProducerPartitionState } from '../metadata/metadata-store.js';
import { ProducerEntry } from './producer-state.js';

/** The agent's in-memory view of one partition it writes and serves. */
export class PartitionLog {
  /** Offset after the last committed record (what consumers may read up to). */
  highWatermark: bigint;
  /** Next offset a flush will assign; runs ahead of the HWM while flushes are in flight. */
  nextOffset: bigint;
  logStartOffset: bigint;
  /** Set when a flush of this partition failed or was fenced: the agent reloads it from the store. */
  stale = false;
  /** The lease this state was loaded under (cluster mode); flush commits are guarded by it. */
  lease: { readonly owner: string; readonly epoch: number } | undefined;
  readonly producers = new Map<bigint, ProducerEntry>();
  /** Transactions aborted on this partition (ABORT marker at or after the log start), oldest first. */
  readonly abortedTransactions: AbortedTransaction[];
  /** Producers with an open transaction here: the LSO looks only at these, not at every producer. */
  private readonly openTransactions = new Set<ProducerEntry>();
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    highWatermark: bigint,
    logStartOffset: bigint,
    producerStates: readonly ProducerPartitionState[],
    abortedTransactions: readonly AbortedTransaction[] = [],
  ) {
    this.highWatermark = highWatermark;
    this.nextOffset = highWatermark;
    this.logStartOffset = logStartOffset;
    this.abortedTransactions = [...abortedTransactions];
    for (const s of producerStates) {
      const entry = new ProducerEntry(s.producerId, s.producerEpoch, [...s.batches], s.txnFirstOffset);
      this.producers.set(s.producerId, entry);
      if (entry.txnFirstOffset !== null) this.openTransactions.add(entry);
    }
  }

  /** A committed flush changed the producer's open-transaction offset. */
  transactionChanged(entry: ProducerEntry): void {
    if (entry.txnFirstOffset === null) this.openTransactions.delete(entry);
    else this.openTransactions.add(entry);
  }

  /**
   * The last stable offset: the first offset of the oldest open transaction, or the HWM.
   * read_committed consumers read below it.
   */
  get lastStableOffset(): bigint {
    let lso = this.highWatermark;
    for (const p of this.openTransactions) if (p.txnFirstOffset !== null && p.txnFirstOffset < lso) lso = p.txnFirstOffset;
    return lso;
  }

  /** Aborted transactions overlapping [from, to): what a read_committed fetch of that range must tell the client. */
  abortedIn(from: bigint, to: bigint): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    for (const a of this.abortedTransactions) if (a.lastOffset >= from && a.firstOffset < to) out.push(a);
    return out;
  }

  /** DeleteRecords/retention moved the log start: forget aborted ranges wholly below it. */
  dropAbortedBelow(offset: bigint): void {
    let n = 0;
    while (n < this.abortedTransactions.length && this.abortedTransactions[n]!.lastOffset < offset) n++;
    if (n > 0) this.abortedTransactions.splice(0, n);
  }

  get key(): string {
    return `${this.topic}\u0000${this.partition}`;
  }

  producer(producerId: bigint, epoch: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry) {
      entry = new ProducerEntry(producerId, epoch, []);
      this.producers.set(producerId, entry);
    }
    return entry;
  }

  /** Registers a callback for the next HWM advance; returns a function that unregisters it. */
  onAdvance(callback: () => void): () => void {
    this.waiters.add(callback);
    return () => this.waiters.delete(callback);
  }

  /** Wakes every waiter without moving the HWM (e.g. when the partition goes stale). */
  wakeAll(): void {
    this.advanceTo(this.highWatermark);
  }

  advanceTo(newHighWatermark: bigint): void {
    this.highWatermark = newHighWatermark;
    if (this.waiters.size === 0) return;
    const callbacks = [...this.waiters];
    this.waiters.clear();
    for (const cb of callbacks) cb();
  }
}
