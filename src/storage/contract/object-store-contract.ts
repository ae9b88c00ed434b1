import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectInfo, ObjectStore } from '../object-store.js';
import { isStorageError, type StorageErrorCode } from '../storage-errors.js';

export interface ObjectStoreFixture {
  store: ObjectStore;
  /** Removes whatever the fixture created (temp directories, buckets…). */
  dispose?: () => Promise<void>;
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

async function expectCode(promise: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} error`).toBeDefined();
  expect(isStorageError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

/** Deterministic bytes, so a mis-positioned read cannot pass by accident. */
function patterned(length: number, seed = 1): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

/**
 * The behaviour every ObjectStore backend must share. Each test gets a fresh, empty
 * store from `factory`.
 */
export function runObjectStoreContract(
  name: string,
  factory: () => Promise<ObjectStoreFixture>,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ObjectStoreFixture;
    let store: ObjectStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await store.close();
      await fixture.dispose?.();
    });

    it('returns exactly the bytes that were put', async () => {
      const body = patterned(1000, 7);
      await store.put('a/b/object.bin', body);
      const got = await store.get('a/b/object.bin');
      expect(got.equals(body)).toBe(true);
      expect(got.length).toBe(1000);
    });

    it('stores an empty object', async () => {
      await store.put('empty', Buffer.alloc(0));
      expect((await store.get('empty')).length).toBe(0);
      expect(await collect(store.list())).toMatchObject([{ key: 'empty', size: 0 }]);
    });

    it('is not affected by later mutation of the put or returned buffers', async () => {
      const body = Buffer.from('immutable');
      await store.put('k', body);
      body.fill(0);
      const first = await store.get('k');
      first.fill(0);
      expect((await store.get('k')).toString()).toBe('immutable');
    });

    it('serves byte ranges exactly, end exclusive', async () => {
      const body = patterned(4096, 3);
      await store.put('ranged', body);
      expect((await store.get('ranged', { start: 0, end: 1 })).equals(body.subarray(0, 1))).toBe(true);
      expect((await store.get('ranged', { start: 100, end: 357 })).equals(body.subarray(100, 357))).toBe(true);
      expect((await store.get('ranged', { start: 4095, end: 4096 }))[0]).toBe(body[4095]);
      expect((await store.get('ranged', { start: 0, end: 4096 })).equals(body)).toBe(true);
      expect((await store.get('ranged', { start: 17, end: 17 })).length).toBe(0);
      expect((await store.get('ranged', { start: 4096, end: 4096 })).length).toBe(0);
    });

    it('serves suffix ranges, clamped to the object size', async () => {
      const body = patterned(300, 5);
      await store.put('suffix', body);
      expect((await store.get('suffix', { suffixLength: 24 })).equals(body.subarray(276))).toBe(true);
      expect((await store.get('suffix', { suffixLength: 300 })).equals(body)).toBe(true);
      expect((await store.get('suffix', { suffixLength: 1000 })).equals(body)).toBe(true);
    });

    it('rejects ranges outside the object or malformed', async () => {
      await store.put('small', Buffer.from('0123456789'));
      await expectCode(store.get('small', { start: 5, end: 11 }), 'INVALID_RANGE');
      await expectCode(store.get('small', { start: 11, end: 11 }), 'INVALID_RANGE');
      await expectCode(store.get('small', { start: 6, end: 5 }), 'INVALID_RANGE');
      await expectCode(store.get('small', { start: -1, end: 5 }), 'INVALID_RANGE');
      await expectCode(store.get('small', { start: 0.5, end: 5 }), 'INVALID_RANGE');
      await expectCode(store.get('small', { suffixLength: 0 }), 'INVALID_RANGE');
    });

    it('never overwrites an existing key', async () => {
      await store.put('once', Buffer.from('first'));
      await expectCode(store.put('once', Buffer.from('second, longer')), 'OBJECT_EXISTS');
      expect((await store.get('once')).toString()).toBe('first');
    });

    it('lets exactly one of two concurrent puts of the same key win', async () => {
      const results = await Promise.allSettled([
        store.put('race', Buffer.from('A')),
        store.put('race', Buffer.from('B')),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won.length).toBe(1);
      expect(lost.length).toBe(1);
      expect(isStorageError((lost[0] as PromiseRejectedResult).reason, 'OBJECT_EXISTS')).toBe(true);
      const winner = results[0]!.status === 'fulfilled' ? 'A' : 'B';
      expect((await store.get('race')).toString()).toBe(winner);
    });

    it('reports missing objects as OBJECT_NOT_FOUND', async () => {
      await expectCode(store.get('missing'), 'OBJECT_NOT_FOUND');
      await expectCode(store.get('missing/deeper'), 'OBJECT_NOT_FOUND');
      await expectCode(store.get('missing', { start: 0, end: 0 }), 'OBJECT_NOT_FOUND');
      await store.put('dir/child', Buffer.from('x'));
      // "dir" is only a prefix of another key, not an object.
      await expectCode(store.get('dir'), 'OBJECT_NOT_FOUND');
    });

    it('deletes idempotently', async () => {
      await store.put('gone', Buffer.from('x'));
      await store.delete('gone');
      await expectCode(store.get('gone'), 'OBJECT_NOT_FOUND');
      await store.delete('gone');
      await store.delete('never/existed');
      expect(await collect(store.list())).toEqual([]);
      // The key is free again after deletion.
      await store.put('gone', Buffer.from('again'));
      expect((await store.get('gone')).toString()).toBe('again');
    });

    it('lists keys with sizes in byte order, filtered by prefix', async () => {
      const before = Date.now();
      const keys = ['b/2', 'a-b', 'a/x', 'a/y/z', 'a0', 'b/10', 'ab'];
      for (const [i, key] of keys.entries()) await store.put(key, Buffer.alloc(i + 1, 1));
      const all = await collect(store.list());
      expect(all.map((o) => o.key)).toEqual(['a-b', 'a/x', 'a/y/z', 'a0', 'ab', 'b/10', 'b/2']);
      expect(all.map((o) => o.size)).toEqual([2, 3, 4, 5, 7, 6, 1]);
      for (const o of all) {
        expect(o.lastModified).toBeInstanceOf(Date);
        // Filesystem mtimes may be truncated to whole seconds.
        expect(o.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
        expect(o.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
      const keysOf = async (prefix: string) => (await collect(store.list(prefix))).map((o) => o.key);
      expect(await keysOf('a/')).toEqual(['a/x', 'a/y/z']);
      expect(await keysOf('a')).toEqual(['a-b', 'a/x', 'a/y/z', 'a0', 'ab']);
      expect(await keysOf('a/y')).toEqual(['a/y/z']);
      expect(await keysOf('b/1')).toEqual(['b/10']);
      expect(await keysOf('b/10')).toEqual(['b/10']);
      expect(await keysOf('c')).toEqual([]);
      expect(await keysOf('')).toEqual(all.map((o) => o.key));
    });

    it('puts many distinct keys concurrently', async () => {
      const count = 64;
      const bodies = Array.from({ length: count }, (_, i) => patterned(100 + i, i + 1));
      const keyOf = (i: number) => `p${i % 4}/c/${String(i).padStart(3, '0')}`;
      await Promise.all(bodies.map((body, i) => store.put(keyOf(i), body)));
      const listed = await collect(store.list());
      expect(listed.length).toBe(count);
      for (let i = 0; i < count; i++) {
        expect((await store.get(keyOf(i))).equals(bodies[i]!)).toBe(true);
      }
    });

    it('stores and range-reads a large (8 MiB) object', async () => {
      const size = 8 * 1024 * 1024;
      const body = patterned(size, 11);
      await store.put('large/object', body);
      expect((await store.get('large/object')).equals(body)).toBe(true);
      const start = 5 * 1024 * 1024 + 3;
      const got = await store.get('large/object', { start, end: start + 65536 });
      expect(got.equals(body.subarray(start, start + 65536))).toBe(true);
      expect(await collect(store.list('large/'))).toMatchObject([{ key: 'large/object', size }]);
    });

    it('rejects invalid keys', async () => {
      const bad = ['', '/abs', 'a//b', 'a/', '../up', 'a/../b', 'a/./b', '.', 'nul\u0000char'];
      for (const key of bad) {
        await expectCode(store.put(key, Buffer.from('x')), 'INVALID_KEY');
        await expectCode(store.get(key), 'INVALID_KEY');
        await expectCode(store.delete(key), 'INVALID_KEY');
      }
      expect(await collect(store.list())).toEqual([]);
    });

    it('accepts keys with dots that are not path traversal', async () => {
      await store.put('a..b/.hidden/x.seg', Buffer.from('ok'));
      expect((await store.get('a..b/.hidden/x.seg')).toString()).toBe('ok');
    });

    it('refuses calls after close', async () => {
      await store.put('k', Buffer.from('v'));
      await store.close();
      await expectCode(store.get('k'), 'STORE_CLOSED');
      await expectCode(store.put('k2', Buffer.from('v')), 'STORE_CLOSED');
      await expectCode(store.delete('k'), 'STORE_CLOSED');
      await expectCode(collect(store.list()), 'STORE_CLOSED');
    });
  });
}
