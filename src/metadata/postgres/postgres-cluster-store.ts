import type { BrokerConfigOverride, ClusterMetadataStore } from '../metadata-store.js';
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

  async listBrokerConfigs(): Promise<BrokerConfigOverride[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ scope: string; name: string; value: string }>('SELECT scope, name, value FROM broker_configs ORDER BY scope, name');
    return result.rows.map((r) => ({ scope: r.scope, name: r.name, value: r.value }));
  }

  async alterBrokerConfigs(scope: string, changes: Readonly<Record<string, string | null>>): Promise<void> {
    this.ctx.assertOpen();
    const entries = Object.entries(changes);
    if (entries.length === 0) return;
    const set = entries.filter((e): e is [string, string] => e[1] !== null);
    const removed = entries.filter(([, v]) => v === null).map(([k]) => k);
    // rerunnable as a whole: the same upserts and deletes again change nothing more
    await this.ctx.transaction(async (tx) => {
      if (removed.length > 0) await tx.query('DELETE FROM broker_configs WHERE scope = $1 AND name = ANY($2::text[])', [scope, removed]);
      if (set.length > 0) {
        await tx.query(
          `INSERT INTO broker_configs (scope, name, value) SELECT $1, * FROM unnest($2::text[], $3::text[])
           ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value`,
          [scope, set.map(([k]) => k), set.map(([, v]) => v)],
        );
      }
    });
  }
}
