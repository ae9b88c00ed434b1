import { byLeaseResource, type Lease, type LeaseClaim, type LeaseStore } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

interface LeaseRow {
  resource: string;
  owner: string | null;
  epoch: number;
  expires_at: number;
}

// better-sqlite3 runs each statement atomically on one connection and the write lock
// serializes writers across connections, so each lease change is one statement.
export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly ctx: SqliteContext) {}

  async acquire(resource: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return (await this.acquireMany([resource], owner, ttlMs))[0];
  }

  async acquireMany(resources: readonly string[], owner: string, ttlMs: number): Promise<Lease[]> {
    this.ctx.assertOpen();
    const stmt = this.ctx.db.prepare<[{ resource: string; owner: string; expiresAt: number; now: number }], LeaseRow>(
      `INSERT INTO leases (resource, owner, epoch, expires_at) VALUES (@resource, @owner, 1, @expiresAt)
       ON CONFLICT (resource) DO UPDATE SET
         epoch = leases.epoch + 1,
         owner = excluded.owner,
         expires_at = excluded.expires_at
       WHERE leases.owner IS NULL OR leases.expires_at <= @now OR leases.owner = excluded.owner
       RETURNING resource, owner, epoch, expires_at`,
    );
    return this.ctx.db.transaction(() => {
      const now = this.ctx.now();
      const out: Lease[] = [];
      for (const resource of [...new Set(resources)].sort()) {
        const row = stmt.get({ resource, owner, expiresAt: now + ttlMs, now });
        if (row !== undefined) out.push(toLease(row));
      }
      return out;
    })();
  }

  async renew(resource: string, owner: string, epoch: number, ttlMs: number): Promise<Lease | undefined> {
    return (await this.renewMany([{ resource, epoch }], owner, ttlMs))[0];
  }

  async renewMany(leases: readonly LeaseClaim[], owner: string, ttlMs: number): Promise<Lease[]> {
    this.ctx.assertOpen();
    const stmt = this.ctx.db.prepare<[number, string, string, number, number], LeaseRow>(
      `UPDATE leases SET expires_at = ? WHERE resource = ? AND owner = ? AND epoch = ? AND expires_at > ?
       RETURNING resource, owner, epoch, expires_at`,
    );
    return this.ctx.db.transaction(() => {
      const now = this.ctx.now();
      const out: Lease[] = [];
      for (const l of [...leases].sort(byLeaseResource)) {
        const row = stmt.get(now + ttlMs, l.resource, owner, l.epoch, now);
        if (row !== undefined) out.push(toLease(row));
      }
      return out;
    })();
  }

  async release(resource: string, owner: string, epoch: number): Promise<boolean> {
    return (await this.releaseMany([{ resource, epoch }], owner)) === 1;
  }

  async releaseMany(leases: readonly LeaseClaim[], owner: string): Promise<number> {
    this.ctx.assertOpen();
    const stmt = this.ctx.db.prepare('UPDATE leases SET owner = NULL, expires_at = 0 WHERE resource = ? AND owner = ? AND epoch = ?');
    return this.ctx.db.transaction(() => {
      let released = 0;
      for (const l of leases) released += stmt.run(l.resource, owner, l.epoch).changes;
      return released;
    })();
  }

  async get(resource: string): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    const row = this.ctx.db
      .prepare<[string, number], LeaseRow>('SELECT resource, owner, epoch, expires_at FROM leases WHERE resource = ? AND owner IS NOT NULL AND expires_at > ?')
      .get(resource, this.ctx.now());
    return row === undefined ? undefined : toLease(row);
  }

  async list(prefix = ''): Promise<Lease[]> {
    this.ctx.assertOpen();
    // substr comparison rather than LIKE: resource names may contain % and _.
    return this.ctx.db
      .prepare<[number, string, string], LeaseRow>(
        `SELECT resource, owner, epoch, expires_at FROM leases
         WHERE owner IS NOT NULL AND expires_at > ? AND substr(resource, 1, length(?)) = ? ORDER BY resource`,
      )
      .all(this.ctx.now(), prefix, prefix)
      .map(toLease);
  }

  async lastEpoch(resource: string): Promise<number> {
    this.ctx.assertOpen();
    const row = this.ctx.db.prepare<[string], { epoch: number }>('SELECT epoch FROM leases WHERE resource = ?').get(resource);
    return row === undefined ? 0 : Number(row.epoch);
  }

  async now(): Promise<number> {
    this.ctx.assertOpen();
    return this.ctx.now();
  }
}

function toLease(row: LeaseRow): Lease {
  return { resource: row.resource, owner: row.owner ?? '', epoch: Number(row.epoch), expiresAt: Number(row.expires_at) };
}
