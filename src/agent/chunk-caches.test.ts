import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ChunkCache, RecentWriteCache } from './chunk-caches.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KiB = 1024;

/** Runs a full GC once the current job is over (a WeakRef made in it is kept until then). */
async function fullGc(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  gc();
  await new Promise((r) => setImmediate(r));
}

/** `count` chunks of `chunkBytes` each, laid out one after another in one segment-like body. */
function segment(bodyBytes: number, count: number, chunkBytes: number): Buffer[] {
  const body = Buffer.allocUnsafeSlow(bodyBytes);
  return Array.from({ length: count }, (_, i) => body.subarray(i * chunkBytes, (i + 1) * chunkBytes));
}

describe('RecentWriteCache', () => {
  it('counts the whole buffer its chunks keep alive, once, and stays within its bound', () => {
    const cache = new RecentWriteCache(256 * KiB);
    const all: Array<{ offset: bigint; data: Buffer }> = [];
    let offset = 0n;
    // flushes of 4 partitions: 4 x 8 KiB chunks in a 64 KiB body (the rest is other data)
    for (let flush = 0; flush < 20; flush++) {
      for (const [p, data] of segment(64 * KiB, 4, 8 * KiB).entries()) {
        cache.add(`t\u0000${p}`, { baseOffset: offset, lastOffset: offset, data });
        all.push({ offset, data });
      }
      offset++;
    }
    const kept = new Set<ArrayBufferLike>();
    for (const [i, { offset: o, data }] of all.entries()) {
      const found = cache.find(`t\u0000${i % 4}`, o);
      if (found) {
        expect(found.data).toBe(data);
        kept.add(data.buffer);
      }
    }
    let pinned = 0;
    for (const b of kept) pinned += b.byteLength;
    expect(kept.size).toBe(4);
    expect(cache.size).toBe(pinned);
    expect(pinned).toBeLessThanOrEqual(256 * KiB);
    // the newest flush is the one cached last
    expect(cache.find('t\u00003', 19n)?.data).toBe(all[all.length - 1]!.data);
  });

  it('copies a chunk whose buffer alone is larger than the cache', () => {
    const cache = new RecentWriteCache(1024 * KiB);
    const [data] = segment(4096 * KiB, 1, 64 * KiB);
    data!.fill(7);
    cache.add('t\u00000', { baseOffset: 0n, lastOffset: 9n, data: data! });
    const found = cache.find('t\u00000', 5n)!;
    expect(found.data.equals(data!)).toBe(true);
    expect(found.data.buffer.byteLength).toBe(64 * KiB);
    expect(cache.size).toBe(64 * KiB);
  });

  it('lets evicted chunks and their buffers be collected', async () => {
    const cache = new RecentWriteCache(1024 * KiB);
    const refs: Array<WeakRef<ArrayBufferLike>> = [];
    ((): void => {
      // 100 flushes of 8 x 64 KiB chunks: the cache holds the last 2
      for (let flush = 0; flush < 100; flush++) {
        const chunks = segment(512 * KiB, 8, 64 * KiB);
        refs.push(new WeakRef(chunks[0]!.buffer));
        chunks.forEach((data, p) => cache.add(`t\u0000${p}`, { baseOffset: BigInt(flush), lastOffset: BigInt(flush), data }));
      }
    })();
    expect(cache.size).toBe(1024 * KiB);
    await fullGc();
    const alive = refs.map((r) => r.deref() !== undefined);
    expect(alive.filter(Boolean).length).toBe(2);
    expect(alive.slice(98)).toEqual([true, true]);
  });

  it('lets the chunks of a dropped partition be collected at once', async () => {
    const cache = new RecentWriteCache(64 * 1024 * KiB);
    let ref!: WeakRef<ArrayBufferLike>;
    ((): void => {
      const [data] = segment(256 * KiB, 1, 256 * KiB);
      ref = new WeakRef(data!.buffer);
      cache.add('t\u00000', { baseOffset: 0n, lastOffset: 0n, data: data! });
      cache.add('t\u00001', { baseOffset: 0n, lastOffset: 0n, data: Buffer.allocUnsafeSlow(KiB) });
    })();
    cache.dropPartition('t\u00000');
    expect(cache.size).toBe(KiB);
    expect(cache.find('t\u00000', 0n)).toBeUndefined();
    await fullGc();
    expect(ref.deref()).toBeUndefined();
    expect(cache.find('t\u00001', 0n)).toBeDefined();
  });
});

describe('ChunkCache', () => {
  it('does not keep the buffer a cached chunk is a view of', async () => {
    const cache = new ChunkCache(1024 * KiB);
    let ref!: WeakRef<ArrayBufferLike>;
    ((): void => {
      const object = Buffer.allocUnsafeSlow(8192 * KiB).fill(3);
      ref = new WeakRef(object.buffer);
      const stored = cache.set('obj', 4096, object.subarray(4096, 4096 + 64 * KiB));
      expect(stored.buffer.byteLength).toBe(64 * KiB);
    })();
    expect(cache.size).toBe(64 * KiB);
    expect(cache.get('obj', 4096)!.equals(Buffer.alloc(64 * KiB, 3))).toBe(true);
    await fullGc();
    expect(ref.deref()).toBeUndefined();
  });

  it('keeps a buffer of its own as it is', () => {
    const cache = new ChunkCache(1024 * KiB);
    const data = Buffer.allocUnsafeSlow(64 * KiB);
    expect(cache.set('obj', 0, data)).toBe(data);
    expect(cache.get('obj', 0)).toBe(data);
  });
});
