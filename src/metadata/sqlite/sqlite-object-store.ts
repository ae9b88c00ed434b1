import type BetterSqlite3 from 'better-sqlite3';
import { MetadataStoreError, type ObjectMetadataStore, type ObjectTotals, type RecordedObject } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

export class SqliteObjectStore implements ObjectMetadataStore {
  private readonly db: BetterSqlite3.Database;
  private readonly selectReferenced: BetterSqlite3.Statement<[], string>;
  private readonly selectUnreferenced: BetterSqlite3.Statement<[number], string>;
  private readonly isReferenced: BetterSqlite3.Statement<[string], number>;
  private readonly deleteObject: BetterSqlite3.Statement<[string]>;
  private readonly selectTotals: BetterSqlite3.Statement<[], ObjectTotals>;
  private readonly selectNewest: BetterSqlite3.Statement<[], RecordedObject>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.db = db;
    this.selectReferenced = db.prepare<[], string>('SELECT DISTINCT object_key FROM chunks').pluck();
    this.selectUnreferenced = db
      .prepare<[number], string>(
        `SELECT o.key FROM objects o
         WHERE o.created_at < ? AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.object_key = o.key)
         ORDER BY o.key`,
      )
      .pluck();
    this.isReferenced = db.prepare<[string], number>('SELECT 1 FROM chunks WHERE object_key = ? LIMIT 1').pluck();
    this.deleteObject = db.prepare('DELETE FROM objects WHERE key = ?');
    // one pass over objects, one chunks_by_object probe per object
    this.selectTotals = db.prepare<[], ObjectTotals>(
      `SELECT COUNT(*) AS objects, COALESCE(SUM(o.size), 0) AS bytes,
              COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.object_key = o.key)) AS unreferencedObjects
       FROM objects o`,
    );
    // no index on created_at: one pass over objects keeping the top row
    this.selectNewest = db.prepare<[], RecordedObject>('SELECT key, created_at AS createdAt FROM objects ORDER BY created_at DESC, key DESC LIMIT 1');
  }

  async listReferencedKeys(): Promise<Set<string>> {
    this.ctx.assertOpen();
    return new Set(this.selectReferenced.all());
  }

  async listUnreferenced(createdBefore: number): Promise<string[]> {
    this.ctx.assertOpen();
    return this.selectUnreferenced.all(createdBefore);
  }

  async totals(): Promise<ObjectTotals> {
    this.ctx.assertOpen();
    // an aggregate without GROUP BY yields exactly one row
    return this.selectTotals.get()!;
  }

  async newest(): Promise<RecordedObject | undefined> {
    this.ctx.assertOpen();
    const row = this.selectNewest.get();
    return row === undefined ? undefined : { key: row.key, createdAt: Number(row.createdAt) };
  }

  async forget(key: string): Promise<void> {
    this.ctx.assertOpen();
    this.db
      .transaction(() => {
        if (this.isReferenced.get(key) !== undefined) {
          throw new MetadataStoreError('OBJECT_STILL_REFERENCED', `Object "${key}" is still referenced by chunks`);
        }
        this.deleteObject.run(key);
      })
      .immediate();
  }
}
