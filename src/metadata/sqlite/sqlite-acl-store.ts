import type { AclStore, StoredAclBinding } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

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
  resourceType: Number(r.resource_type),
  resourceName: r.resource_name,
  patternType: Number(r.pattern_type),
  principal: r.principal,
  host: r.host,
  operation: Number(r.operation),
  permission: Number(r.permission),
});

const params = (b: StoredAclBinding) => [b.resourceType, b.resourceName, b.patternType, b.principal, b.host, b.operation, b.permission] as const;

export class SqliteAclStore implements AclStore {
  constructor(private readonly ctx: SqliteContext) {}

  async create(bindings: readonly StoredAclBinding[]): Promise<void> {
    this.ctx.assertOpen();
    const insert = this.ctx.db.prepare(
      `INSERT INTO acl_bindings (resource_type, resource_name, pattern_type, principal, host, operation, permission) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const bump = this.ctx.db.prepare('UPDATE acl_version SET version = version + 1 WHERE id = 1');
    this.ctx.db.transaction(() => {
      let changed = 0;
      for (const b of bindings) changed += insert.run(...params(b)).changes;
      if (changed > 0) bump.run();
    }).immediate();
  }

  async list(): Promise<StoredAclBinding[]> {
    this.ctx.assertOpen();
    const rows = this.ctx.db
      .prepare<[], AclRow>('SELECT * FROM acl_bindings ORDER BY resource_type, resource_name, pattern_type, principal, host, operation, permission')
      .all();
    return rows.map(fromRow);
  }

  async delete(bindings: readonly StoredAclBinding[]): Promise<StoredAclBinding[]> {
    this.ctx.assertOpen();
    const remove = this.ctx.db.prepare(
      'DELETE FROM acl_bindings WHERE resource_type = ? AND resource_name = ? AND pattern_type = ? AND principal = ? AND host = ? AND operation = ? AND permission = ?',
    );
    const bump = this.ctx.db.prepare('UPDATE acl_version SET version = version + 1 WHERE id = 1');
    return this.ctx.db.transaction(() => {
      const removed = bindings.filter((b) => remove.run(...params(b)).changes === 1);
      if (removed.length > 0) bump.run();
      return removed;
    }).immediate();
  }

  async version(): Promise<number> {
    this.ctx.assertOpen();
    const row = this.ctx.db.prepare<[], { version: number }>('SELECT version FROM acl_version WHERE id = 1').get();
    return Number(row?.version ?? 0);
  }
}
