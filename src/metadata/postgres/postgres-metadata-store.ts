// The production metadata store: PostgreSQL through a pg Pool. Same semantics as the SQLite
// store (the shared contract suite runs against both); concurrency comes from several
// agents and pool connections, so writes take explicit row locks and every time that
// matters is read from the database clock.

import pg from 'pg';
import { MetadataStoreError, type MetadataStore } from '../metadata-store.js';
import { DB_NOW_MS, PostgresContext, type PostgresStatistics } from './postgres-context.js';
import { PostgresUnavailableError, describePgError } from './postgres-errors.js';
import { applyPostgresMigrations } from './postgres-migrations.js';
import { DEFAULT_POOL_SIZE, parsePostgresUrl } from './postgres-url.js';
import { redactUrl } from '../../common/redact-url.js';
import { PostgresAgentRegistry } from './postgres-agent-registry.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';
import { PostgresChunkIndex } from './postgres-chunk-index.js';
import { PostgresClusterStore } from './postgres-cluster-store.js';
import { PostgresScramCredentialStore } from './postgres-scram-store.js';
import { PostgresAclStore } from './postgres-acl-store.js';
import { PostgresGroupOffsetStore } from './postgres-group-offset-store.js';
import { PostgresObjectStore } from './postgres-object-store.js';
import { PostgresPartitionStore } from './postgres-partition-store.js';
import { PostgresProducerStore } from './postgres-producer-store.js';
import { PostgresTopicStore } from './postgres-topic-store.js';
import { PostgresTransactionStore } from './postgres-transaction-store.js';

export interface PostgresMetadataStoreOptions {
  /** postgres://user:password@host:port/database[?pool_size=N&sslmode=...]. */
  readonly url: string;
  /** Connections in the pool; overrides `?pool_size=`. Default 10. */
  readonly poolSize?: number;
  /** How long acquiring a new connection may take. Default 10000. */
  readonly connectTimeoutMs?: number;
  /** Attempts per call for deadlocks, serialization failures and broken connections. Default 5. */
  readonly retryAttempts?: number;
  /** First pause between attempts, doubled each time, with jitter. Default 50. */
  readonly retryBackoffMs?: number;
  /** Errors of idle pooled connections (e.g. the server restarted); the pool has already dropped them. */
  readonly onIdleConnectionError?: (err: Error) => void;
}

const INT8_OID = 20;

// int8 columns (offsets, timestamps, producer ids) must come back exact, as bigint. The
// parser is given to this pool's clients only, leaving pg's global defaults alone.
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => BigInt(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export class PostgresMetadataStore implements MetadataStore {
  readonly cluster: PostgresClusterStore;
  readonly scramCredentials: PostgresScramCredentialStore;
  readonly acls: PostgresAclStore;
  readonly agents: PostgresAgentRegistry;
  readonly leases: PostgresLeaseStore;
  readonly topics: PostgresTopicStore;
  readonly partitions: PostgresPartitionStore;
  readonly chunks: PostgresChunkIndex;
  readonly producers: PostgresProducerStore;
  readonly groupOffsets: PostgresGroupOffsetStore;
  readonly transactions: PostgresTransactionStore;
  readonly objects: PostgresObjectStore;
  readonly poolSize: number;
  private schema = 0;

  private constructor(
    private readonly ctx: PostgresContext,
    poolSize: number,
  ) {
    this.poolSize = poolSize;
    this.cluster = new PostgresClusterStore(ctx);
    this.scramCredentials = new PostgresScramCredentialStore(ctx);
    this.acls = new PostgresAclStore(ctx);
    this.agents = new PostgresAgentRegistry(ctx);
    this.leases = new PostgresLeaseStore(ctx);
    this.topics = new PostgresTopicStore(ctx);
    this.partitions = new PostgresPartitionStore(ctx);
    this.chunks = new PostgresChunkIndex(ctx);
    this.producers = new PostgresProducerStore(ctx);
    this.groupOffsets = new PostgresGroupOffsetStore(ctx);
    this.transactions = new PostgresTransactionStore(ctx);
    this.objects = new PostgresObjectStore(ctx);
  }

  /**
   * Connects, applies pending migrations and returns the store. Failures are one line
   * naming the redacted URL: PostgresUnavailableError when the server cannot be used,
   * MetadataStoreError SCHEMA_TOO_NEW when a newer StreamHouse migrated the database.
   */
  static async open(options: PostgresMetadataStoreOptions): Promise<PostgresMetadataStore> {
    const parsed = parsePostgresUrl(options.url);
    const target = redactUrl(options.url);
    const poolSize = options.poolSize ?? parsed.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
      throw new MetadataStoreError('INVALID_ARGUMENT', `poolSize must be a positive integer, got ${poolSize}`);
    }
    const pool = new pg.Pool({
      connectionString: parsed.connectionString,
      max: poolSize,
      types: TYPES,
      application_name: 'streamhouse',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    const onIdleError = options.onIdleConnectionError ?? (() => {});
    // Without these listeners a connection dropped by a server restart would be an
    // uncaught 'error' event and take the whole agent down.
    pool.on('error', onIdleError);
    pool.on('connect', (client) => client.on('error', () => {}));

    const ctx = new PostgresContext(pool, target, options.retryAttempts ?? 5, options.retryBackoffMs ?? 50);
    const store = new PostgresMetadataStore(ctx, poolSize);
    try {
      store.schema = await applyPostgresMigrations(ctx);
      return store;
    } catch (err) {
      ctx.markClosed();
      await pool.end().catch(() => {});
      if (err instanceof MetadataStoreError) throw err;
      throw new PostgresUnavailableError(`Cannot open PostgreSQL metadata store ${target}: ${describePgError(err instanceof PostgresUnavailableError ? err.cause : err)}`, {
        cause: err,
      });
    }
  }

  /** Schema version after migrations ran at open. */
  get schemaVersion(): number {
    return this.schema;
  }

  /**
   * The database server's clock, ms since the epoch. Agents compare times (lease expiry,
   * heartbeats, grace periods) against this rather than their own clocks, which may drift.
   * SQL can use DB_NOW_MS directly.
   */
  async databaseNow(): Promise<number> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ now: bigint }>(`SELECT ${DB_NOW_MS} AS now`);
    return Number(result.rows[0]?.now);
  }

  /** Statement, transaction and retry counters since open (for benchmarks and tests). */
  statistics(): PostgresStatistics {
    return this.ctx.statistics();
  }

  /** Raw pool, for diagnostics and tests only. */
  get pool(): pg.Pool {
    return this.ctx.pool;
  }

  async close(): Promise<void> {
    if (this.ctx.isClosed) return;
    this.ctx.markClosed();
    await this.ctx.pool.end();
  }
}

export async function openPostgresMetadataStore(options: PostgresMetadataStoreOptions): Promise<PostgresMetadataStore> {
  return PostgresMetadataStore.open(options);
}
