// Versioned schema migrations for the PostgreSQL metadata store, numbered like the SQLite
// ones so both backends describe the same schema version. All pending migrations run in
// ONE transaction holding a transaction-scoped advisory lock: agents starting together
// queue on the lock, and the ones that get it later find the work done. DDL is
// transactional in PostgreSQL, so a crash mid-upgrade leaves the previous version.
// Never edit a released migration: append.
//
// Rows rewritten by every flush (partitions, producer_states) leave free space in their
// pages (fillfactor 70) so those updates stay HOT: no index entries, less vacuum work.
//
// Text columns that are sorted or compared for order use COLLATE "C" (byte order), the
// order SQLite uses, whatever locale the database was created with.

import { randomBytes } from 'node:crypto';
import { FIRST_PRODUCER_ID, MetadataStoreError } from '../metadata-store.js';
import { DB_NOW_MS, type PgQueryable, type PostgresContext } from './postgres-context.js';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  up(tx: PgQueryable): Promise<void>;
}

/** Key of the advisory lock serializing migrations (advisory locks are per database). */
export const MIGRATION_LOCK_KEY = 0x5354_524d_4d49_47n; // "STRMMIG"

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    async up(tx) {
      await tx.query(`
        CREATE TABLE cluster (
          singleton boolean PRIMARY KEY CHECK (singleton),
          cluster_id text NOT NULL,
          created_at bigint NOT NULL
        );

        CREATE TABLE topics (
          id text PRIMARY KEY,
          name text COLLATE "C" NOT NULL UNIQUE,
          partition_count integer NOT NULL,
          created_at bigint NOT NULL
        );

        CREATE TABLE topic_configs (
          topic_id text NOT NULL,
          key text COLLATE "C" NOT NULL,
          value text NOT NULL,
          PRIMARY KEY (topic_id, key)
        );

        CREATE TABLE partitions (
          topic_id text NOT NULL,
          partition integer NOT NULL,
          high_watermark bigint NOT NULL,
          log_start_offset bigint NOT NULL,
          PRIMARY KEY (topic_id, partition)
        ) WITH (fillfactor = 70);

        -- Chunks of one partition never overlap, so (topic_id, partition, base_offset)
        -- both identifies a chunk and orders the log.
        CREATE TABLE chunks (
          topic_id text NOT NULL,
          partition integer NOT NULL,
          base_offset bigint NOT NULL,
          last_offset bigint NOT NULL,
          max_timestamp bigint NOT NULL,
          record_count bigint NOT NULL,
          object_key text COLLATE "C" NOT NULL,
          byte_offset bigint NOT NULL,
          byte_length bigint NOT NULL,
          PRIMARY KEY (topic_id, partition, base_offset)
        );
        CREATE INDEX chunks_by_object ON chunks (object_key);

        CREATE TABLE objects (
          key text COLLATE "C" PRIMARY KEY,
          size bigint NOT NULL,
          created_at bigint NOT NULL
        );

        -- A row rather than a SEQUENCE: nextval is not made durable by the commit of the
        -- transaction that used it, and a producer id must never be handed out twice.
        CREATE TABLE producer_id_sequence (
          singleton boolean PRIMARY KEY CHECK (singleton),
          next_id bigint NOT NULL
        );

        -- batches: JSON array of [firstSequence, lastSequence, "baseOffset", "lastOffset"],
        -- the same text the SQLite store keeps.
        CREATE TABLE producer_states (
          topic_id text NOT NULL,
          partition integer NOT NULL,
          producer_id bigint NOT NULL,
          producer_epoch integer NOT NULL,
          batches text NOT NULL,
          updated_at bigint NOT NULL,
          PRIMARY KEY (topic_id, partition, producer_id)
        ) WITH (fillfactor = 70);
      `);
      await tx.query(`INSERT INTO cluster (singleton, cluster_id, created_at) VALUES (true, $1, ${DB_NOW_MS})`, [
        randomBytes(16).toString('base64url'),
      ]);
      await tx.query('INSERT INTO producer_id_sequence (singleton, next_id) VALUES (true, $1)', [FIRST_PRODUCER_ID]);
    },
  },
  {
    version: 2,
    name: 'consumer group offsets',
    async up(tx) {
      await tx.query(`
        CREATE TABLE group_offsets (
          group_id text COLLATE "C" NOT NULL,
          topic text COLLATE "C" NOT NULL,
          partition integer NOT NULL,
          committed_offset bigint NOT NULL,
          leader_epoch integer NOT NULL,
          metadata text,
          commit_timestamp bigint NOT NULL,
          PRIMARY KEY (group_id, topic, partition)
        );
        CREATE INDEX group_offsets_by_topic ON group_offsets (topic);
      `);
    },
  },
  {
    version: 3,
    name: 'agents and leases',
    async up(tx) {
      await tx.query(`
        -- last_heartbeat 0 marks a deregistered agent; its node id stays reserved for it.
        CREATE TABLE agents (
          agent_id text COLLATE "C" PRIMARY KEY,
          node_id integer NOT NULL UNIQUE,
          host text NOT NULL,
          port integer NOT NULL,
          rack text,
          registered_at bigint NOT NULL,
          last_heartbeat bigint NOT NULL
        ) WITH (fillfactor = 70);

        -- A released lease keeps its row (owner NULL) so the epoch never goes back.
        CREATE TABLE leases (
          resource text COLLATE "C" PRIMARY KEY,
          owner text,
          epoch bigint NOT NULL,
          expires_at bigint NOT NULL
        ) WITH (fillfactor = 70);
      `);
    },
  },
  {
    version: 4,
    name: 'group ids and commit metadata as bytes',
    async up(tx) {
      // Kafka strings may hold NUL, which PostgreSQL text cannot; bytea keeps them exactly
      // (and sorts like COLLATE "C" on UTF-8).
      await tx.query(`
        ALTER TABLE group_offsets
          ALTER COLUMN group_id TYPE bytea USING convert_to(group_id, 'UTF8'),
          ALTER COLUMN metadata TYPE bytea USING convert_to(metadata, 'UTF8');
      `);
    },
  },
  {
    version: 5,
    name: 'dynamic broker configs',
    async up(tx) {
      // scope '' is the cluster-wide default, else a broker (node) id; values are validated
      // config values (no NUL), so text is fine here
      await tx.query(`
        CREATE TABLE broker_configs (
          scope text COLLATE "C" NOT NULL,
          name text COLLATE "C" NOT NULL,
          value text NOT NULL,
          PRIMARY KEY (scope, name)
        );
      `);
    },
  },
  {
    version: 6,
    name: 'advertised listeners and SCRAM credentials',
    async up(tx) {
      // listeners: JSON array of {"name", "host", "port"}, every advertised listener of the
      // agent; scram_credentials: salted SCRAM credentials (RFC 5802), never a password
      await tx.query(`
        ALTER TABLE agents ADD COLUMN listeners text NOT NULL DEFAULT '[]';

        CREATE TABLE scram_credentials (
          user_name text COLLATE "C" NOT NULL,
          mechanism text COLLATE "C" NOT NULL,
          salt bytea NOT NULL,
          iterations integer NOT NULL,
          stored_key bytea NOT NULL,
          server_key bytea NOT NULL,
          updated_at bigint NOT NULL,
          PRIMARY KEY (user_name, mechanism)
        );
      `);
    },
  },
  {
    version: 7,
    name: 'ACL bindings',
    async up(tx) {
      // Kafka's codes for resource type, pattern type, operation and permission; one row
      // per binding. acl_version counts changes so agents reload only when it moved.
      await tx.query(`
        CREATE TABLE acl_bindings (
          resource_type smallint NOT NULL,
          resource_name text COLLATE "C" NOT NULL,
          pattern_type smallint NOT NULL,
          principal text COLLATE "C" NOT NULL,
          host text COLLATE "C" NOT NULL,
          operation smallint NOT NULL,
          permission smallint NOT NULL,
          PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host, operation, permission)
        );
        CREATE TABLE acl_version (
          id integer PRIMARY KEY CHECK (id = 1),
          version bigint NOT NULL
        );
        INSERT INTO acl_version (id, version) VALUES (1, 0);
      `);
    },
  },
  {
    version: 8,
    name: 'transactions',
    async up(tx) {
      // txn_first_offset: first offset of the producer's open transaction on the partition,
      // NULL when none is open (a nullable column without default: no table rewrite).
      // aborted_transactions: one row per ABORT marker, the aborted records spanning
      // [first_offset, last_offset], last_offset being the marker's own (unique) offset.
      // group_pending_offsets: TxnOffsetCommit offsets waiting for their transaction's end,
      // group ids and metadata as bytes like group_offsets (migration 4).
      // transactions: the coordinator's record per transactional id (bytes: a Kafka string
      // may hold NUL); partitions and group_ids are JSON text (jsonb cannot hold \u0000),
      // version is the compare-and-set guard. Rewritten at every state change: fillfactor 70.
      await tx.query(`
        ALTER TABLE producer_states ADD COLUMN txn_first_offset bigint;

        CREATE TABLE aborted_transactions (
          topic_id text NOT NULL,
          partition integer NOT NULL,
          last_offset bigint NOT NULL,
          producer_id bigint NOT NULL,
          first_offset bigint NOT NULL,
          PRIMARY KEY (topic_id, partition, last_offset)
        );

        CREATE TABLE group_pending_offsets (
          group_id bytea NOT NULL,
          producer_id bigint NOT NULL,
          topic text COLLATE "C" NOT NULL,
          partition integer NOT NULL,
          committed_offset bigint NOT NULL,
          leader_epoch integer NOT NULL,
          metadata bytea,
          commit_timestamp bigint NOT NULL,
          PRIMARY KEY (group_id, producer_id, topic, partition)
        );
        CREATE INDEX group_pending_offsets_by_topic ON group_pending_offsets (topic);

        CREATE TABLE transactions (
          transactional_id bytea PRIMARY KEY,
          producer_id bigint NOT NULL,
          producer_epoch integer NOT NULL,
          last_producer_epoch integer NOT NULL,
          state text NOT NULL,
          timeout_ms integer NOT NULL,
          partitions text NOT NULL,
          group_ids text NOT NULL,
          started_at_ms bigint NOT NULL,
          updated_at_ms bigint NOT NULL,
          version bigint NOT NULL
        ) WITH (fillfactor = 70);
      `);
    },
  },
];

export function latestPostgresSchemaVersion(migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

function tooNew(current: number, latest: number): MetadataStoreError {
  // A newer StreamHouse upgraded this database; running old code on it could corrupt it.
  return new MetadataStoreError(
    'SCHEMA_TOO_NEW',
    `Metadata database is at schema version ${current}, this build knows up to ${latest}; upgrade StreamHouse`,
  );
}

async function currentVersion(db: PgQueryable): Promise<number | undefined> {
  const exists = await db.query<{ table: string | null }>(`SELECT to_regclass('schema_migrations')::text AS table`);
  if (exists.rows[0]?.table == null) return undefined;
  const row = await db.query<{ version: number | null }>('SELECT MAX(version) AS version FROM schema_migrations');
  return row.rows[0]?.version ?? 0;
}

/** Brings the database to the latest version; returns that version. */
export async function applyPostgresMigrations(
  ctx: PostgresContext,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number> {
  const latest = latestPostgresSchemaVersion(migrations);
  // Fast path without the exclusive lock: the common restart of an up-to-date agent.
  const seen = await currentVersion(ctx);
  if (seen !== undefined && seen > latest) throw tooNew(seen, latest);
  if (seen === latest) return latest;

  return ctx.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at bigint NOT NULL
      )
    `);
    const current = (await currentVersion(tx)) ?? 0;
    if (current > latest) throw tooNew(current, latest);
    const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
    for (const migration of pending) {
      await migration.up(tx);
      await tx.query(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, ${DB_NOW_MS})`, [
        migration.version,
        migration.name,
      ]);
    }
    return latest;
  });
}
