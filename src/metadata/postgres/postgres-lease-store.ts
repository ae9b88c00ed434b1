import { byLeaseResource, type Lease, type LeaseClaim, type LeaseStore } from '../metadata-store.js';
import { DB_NOW_MS, type PostgresContext } from './postgres-context.js';

interface LeaseRow {
  resource: string;
  owner: string | null;
  epoch: bigint;
  expires_at: bigint;
}

// Each change is one statement judged by the database clock. Rows are taken in resource
// order, so two agents asking for overlapping sets queue on the first shared row instead
// of deadlocking; the upsert re-evaluates its WHERE against the winner's row, so at most
// one of racing acquirers takes a free or expired lease.
const ACQUIRE_MANY = {
  name: 'streamhouse.lease_acquire_many',
  text: `
    INSERT INTO leases AS l (resource, owner, epoch, expires_at)
      SELECT r, $2, 1, ${DB_NOW_MS} + $3::bigint FROM unnest($1::text[]) AS r ORDER BY r
    ON CONFLICT (resource) DO UPDATE SET
      epoch = l.epoch + 1,
      owner = excluded.owner,
      expires_at = excluded.expires_at
    WHERE l.owner IS NULL OR l.expires_at <= ${DB_NOW_MS} OR l.owner = excluded.owner
    RETURNING l.resource, l.owner, l.epoch, l.expires_at`,
};

const RENEW_MANY = {
  name: 'streamhouse.lease_renew_many',
  text: `
    WITH held AS (
      SELECT l.resource FROM leases l JOIN unnest($1::text[], $2::bigint[]) AS c(resource, epoch)
        ON l.resource = c.resource AND l.epoch = c.epoch
      WHERE l.owner = $3 AND l.expires_at > ${DB_NOW_MS}
      ORDER BY l.resource FOR UPDATE OF l)
    UPDATE leases u SET expires_at = ${DB_NOW_MS} + $4::bigint FROM held
    WHERE u.resource = held.resource AND u.expires_at > ${DB_NOW_MS}
    RETURNING u.resource, u.owner, u.epoch, u.expires_at`,
};

const RELEASE_MANY = {
  name: 'streamhouse.lease_release_many',
  text: `
    UPDATE leases l SET owner = NULL, expires_at = 0
    FROM unnest($1::text[], $2::bigint[]) AS c(resource, epoch)
    WHERE l.resource = c.resource AND l.epoch = c.epoch AND l.owner = $3`,
};

export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly ctx: PostgresContext) {}

  async acquire(resource: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    return (await this.acquireMany([resource], owner, ttlMs))[0];
  }

  async acquireMany(resources: readonly string[], owner: string, ttlMs: number): Promise<Lease[]> {
    this.ctx.assertOpen();
    if (resources.length === 0) return [];
    const result = await this.ctx.query<LeaseRow>(ACQUIRE_MANY, [[...new Set(resources)], owner, ttlMs]);
    return result.rows.map(toLease).sort(byLeaseResource);
  }

  async renew(resource: string, owner: string, epoch: number, ttlMs: number): Promise<Lease | undefined> {
    return (await this.renewMany([{ resource, epoch }], owner, ttlMs))[0];
  }

  async renewMany(leases: readonly LeaseClaim[], owner: string, ttlMs: number): Promise<Lease[]> {
    this.ctx.assertOpen();
    if (leases.length === 0) return [];
    const result = await this.ctx.query<LeaseRow>(RENEW_MANY, [leases.map((l) => l.resource), leases.map((l) => l.epoch), owner, ttlMs]);
    return result.rows.map(toLease).sort(byLeaseResource);
  }

  async release(resource: string, owner: string, epoch: number): Promise<boolean> {
    return (await this.releaseMany([{ resource, epoch }], owner)) === 1;
  }

  async releaseMany(leases: readonly LeaseClaim[], owner: string): Promise<number> {
    this.ctx.assertOpen();
    if (leases.length === 0) return 0;
    const result = await this.ctx.query(RELEASE_MANY, [leases.map((l) => l.resource), leases.map((l) => l.epoch), owner]);
    return result.rowCount ?? 0;
  }

  async get(resource: string): Promise<Lease | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<LeaseRow>(
      `SELECT resource, owner, epoch, expires_at FROM leases WHERE resource = $1 AND owner IS NOT NULL AND expires_at > ${DB_NOW_MS}`,
      [resource],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : toLease(row);
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
    return result.rows.map(toLease);
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

function toLease(row: LeaseRow): Lease {
  return { resource: row.resource, owner: row.owner ?? '', epoch: Number(row.epoch), expiresAt: Number(row.expires_at) };
}
