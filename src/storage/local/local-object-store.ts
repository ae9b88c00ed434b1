import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { checkRangeShape, resolveRange } from '../byte-range.js';
import { compareKeys, validateObjectKey } from '../object-key.js';
import type { ByteRange, ObjectInfo, ObjectStore, SuffixRange } from '../object-store.js';
import {
  InvalidKeyError,
  ObjectExistsError,
  ObjectNotFoundError,
  StorageError,
  StoreClosedError,
} from '../storage-errors.js';

/**
 * Temp files live here, inside the root so `link` never crosses a filesystem, and in
 * one place so list() can skip them with a single check.
 */
export const LOCAL_TEMP_DIR = '.streamhouse-tmp';

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Makes directory entries (new files, new subdirectories) survive a crash. */
async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Objects as files under a root directory; a key's `/` separators become
 * subdirectories. Writes are atomic and durable, and never replace an existing file.
 */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;
  private readonly tempDir: string;
  /** Directories whose own entry is known to be on disk, so their parents need no fsync. */
  private readonly durableDirs = new Set<string>();
  private closed = false;

  private constructor(root: string) {
    this.root = root;
    this.tempDir = path.join(root, LOCAL_TEMP_DIR);
  }

  /** Opens (creating if needed) a store rooted at `root` (resolved against the cwd). */
  static async open(root: string): Promise<LocalObjectStore> {
    const store = new LocalObjectStore(path.resolve(root));
    await mkdir(store.tempDir, { recursive: true });
    await fsyncDirectory(path.dirname(store.root));
    store.durableDirs.add(store.root);
    return store;
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.assertOpen();
    this.validateKey(key);
    const finalPath = this.pathOf(key);
    const tempPath = path.join(
      this.tempDir,
      `${process.pid}-${Date.now()}-${randomBytes(6).toString('hex')}.tmp`,
    );

    const handle = await open(tempPath, 'wx', 0o644);
    try {
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      const parent = path.dirname(finalPath);
      await this.makeParents(key, parent);
      try {
        // link fails with EEXIST instead of replacing, unlike rename.
        await link(tempPath, finalPath);
      } catch (err) {
        throw await this.translateLinkError(err, key, finalPath);
      }
      await this.fsyncParents(parent);
    } finally {
      await unlink(tempPath).catch(() => undefined);
    }
  }

  async get(key: string, range?: ByteRange | SuffixRange): Promise<Buffer> {
    this.assertOpen();
    this.validateKey(key);
    checkRangeShape(range);
    let handle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      const info = await handle.stat();
      // A directory exists where a key has children ("a" when "a/b" is stored).
      if (!info.isFile()) throw new ObjectNotFoundError(key);
      const { start, end } = resolveRange(range, info.size);
      const out = Buffer.allocUnsafe(end - start);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) {
          throw new StorageError('OBJECT_NOT_FOUND', `object ${key} shrank while being read`);
        }
        filled += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    this.validateKey(key);
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      const code = errnoCode(err);
      // Missing file, missing parent, or a directory in its place: no such object.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') return;
      throw err;
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    this.assertOpen();
    yield* this.walk(this.root, '', prefix);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async *walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    // Sorting a directory's children by `name/` for subdirectories and `name` for files
    // yields keys in global byte order ("a-b" < "a/x" < "a0").
    const items = entries
      .filter((e) => (e.isDirectory() || e.isFile()) && !(keyPrefix === '' && e.name === LOCAL_TEMP_DIR))
      .map((e) => ({ entry: e, sortKey: keyPrefix + e.name + (e.isDirectory() ? '/' : '') }))
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey));

    for (const { entry, sortKey } of items) {
      const fullPath = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (sortKey.startsWith(prefix) || prefix.startsWith(sortKey)) {
          yield* this.walk(fullPath, sortKey, prefix);
        }
        continue;
      }
      if (!sortKey.startsWith(prefix)) continue;
      try {
        const info = await stat(fullPath);
        yield { key: sortKey, size: info.size, lastModified: info.mtime };
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err; // deleted while listing
      }
    }
  }

  private validateKey(key: string): void {
    validateObjectKey(key);
    if (key === LOCAL_TEMP_DIR || key.startsWith(`${LOCAL_TEMP_DIR}/`)) {
      throw new InvalidKeyError(key, `the "${LOCAL_TEMP_DIR}" prefix is reserved by the local store`);
    }
  }

  private pathOf(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  private async makeParents(key: string, parent: string): Promise<void> {
    try {
      await mkdir(parent, { recursive: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw new InvalidKeyError(key, 'an existing object occupies one of its parent paths');
      }
      throw err;
    }
  }

  private async translateLinkError(err: unknown, key: string, finalPath: string): Promise<unknown> {
    const code = errnoCode(err);
    if (code === 'EEXIST') {
      const existing = await stat(finalPath).catch(() => undefined);
      if (existing?.isDirectory()) {
        return new InvalidKeyError(key, 'other objects use this key as a directory prefix');
      }
      return new ObjectExistsError(key);
    }
    if (code === 'ENOTDIR') {
      return new InvalidKeyError(key, 'an existing object occupies one of its parent paths');
    }
    return err;
  }

  /**
   * fsyncs the directory holding the new file, then each ancestor until one whose entry
   * is already durable. A directory made by a concurrent put counts as new here too,
   * because that put may not have fsynced it yet.
   */
  private async fsyncParents(parent: string): Promise<void> {
    await fsyncDirectory(parent);
    let dir = parent;
    while (!this.durableDirs.has(dir) && dir.startsWith(this.root + path.sep)) {
      await fsyncDirectory(path.dirname(dir));
      this.durableDirs.add(dir);
      dir = path.dirname(dir);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
