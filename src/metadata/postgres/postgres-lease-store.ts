import type { Lease, LeaseStore } from '../metadata-store.js';
import { DB_NOW_MS, type PostgresContext } from './postgres-context.js';

interface LeaseRow {
  resource: string;
  owner: string | null;
  epoch: bigint;
  expires_at: bigint;
}

// Each change is one statement judged by the database clock. The upsert locks the row it
// updates, so racing acquirers queue and the later one re-evaluates the WHERE against the
// winner's row: at most one of them can take a free or expired lease.
const ACQUIRE = {
  name: 'streamhouse.lease_acquire',
  text: `
    INSERT INTO leases AS l (resource, owner, epoch, expires_at) VALUES ($1, $2, 1, ${DB_NOW_MS} + $3::bigint)
    ON CONFLICT (resource) DO UPDATE SET
      epoch = CASE WHEN l.owner = excluded.owner AND l.expires_at > ${DB_NOW_MS} THEN l.epoch ELSE l.epoch + 1 END,
      owner = excluded.owner,
      expires_at = excluded.expires_at
    WHERE l.owner IS NULL OR l.expires_at <= ${DB_NOW_MS} OR l.owner = excluded.owner
    RETURNING l.resource, l.owner, l.epoch, l.expires_at`,
};

const RENEW = {
  name: 'streamhouse.lease_renew',
  text: `
    UPDATE leases SET expires_at = ${DB_NOW_MS} + $4::bigint
    WHERE resource = $1 AND owner = $2 AND epoch = $3 AND expires_at > ${DB_NOW_MS}
    RETURNING resource, owner, epoch, expires_at`,
};

export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly ctx: PostgresContext) {}

  async acquire(resource: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<LeaseRow>(ACQUIRE, [resource, owner, ttlMs]);
    return toLease(result.rows[0]);
  }

  async renew(resource: string, owner: string, epoch: number, ttlMs: number): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<LeaseRow>(RENEW, [resource, owner, epoch, ttlMs]);
    return toLease(result.rows[0]);
  }

  async release(resource: string, owner: string, epoch: number): Promise<boolean> {
    this.ctx.assertOpen();
    const result = await this.ctx.query('UPDATE leases SET owner = NULL, expires_at = 0 WHERE resource = $1 AND owner = $2 AND epoch = $3', [
      resource,
      owner,
      epoch,
    ]);
    return result.rowCount === 1;
  }

  async get(resource: string): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<LeaseRow>(
      `SELECT resource, owner, epoch, expires_at FROM leases WHERE resource = $1 AND owner IS NOT NULL AND expires_at > ${DB_NOW_MS}`,
      [resource],
    );
    return toLease(result.rows[0]);
  }

  async list(prefix = ''): Promise<Lease[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<LeaseRow>(
      {
        name: 'streamhouse.lease_list',
        text: `SELECT resource, owner, epoch, expires_at FROM leases
               WHERE owner IS NOT NULL AND expires_at > ${DB_NOW_MS} AND left(resource, length($1)) = $1 ORDER BY resource`,
      },
      [prefix],
    );
    return result.rows.map((row) => toLease(row)!);
  }

  async lastEpoch(resource: string): Promise<number> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ epoch: bigint }>('SELECT epoch FROM leases WHERE resource = $1', [resource]);
    return result.rows[0] === undefined ? 0 : Number(result.rows[0].epoch);
  }

  async now(): Promise<number> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ now: bigint }>(`SELECT ${DB_NOW_MS} AS now`);
    return Number(result.rows[0]?.now);
  }
}

function toLease(row: LeaseRow | undefined): Lease | undefined {
  if (row === undefined) return undefined;
  return { resource: row.resource, owner: row.owner ?? '', epoch: Number(row.epoch), expiresAt: Number(row.expires_at) };
}
