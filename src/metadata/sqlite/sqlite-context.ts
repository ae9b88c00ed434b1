// State shared by the focused SQLite sub-stores: one connection, the clock and the
// closed flag. better-sqlite3 is synchronous, so the sub-stores' async methods simply run
// their statements and let `async` turn results and throws into settled promises.

import type BetterSqlite3 from 'better-sqlite3';
import { MetadataStoreError } from '../metadata-store.js';

export class SqliteContext {
  private closed = false;

  constructor(
    readonly db: BetterSqlite3.Database,
    readonly now: () => number,
  ) {}

  assertOpen(): void {
    if (this.closed) throw new MetadataStoreError('STORE_CLOSED', 'Metadata store is closed');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  markClosed(): void {
    this.closed = true;
  }
}

