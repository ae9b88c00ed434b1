import type { ClusterMetadataStore } from '../metadata-store.js';
import type { PostgresContext } from './postgres-context.js';

export class PostgresClusterStore implements ClusterMetadataStore {
  constructor(private readonly ctx: PostgresContext) {}

  async getClusterId(): Promise<string> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ cluster_id: string }>('SELECT cluster_id FROM cluster WHERE singleton');
    const id = result.rows[0]?.cluster_id;
    if (id === undefined) throw new Error('cluster row is missing: the initial migration did not run');
    return id;
  }
}
