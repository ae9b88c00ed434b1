import type BetterSqlite3 from 'better-sqlite3';
import type { BrokerConfigOverride, ClusterMetadataStore } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

export class SqliteClusterStore implements ClusterMetadataStore {
  private readonly selectClusterId: BetterSqlite3.Statement<[], string>;

  constructor(private readonly ctx: SqliteContext) {
    this.selectClusterId = ctx.db.prepare<[], string>('SELECT cluster_id FROM cluster WHERE singleton = 1').pluck();
  }

  async getClusterId(): Promise<string> {
    this.ctx.assertOpen();
    const id = this.selectClusterId.get();
    if (id === undefined) throw new Error('cluster row is missing: the initial migration did not run');
    return id;
  }

  async listBrokerConfigs(): Promise<BrokerConfigOverride[]> {
    this.ctx.assertOpen();
    return this.ctx.db.prepare<[], BrokerConfigOverride>('SELECT scope, name, value FROM broker_configs ORDER BY scope, name').all();
  }

  async alterBrokerConfigs(scope: string, changes: Readonly<Record<string, string | null>>): Promise<void> {
    this.ctx.assertOpen();
    const upsert = this.ctx.db.prepare('INSERT INTO broker_configs (scope, name, value) VALUES (?, ?, ?) ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value');
    const remove = this.ctx.db.prepare('DELETE FROM broker_configs WHERE scope = ? AND name = ?');
    this.ctx.db.transaction(() => {
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) remove.run(scope, name);
        else upsert.run(scope, name, value);
      }
    })();
  }
}
