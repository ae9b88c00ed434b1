import type { ScramCredential, ScramCredentialInfo, ScramCredentialStore, ScramMechanismName } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

interface CredentialRow {
  user_name: string;
  mechanism: string;
  salt: Buffer;
  iterations: number;
  stored_key: Buffer;
  server_key: Buffer;
}

export class SqliteScramCredentialStore implements ScramCredentialStore {
  constructor(private readonly ctx: SqliteContext) {}

  async upsert(c: ScramCredential): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .prepare(
        `INSERT INTO scram_credentials (user_name, mechanism, salt, iterations, stored_key, server_key, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_name, mechanism) DO UPDATE SET salt = excluded.salt, iterations = excluded.iterations,
           stored_key = excluded.stored_key, server_key = excluded.server_key, updated_at = excluded.updated_at`,
      )
      .run(c.user, c.mechanism, c.salt, c.iterations, c.storedKey, c.serverKey, this.ctx.now());
  }

  async insertIfAbsent(c: ScramCredential): Promise<boolean> {
    this.ctx.assertOpen();
    const result = this.ctx.db
      .prepare(
        `INSERT INTO scram_credentials (user_name, mechanism, salt, iterations, stored_key, server_key, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_name, mechanism) DO NOTHING`,
      )
      .run(c.user, c.mechanism, c.salt, c.iterations, c.storedKey, c.serverKey, this.ctx.now());
    return result.changes === 1;
  }

  async get(user: string, mechanism: ScramMechanismName): Promise<ScramCredential | undefined> {
    this.ctx.assertOpen();
    const row = this.ctx.db
      .prepare<[string, string], CredentialRow>('SELECT user_name, mechanism, salt, iterations, stored_key, server_key FROM scram_credentials WHERE user_name = ? AND mechanism = ?')
      .get(user, mechanism);
    return row && { user: row.user_name, mechanism, salt: Buffer.from(row.salt), iterations: Number(row.iterations), storedKey: Buffer.from(row.stored_key), serverKey: Buffer.from(row.server_key) };
  }

  async list(users?: readonly string[]): Promise<ScramCredentialInfo[]> {
    this.ctx.assertOpen();
    const rows = this.ctx.db
      .prepare<[], { user_name: string; mechanism: string; iterations: number }>('SELECT user_name, mechanism, iterations FROM scram_credentials ORDER BY user_name, mechanism')
      .all();
    const wanted = users === undefined ? undefined : new Set(users);
    return rows
      .filter((r) => wanted === undefined || wanted.has(r.user_name))
      .map((r) => ({ user: r.user_name, mechanism: r.mechanism as ScramMechanismName, iterations: Number(r.iterations) }));
  }

  async delete(user: string, mechanism: ScramMechanismName): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.db.prepare('DELETE FROM scram_credentials WHERE user_name = ? AND mechanism = ?').run(user, mechanism).changes === 1;
  }
}
