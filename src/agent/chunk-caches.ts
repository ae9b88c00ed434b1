import { LRUCache } from 'lru-cache';

export interface CachedChunk {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly data: Buffer;
}

/**
 * Chunks this agent committed recently, per partition, bounded in bytes overall (oldest
 * first out). Consumers tailing a partition are served from here without any GET.
 */
export class RecentWriteCache {
  private readonly byPartition = new Map<string, CachedChunk[]>();
  private readonly order: Array<{ key: string; chunk: CachedChunk }> = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(key: string, chunk: CachedChunk): void {
    if (this.maxBytes <= 0) return;
    let list = this.byPartition.get(key);
    if (!list) this.byPartition.set(key, (list = []));
    list.push(chunk);
    this.order.push({ key, chunk });
    this.bytes += chunk.data.length;
    while (this.bytes > this.maxBytes && this.head < this.order.length) {
      const old = this.order[this.head++]!;
      const l = this.byPartition.get(old.key);
      // a chunk of a dropped partition was already subtracted
      const at = l ? l.indexOf(old.chunk) : -1;
      if (at < 0) continue;
      l!.splice(at, 1);
      if (l!.length === 0) this.byPartition.delete(old.key);
      this.bytes -= old.chunk.data.length;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The cached chunk holding `offset`, if any. */
  find(key: string, offset: bigint): CachedChunk | undefined {
    const list = this.byPartition.get(key);
    if (!list || list.length === 0 || offset < list[0]!.baseOffset) return undefined;
    // binary search: chunks are appended in offset order
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = list[mid]!;
      if (offset < c.baseOffset) hi = mid - 1;
      else if (offset > c.lastOffset) lo = mid + 1;
      else return c;
    }
    return undefined;
  }

  dropPartition(key: string): void {
    const list = this.byPartition.get(key);
    if (!list) return;
    for (const c of list) this.bytes -= c.data.length;
    this.byPartition.delete(key);
    // entries left in `order` are skipped when evicted because they are no longer in a list
  }

  get size(): number {
    return this.bytes;
  }
}

/** Chunks read back from the object store, LRU by bytes. */
export class ChunkCache {
  private readonly lru: LRUCache<string, Buffer>;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Buffer>({ maxSize: Math.max(1, maxBytes), sizeCalculation: (b) => Math.max(1, b.length) });
  }

  get(objectKey: string, byteOffset: number): Buffer | undefined {
    const v = this.lru.get(`${objectKey}@${byteOffset}`);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  set(objectKey: string, byteOffset: number, data: Buffer): void {
    this.lru.set(`${objectKey}@${byteOffset}`, data);
  }

  get size(): number {
    return this.lru.calculatedSize;
  }
}
