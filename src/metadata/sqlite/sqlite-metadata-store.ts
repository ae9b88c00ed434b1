// The embedded metadata store: one better-sqlite3 connection in WAL mode with
// synchronous=FULL, because an acknowledged produce must survive a power loss and the
// commit that acknowledges it lands here.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { MetadataStore } from '../metadata-store.js';
import { applySqliteMigrations } from './migrations.js';
import { SqliteAgentRegistry } from './sqlite-agent-registry.js';
import { SqliteLeaseStore } from './sqlite-lease-store.js';
import { SqliteChunkIndex } from './sqlite-chunk-index.js';
import { SqliteClusterStore } from './sqlite-cluster-store.js';
import { SqliteContext } from './sqlite-context.js';
import { SqliteObjectStore } from './sqlite-object-store.js';
import { SqlitePartitionStore } from './sqlite-partition-store.js';
import { SqliteGroupOffsetStore } from './sqlite-group-offset-store.js';
import { SqliteProducerStore } from './sqlite-producer-store.js';
import { SqliteTopicStore } from './sqlite-topic-store.js';
import { SqliteScramCredentialStore } from './sqlite-scram-store.js';
import { SqliteAclStore } from './sqlite-acl-store.js';
import { SqliteTransactionStore } from './sqlite-transaction-store.js';

export const SQLITE_MEMORY_PATH = ':memory:';

export interface SqliteMetadataStoreOptions {
  /** File path, or ':memory:' for a private in-memory database. */
  readonly path: string;
  /** Clock for created_at columns (ms since epoch); tests pin it. */
  readonly now?: () => number;
  /** How long a write waits for another connection's lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
}

export class SqliteMetadataStore implements MetadataStore {
  readonly cluster: SqliteClusterStore;
  readonly scramCredentials: SqliteScramCredentialStore;
  readonly acls: SqliteAclStore;
  readonly agents: SqliteAgentRegistry;
  readonly leases: SqliteLeaseStore;
  readonly topics: SqliteTopicStore;
  readonly partitions: SqlitePartitionStore;
  readonly chunks: SqliteChunkIndex;
  readonly producers: SqliteProducerStore;
  readonly groupOffsets: SqliteGroupOffsetStore;
  readonly transactions: SqliteTransactionStore;
  readonly objects: SqliteObjectStore;
  /** Schema version after migrations ran at open. */
  readonly schemaVersion: number;
  private readonly ctx: SqliteContext;

  private constructor(db: BetterSqlite3.Database, now: () => number) {
    this.ctx = new SqliteContext(db, now);
    this.schemaVersion = applySqliteMigrations(db, now);
    this.cluster = new SqliteClusterStore(this.ctx);
    this.scramCredentials = new SqliteScramCredentialStore(this.ctx);
    this.acls = new SqliteAclStore(this.ctx);
    this.agents = new SqliteAgentRegistry(this.ctx);
    this.leases = new SqliteLeaseStore(this.ctx);
    this.topics = new SqliteTopicStore(this.ctx);
    this.partitions = new SqlitePartitionStore(this.ctx);
    this.chunks = new SqliteChunkIndex(this.ctx);
    this.producers = new SqliteProducerStore(this.ctx);
    this.objects = new SqliteObjectStore(this.ctx);
    this.groupOffsets = new SqliteGroupOffsetStore(this.ctx);
    this.transactions = new SqliteTransactionStore(this.ctx);
  }

  static open(options: SqliteMetadataStoreOptions): SqliteMetadataStore {
    const memory = options.path === SQLITE_MEMORY_PATH;
    if (!memory) mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    try {
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      if (!memory) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      return new SqliteMetadataStore(db, options.now ?? Date.now);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The raw connection, for diagnostics (pragmas, schema checks) only. */
  get connection(): BetterSqlite3.Database {
    return this.ctx.db;
  }

  async close(): Promise<void> {
    if (this.ctx.isClosed) return;
    this.ctx.markClosed();
    try {
      // Lets SQLite refresh planner statistics; never worth failing a close over.
      this.ctx.db.pragma('optimize');
    } finally {
      this.ctx.db.close();
    }
  }
}

export async function openSqliteMetadataStore(options: SqliteMetadataStoreOptions): Promise<SqliteMetadataStore> {
  return SqliteMetadataStore.open(options);
}
