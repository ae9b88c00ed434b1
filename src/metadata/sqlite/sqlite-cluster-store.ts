import type BetterSqlite3 from 'better-sqlite3';
import type { ClusterMetadataStore } from '../metadata-store.js';
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
}
