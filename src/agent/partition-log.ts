import type { ProducerPartitionState } from '../metadata/metadata-store.js';
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
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    highWatermark: bigint,
    logStartOffset: bigint,
    producerStates: readonly ProducerPartitionState[],
  ) {
    this.highWatermark = highWatermark;
    this.nextOffset = highWatermark;
    this.logStartOffset = logStartOffset;
    for (const s of producerStates) this.producers.set(s.producerId, new ProducerEntry(s.producerId, s.producerEpoch, [...s.batches]));
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
