import type { ScramCredential, ScramCredentialInfo, ScramCredentialStore, ScramMechanismName } from '../metadata-store.js';
import { DB_NOW_MS, type PostgresContext } from './postgres-context.js';

interface CredentialRow {
  user_name: string;
  mechanism: string;
  salt: Buffer;
  iterations: number;
  stored_key: Buffer;
  server_key: Buffer;
}

export class PostgresScramCredentialStore implements ScramCredentialStore {
  constructor(private readonly ctx: PostgresContext) {}

  async upsert(c: ScramCredential): Promise<void> {
    this.ctx.assertOpen();
    // rerunnable: the same upsert again leaves the same row
    await this.ctx.query(
      `INSERT INTO scram_credentials (user_name, mechanism, salt, iterations, stored_key, server_key, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW_MS})
       ON CONFLICT (user_name, mechanism) DO UPDATE SET salt = excluded.salt, iterations = excluded.iterations,
         stored_key = excluded.stored_key, server_key = excluded.server_key, updated_at = excluded.updated_at`,
      [c.user, c.mechanism, c.salt, c.iterations, c.storedKey, c.serverKey],
    );
  }

  async insertIfAbsent(c: ScramCredential): Promise<boolean> {
    this.ctx.assertOpen();
    const result = await this.ctx.query(
      `INSERT INTO scram_credentials (user_name, mechanism, salt, iterations, stored_key, server_key, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW_MS})
       ON CONFLICT (user_name, mechanism) DO NOTHING`,
      [c.user, c.mechanism, c.salt, c.iterations, c.storedKey, c.serverKey],
      'once',
    );
    return result.rowCount === 1;
  }

  async get(user: string, mechanism: ScramMechanismName): Promise<ScramCredential | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<CredentialRow>(
      'SELECT user_name, mechanism, salt, iterations, stored_key, server_key FROM scram_credentials WHERE user_name = $1 AND mechanism = $2',
      [user, mechanism],
    );
    const row = result.rows[0];
    return row && { user: row.user_name, mechanism, salt: row.salt, iterations: row.iterations, storedKey: row.stored_key, serverKey: row.server_key };
  }

  async list(users?: readonly string[]): Promise<ScramCredentialInfo[]> {
    this.ctx.assertOpen();
    const result =
      users === undefined
        ? await this.ctx.query<{ user_name: string; mechanism: string; iterations: number }>('SELECT user_name, mechanism, iterations FROM scram_credentials ORDER BY user_name, mechanism')
        : await this.ctx.query<{ user_name: string; mechanism: string; iterations: number }>(
            'SELECT user_name, mechanism, iterations FROM scram_credentials WHERE user_name = ANY($1::text[]) ORDER BY user_name, mechanism',
            [users],
          );
    return result.rows.map((r) => ({ user: r.user_name, mechanism: r.mechanism as ScramMechanismName, iterations: r.iterations }));
  }

  async delete(user: string, mechanism: ScramMechanismName): Promise<boolean> {
    this.ctx.assertOpen();
    const result = await this.ctx.query('DELETE FROM scram_credentials WHERE user_name = $1 AND mechanism = $2', [user, mechanism], 'once');
    return result.rowCount === 1;
  }
}
