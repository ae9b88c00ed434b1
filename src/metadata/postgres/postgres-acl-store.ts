import type { AclStore, StoredAclBinding } from '../metadata-store.js';
import type { PostgresContext } from './postgres-context.js';

interface AclRow {
  resource_type: number;
  resource_name: string;
  pattern_type: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

const fromRow = (r: AclRow): StoredAclBinding => ({
  resourceType: r.resource_type,
  resourceName: r.resource_name,
  patternType: r.pattern_type,
  principal: r.principal,
  host: r.host,
  operation: r.operation,
  permission: r.permission,
});

const params = (b: StoredAclBinding) => [b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permission];

export class PostgresAclStore implements AclStore {
  constructor(private readonly ctx: PostgresContext) {}

  async create(bindings: readonly StoredAclBinding[]): Promise<void> {
    this.ctx.assertOpen();
    if (bindings.length === 0) return;
    // a rerun after a lost COMMIT inserts nothing new and leaves the same rows
    await this.ctx.transaction(async (tx) => {
      let changed = 0;
      for (const b of bindings) {
        const r = await tx.query(
          `INSERT INTO acl_bindings (resource_type, resource_name, pattern_type, principal, host, operation, permission) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          params(b),
        );
        changed += r.rowCount ?? 0;
      }
      if (changed > 0) await tx.query('UPDATE acl_version SET version = version + 1 WHERE id = 1');
    });
  }

  async list(): Promise<StoredAclBinding[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<AclRow>('SELECT * FROM acl_bindings ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, permission');
    return result.rows.map(fromRow);
  }

  async delete(bindings: readonly StoredAclBinding[]): Promise<StoredAclBinding[]> {
    this.ctx.assertOpen();
    if (bindings.length === 0) return [];
    return this.ctx.transaction(async (tx) => {
      const removed: StoredAclBinding[] = [];
      for (const b of bindings) {
        const r = await tx.query(
          'DELETE FROM acl_bindings WHERE resource_type = $1 AND resource_name = $2 AND pattern_type = $3 AND principal = $4 AND host = $5 AND operation = $6 AND permission = $7',
          params(b),
        );
        if (r.rowCount === 1) removed.push(b);
      }
      if (removed.length > 0) await tx.query('UPDATE acl_version SET version = version + 1 WHERE id = 1');
      return removed;
    });
  }

  async version(): Promise<number> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ version: string }>('SELECT version FROM acl_version WHERE id = 1');
    return Number(result.rows[0]?.version ?? 0);
  }
}
