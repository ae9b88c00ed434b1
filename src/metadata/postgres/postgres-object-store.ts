import { MetadataStoreError, type ObjectMetadataStore, type ObjectTotals, type RecordedObject } from '../metadata-store.js';
import type { PostgresContext } from './postgres-context.js';

export class PostgresObjectStore implements ObjectMetadataStore {
  constructor(private readonly ctx: PostgresContext) {}

  async listReferencedKeys(): Promise<Set<string>> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ object_key: string }>('SELECT DISTINCT object_key FROM chunks');
    return new Set(result.rows.map((r) => r.object_key));
  }

  async listUnreferenced(createdBefore: number): Promise<string[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ key: string }>(
      `SELECT o.key FROM objects o
       WHERE o.created_at < $1::numeric AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.object_key = o.key)
       ORDER BY o.key`,
      [createdBefore],
    );
    return result.rows.map((r) => r.key);
  }

  async totals(): Promise<ObjectTotals> {
    this.ctx.assertOpen();
    // One pass over objects, one chunks_by_object index-only probe per object.
    const result = await this.ctx.query<{ objects: bigint; bytes: bigint; unreferenced: bigint }>(
      `SELECT COUNT(*) AS objects, COALESCE(SUM(o.size), 0)::bigint AS bytes,
              COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.object_key = o.key)) AS unreferenced
       FROM objects o`,
    );
    const row = result.rows[0];
    return {
      objects: Number(row?.objects ?? 0),
      bytes: Number(row?.bytes ?? 0),
      unreferencedObjects: Number(row?.unreferenced ?? 0),
    };
  }

  async newest(): Promise<RecordedObject | undefined> {
    this.ctx.assertOpen();
    // no index on created_at: one pass over objects keeping the top row (a top-1 sort)
    const result = await this.ctx.query<{ key: string; created_at: bigint }>('SELECT key, created_at FROM objects ORDER BY created_at DESC, key DESC LIMIT 1');
    const row = result.rows[0];
    return row === undefined ? undefined : { key: row.key, createdAt: Number(row.created_at) };
  }

  async forget(key: string): Promise<void> {
    this.ctx.assertOpen();
    // One statement: the reference check and the delete see the same snapshot.
    const result = await this.ctx.query<{ referenced: boolean }>(
      `WITH r AS (SELECT EXISTS (SELECT 1 FROM chunks WHERE object_key = $1) AS referenced),
            d AS (DELETE FROM objects WHERE key = $1 AND NOT (SELECT referenced FROM r))
       SELECT referenced FROM r`,
      [key],
      'rerunnable',
    );
    if (result.rows[0]?.referenced === true) {
      throw new MetadataStoreError('OBJECT_STILL_REFERENCED', `Object "${key}" is still referenced by chunks`);
    }
  }
}
