import { mkdtemp, readdir, readFile, rm, truncate, writeFile, open as openFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runObjectStoreContract } from '../contract/object-store-contract.js';
import { isStorageError } from '../storage-errors.js';
import { LOCAL_TEMP_DIR, LocalObjectStore } from './local-object-store.js';

runObjectStoreContract('local', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sh-local-contract-'));
  return {
    store: await LocalObjectStore.open(dir),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

async function keysOf(store: LocalObjectStore, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

describe('LocalObjectStore specifics', () => {
  let dir: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sh-local-'));
    store = await LocalObjectStore.open(path.join(dir, 'root'));
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the root and maps key segments to subdirectories', async () => {
    await store.put('ab/agent-1/000001.seg', Buffer.from('payload'));
    expect(await readFile(path.join(dir, 'root', 'ab', 'agent-1', '000001.seg'), 'utf8')).toBe('payload');
  });

  it('leaves no temp files behind and never lists the temp directory', async () => {
    await store.put('x/1', Buffer.from('a'));
    await store.put('x/1', Buffer.from('b')).catch(() => undefined);
    expect(await readdir(path.join(dir, 'root', LOCAL_TEMP_DIR))).toEqual([]);
    // A temp file left by a crashed writer stays invisible.
    await writeFile(path.join(dir, 'root', LOCAL_TEMP_DIR, '123-abc.tmp'), 'partial');
    expect(await keysOf(store)).toEqual(['x/1']);
    expect(await keysOf(store, '.')).toEqual([]);
  });

  it('reserves the temp directory name as a key prefix', async () => {
    for (const key of [LOCAL_TEMP_DIR, `${LOCAL_TEMP_DIR}/x`]) {
      const err = await store.put(key, Buffer.from('x')).catch((e: unknown) => e);
      expect(isStorageError(err, 'INVALID_KEY')).toBe(true);
    }
    // Only the exact first segment is reserved.
    await store.put(`a/${LOCAL_TEMP_DIR}`, Buffer.from('ok'));
    expect(await keysOf(store)).toEqual([`a/${LOCAL_TEMP_DIR}`]);
  });

  it('reports a key that collides with a directory of other keys as INVALID_KEY', async () => {
    await store.put('p/q', Buffer.from('1'));
    const asFile = await store.put('p', Buffer.from('2')).catch((e: unknown) => e);
    expect(isStorageError(asFile, 'INVALID_KEY')).toBe(true);
    await store.put('f', Buffer.from('3'));
    const underFile = await store.put('f/g', Buffer.from('4')).catch((e: unknown) => e);
    expect(isStorageError(underFile, 'INVALID_KEY')).toBe(true);
    expect(await keysOf(store)).toEqual(['f', 'p/q']);
    // Deleting the directory-shaped key is a no-op, not an error.
    await store.delete('p');
    expect(await keysOf(store)).toEqual(['f', 'p/q']);
  });

  it('reads a range at position without reading the whole file', async () => {
    // A 6 GiB sparse file cannot be read into one Buffer (limit 4 GiB), so this only
    // passes if get() reads just the requested bytes.
    const size = 6 * 1024 ** 3;
    const file = path.join(dir, 'root', 'huge', 'sparse');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '');
    await truncate(file, size);
    const handle = await openFile(file, 'r+');
    await handle.write(Buffer.from('tail!'), 0, 5, size - 5);
    await handle.close();
    expect((await store.get('huge/sparse', { start: size - 5, end: size })).toString()).toBe('tail!');
    expect((await store.get('huge/sparse', { suffixLength: 3 })).toString()).toBe('il!');
    expect((await store.get('huge/sparse', { start: 4096, end: 4100 })).equals(Buffer.alloc(4))).toBe(true);
  });

  it('sees objects written by another instance on the same directory', async () => {
    const other = await LocalObjectStore.open(path.join(dir, 'root'));
    await other.put('shared/k', Buffer.from('v'));
    await other.close();
    expect((await store.get('shared/k')).toString()).toBe('v');
    const err = await store.put('shared/k', Buffer.from('w')).catch((e: unknown) => e);
    expect(isStorageError(err, 'OBJECT_EXISTS')).toBe(true);
  });
});
