// Unit tests share one throwaway PostgreSQL server per test file and give every test its
// own schema: CREATE SCHEMA is cheap where CREATE/DROP DATABASE costs a checkpoint, and
// the store finds its tables through the search_path carried in the URL.

import pg from 'pg';

export interface TestSchema {
  /** The server URL with `options=-c search_path=<schema>`. */
  readonly url: string;
  readonly schema: string;
  drop(): Promise<void>;
}

export interface TestSchemas {
  /** A new, empty schema. */
  create(prefix?: string): Promise<TestSchema>;
  /** Closes the admin connection (schemas stay until the server goes away). */
  close(): Promise<void>;
}

function withSearchPath(serverUrl: string, schema: string): string {
  const separator = serverUrl.includes('?') ? '&' : '?';
  return `${serverUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * Schemas on the database at `serverUrl`, created and dropped over one admin connection,
 * which is replaced when it breaks (tests may crash-restart the server).
 */
export async function openTestSchemas(serverUrl: string): Promise<TestSchemas> {
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: serverUrl });
    // A server restart breaks the idle connection; the next query reconnects.
    const markBroken = (): void => {
      broken = true;
    };
    client.on('error', markBroken);
    client.on('end', markBroken);
    await client.connect();
    broken = false;
    return client;
  };
  let broken = false;
  let admin = await connect();
  const run = async (sql: string): Promise<void> => {
    if (broken) {
      await admin.end().catch(() => {});
      admin = await connect();
    }
    await admin.query(sql);
  };
  let counter = 0;
  return {
    async create(prefix = 'test') {
      const schema = `${prefix}_${process.pid}_${++counter}`;
      await run(`CREATE SCHEMA ${schema}`);
      return { url: withSearchPath(serverUrl, schema), schema, drop: () => run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
    },
    close: () => admin.end(),
  };
}
