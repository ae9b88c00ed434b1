import { LRUCache } from 'lru-cache';

export interface CachedChunk {
  readonly baseOffset: bigint;
  readonly lastOffset: bigint;
  readonly data: Buffer;
}

/** A copy of `data` in memory of its own (never a slice of Node's shared Buffer pool). */
function ownedCopy(data: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(data.length);
  data.copy(out);
  return out;
}

/** One chunk in the cache's insertion order; `chunk` is cleared once it left the cache. */
interface Entry {
  readonly key: string;
  chunk: CachedChunk | undefined;
}

/**
 * Chunks this agent committed recently, per partition, bounded in bytes overall (oldest
 * first out). Consumers tailing a partition are served from here without any GET.
 *
 * A chunk is normally a view into the flush's segment body, shared with the other
 * partitions' chunks of that flush, so nothing is copied on the produce path. The bound is
 * on the memory the cache keeps alive: each distinct ArrayBuffer under the cached chunks
 * counts once, whole, however little of it the chunks cover. A chunk whose ArrayBuffer
 * alone would exceed the bound is copied out of it instead.
 */
export class RecentWriteCache {
  private readonly byPartition = new Map<string, Entry[]>();
  /** Insertion order; slots before `head` are already evicted and cleared. */
  private order: Array<Entry | undefined> = [];
  private head = 0;
  /** Cached chunks per ArrayBuffer they are views of. */
  private readonly pinned = new Map<ArrayBufferLike, number>();
  private bytes = 0;
  /** Look-ups answered from here, and those that were not (metrics). */
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  add(key: string, chunk: CachedChunk): void {
    // a chunk larger than the whole cache would only push everything else out
    if (this.maxBytes <= 0 || chunk.data.length > this.maxBytes) return;
    if (chunk.data.buffer.byteLength > this.maxBytes) chunk = { ...chunk, data: ownedCopy(chunk.data) };
    let list = this.byPartition.get(key);
    if (!list) this.byPartition.set(key, (list = []));
    const entry: Entry = { key, chunk };
    list.push(entry);
    this.order.push(entry);
    this.pin(chunk.data);
    while (this.bytes > this.maxBytes && this.head < this.order.length) {
      const old = this.order[this.head]!;
      // clear the slot: an evicted chunk must not stay reachable from here
      this.order[this.head++] = undefined;
      // a chunk of a dropped partition was already released
      if (!old.chunk) continue;
      const l = this.byPartition.get(old.key)!;
      // a partition's chunks are in insertion order too: the oldest is first
      l.splice(l[0] === old ? 0 : l.indexOf(old), 1);
      if (l.length === 0) this.byPartition.delete(old.key);
      this.unpin(old.chunk.data);
      old.chunk = undefined;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** The cached chunk holding `offset`, if any. */
  find(key: string, offset: bigint): CachedChunk | undefined {
    const found = this.lookUp(key, offset);
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  private lookUp(key: string, offset: bigint): CachedChunk | undefined {
    const list = this.byPartition.get(key);
    if (!list || list.length === 0 || offset < list[0]!.chunk!.baseOffset) return undefined;
    // binary search: chunks are appended in offset order
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = list[mid]!.chunk!;
      if (offset < c.baseOffset) hi = mid - 1;
      else if (offset > c.lastOffset) lo = mid + 1;
      else return c;
    }
    return undefined;
  }

  dropPartition(key: string): void {
    const list = this.byPartition.get(key);
    if (!list) return;
    for (const e of list) {
      this.unpin(e.chunk!.data);
      // its slot in `order` stays until evicted, but no longer holds the data
      e.chunk = undefined;
    }
    this.byPartition.delete(key);
  }

  /** Bytes of memory the cached chunks keep alive (whole ArrayBuffers, each counted once). */
  get size(): number {
    return this.bytes;
  }

  private pin(data: Buffer): void {
    const n = this.pinned.get(data.buffer) ?? 0;
    if (n === 0) this.bytes += data.buffer.byteLength;
    this.pinned.set(data.buffer, n + 1);
  }

  private unpin(data: Buffer): void {
    const n = this.pinned.get(data.buffer) ?? 0;
    if (n > 1) {
      this.pinned.set(data.buffer, n - 1);
      return;
    }
    this.pinned.delete(data.buffer);
    this.bytes -= data.buffer.byteLength;
  }
}

/**
 * Chunks read back from the object store, LRU by bytes. An entry owns its memory: a chunk
 * that is a view into a larger buffer (a whole object, Node's Buffer pool) is copied, so the
 * bound counts what the cache really keeps alive.
 */
export class ChunkCache {
  private readonly lru: LRUCache<string, Buffer>;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, Buffer>({ maxSize: Math.max(1, maxBytes), sizeCalculation: (b) => Math.max(1, b.buffer.byteLength) });
  }

  get(objectKey: string, byteOffset: number): Buffer | undefined {
    const v = this.lru.get(`${objectKey}@${byteOffset}`);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  /** Caches the chunk; returns the buffer now cached (a copy when `data` was a view). */
  set(objectKey: string, byteOffset: number, data: Buffer): Buffer {
    const owned = data.byteOffset === 0 && data.length === data.buffer.byteLength ? data : ownedCopy(data);
    this.lru.set(`${objectKey}@${byteOffset}`, owned);
    return owned;
  }

  get size(): number {
    return this.lru.calculatedSize;
  }
}
