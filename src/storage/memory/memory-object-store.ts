import { resolveRange, checkRangeShape } from '../byte-range.js';
import { compareKeys, validateObjectKey } from '../object-key.js';
import type { ByteRange, ObjectInfo, ObjectStore, SuffixRange } from '../object-store.js';
import { ObjectExistsError, ObjectNotFoundError, StoreClosedError } from '../storage-errors.js';

interface StoredObject {
  body: Buffer;
  lastModified: Date;
}

/** Process-local store for unit tests; copies on the way in and out like a real backend. */
export class MemoryObjectStore implements ObjectStore {
  private readonly objects = new Map<string, StoredObject>();
  private closed = false;

  async put(key: string, body: Buffer): Promise<void> {
    this.assertOpen();
    validateObjectKey(key);
    if (this.objects.has(key)) throw new ObjectExistsError(key);
    this.objects.set(key, { body: Buffer.from(body), lastModified: new Date() });
  }

  async get(key: string, range?: ByteRange | SuffixRange): Promise<Buffer> {
    this.assertOpen();
    validateObjectKey(key);
    checkRangeShape(range);
    const stored = this.objects.get(key);
    if (stored === undefined) throw new ObjectNotFoundError(key);
    const { start, end } = resolveRange(range, stored.body.length);
    return Buffer.from(stored.body.subarray(start, end));
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    validateObjectKey(key);
    this.objects.delete(key);
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    this.assertOpen();
    // Snapshot so concurrent puts/deletes do not disturb the iteration order.
    const matches = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => compareKeys(a, b));
    for (const [key, stored] of matches) {
      yield { key, size: stored.body.length, lastModified: new Date(stored.lastModified) };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.objects.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}
