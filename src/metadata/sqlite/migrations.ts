// Versioned schema migrations for the SQLite metadata store. Each migration runs once, in
// its own transaction together with its schema_migrations row, so a crash mid-upgrade
// leaves the database at the previous version. Never edit a released migration: append.

import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { FIRST_PRODUCER_ID, MetadataStoreError } from '../metadata-store.js';

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  up(db: BetterSqlite3.Database, now: number): void;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    up(db, now) {
      db.exec(`
        CREATE TABLE cluster (
          singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
          cluster_id TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE topics (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          partition_count INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE topic_configs (
          topic_id TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (topic_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE partitions (
          topic_id TEXT NOT NULL,
          partition INTEGER NOT NULL,
          high_watermark INTEGER NOT NULL,
          log_start_offset INTEGER NOT NULL,
          PRIMARY KEY (topic_id, partition)
        ) WITHOUT ROWID;

        -- Chunks of one partition never overlap, so (topic_id, partition, base_offset)
        -- both identifies a chunk and orders the log.
        CREATE TABLE chunks (
          topic_id TEXT NOT NULL,
          partition INTEGER NOT NULL,
          base_offset INTEGER NOT NULL,
          last_offset INTEGER NOT NULL,
          max_timestamp INTEGER NOT NULL,
          record_count INTEGER NOT NULL,
          object_key TEXT NOT NULL,
          byte_offset INTEGER NOT NULL,
          byte_length INTEGER NOT NULL,
          PRIMARY KEY (topic_id, partition, base_offset)
        ) WITHOUT ROWID;
        CREATE INDEX chunks_by_object ON chunks (object_key);

        CREATE TABLE objects (
          key TEXT PRIMARY KEY,
          size INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );

        CREATE TABLE producer_id_sequence (
          singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
          next_id INTEGER NOT NULL
        );

        -- batches: JSON array of [firstSequence, lastSequence, "baseOffset", "lastOffset"],
        -- offsets as strings because JSON numbers lose int64 precision.
        CREATE TABLE producer_states (
          topic_id TEXT NOT NULL,
          partition INTEGER NOT NULL,
          producer_id INTEGER NOT NULL,
          producer_epoch INTEGER NOT NULL,
          batches TEXT NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (topic_id, partition, producer_id)
        ) WITHOUT ROWID;
      `);
      db.prepare('INSERT INTO cluster (singleton, cluster_id, created_at) VALUES (1, ?, ?)').run(
        randomBytes(16).toString('base64url'),
        now,
      );
      db.prepare('INSERT INTO producer_id_sequence (singleton, next_id) VALUES (1, ?)').run(FIRST_PRODUCER_ID);
    },
  },
  {
    version: 2,
    name: 'consumer group offsets',
    up(db) {
      db.exec(`
        CREATE TABLE group_offsets (
          group_id TEXT NOT NULL,
          topic TEXT NOT NULL,
          partition INTEGER NOT NULL,
          committed_offset INTEGER NOT NULL,
          leader_epoch INTEGER NOT NULL,
          metadata TEXT,
          commit_timestamp INTEGER NOT NULL,
          PRIMARY KEY (group_id, topic, partition)
        ) WITHOUT ROWID;
        CREATE INDEX group_offsets_by_topic ON group_offsets (topic);
      `);
    },
  },
  {
    version: 3,
    name: 'agents and leases',
    up(db) {
      db.exec(`
        -- last_heartbeat 0 marks a deregistered agent; its node id stays reserved for it.
        CREATE TABLE agents (
          agent_id TEXT PRIMARY KEY,
          node_id INTEGER NOT NULL UNIQUE,
          host TEXT NOT NULL,
          port INTEGER NOT NULL,
          rack TEXT,
          registered_at INTEGER NOT NULL,
          last_heartbeat INTEGER NOT NULL
        );

        -- A released lease keeps its row (owner NULL) so the epoch never goes back.
        CREATE TABLE leases (
          resource TEXT PRIMARY KEY,
          owner TEXT,
          epoch INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 4,
    name: 'dynamic broker configs',
    up(db) {
      db.exec(`
        -- scope '' is the cluster-wide default, else a broker (node) id
        CREATE TABLE broker_configs (
          scope TEXT NOT NULL,
          name TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (scope, name)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 5,
    name: 'advertised listeners and SCRAM credentials',
    up(db) {
      db.exec(`
        -- JSON array of {"name", "host", "port"}: every advertised listener of the agent
        ALTER TABLE agents ADD COLUMN listeners TEXT NOT NULL DEFAULT '[]';

        -- salted SCRAM credentials (RFC 5802): never a password or a salted password
        CREATE TABLE scram_credentials (
          user_name TEXT NOT NULL,
          mechanism TEXT NOT NULL,
          salt BLOB NOT NULL,
          iterations INTEGER NOT NULL,
          stored_key BLOB NOT NULL,
          server_key BLOB NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (user_name, mechanism)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 6,
    name: 'ACL bindings',
    up(db) {
      // Kafka's codes for resource type, pattern type, operation and permission; one row
      // per binding. acl_version counts changes so agents reload only when it moved.
      db.exec(`
        CREATE TABLE acl_bindings (
          resource_type INTEGER NOT NULL,
          resource_name TEXT NOT NULL,
          pattern_type INTEGER NOT NULL,
          principal TEXT NOT NULL,
          host TEXT NOT NULL,
          operation INTEGER NOT NULL,
          permission INTEGER NOT NULL,
          PRIMARY KEY (resource_type, resource_name, pattern_type, principal, host, operation, permission)
        ) WITHOUT ROWID;
        CREATE TABLE acl_version (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          version INTEGER NOT NULL
        );
        INSERT INTO acl_version (id, version) VALUES (1, 0);
      `);
    },
  },
  {
    version: 7,
    name: 'transactions',
    up(db) {
      db.exec(`
        -- first offset of the producer's open transaction on the partition; NULL when none is open
        ALTER TABLE producer_states ADD COLUMN txn_first_offset INTEGER;

        -- one row per ABORT marker: the aborted records span [first_offset, last_offset],
        -- last_offset being the marker's own offset (unique in the partition)
        CREATE TABLE aborted_transactions (
          topic_id TEXT NOT NULL,
          partition INTEGER NOT NULL,
          last_offset INTEGER NOT NULL,
          producer_id INTEGER NOT NULL,
          first_offset INTEGER NOT NULL,
          PRIMARY KEY (topic_id, partition, last_offset)
        ) WITHOUT ROWID;

        -- TxnOffsetCommit offsets waiting for their transaction's end (not visible to fetch)
        CREATE TABLE group_pending_offsets (
          group_id TEXT NOT NULL,
          producer_id INTEGER NOT NULL,
          topic TEXT NOT NULL,
          partition INTEGER NOT NULL,
          committed_offset INTEGER NOT NULL,
          leader_epoch INTEGER NOT NULL,
          metadata TEXT,
          commit_timestamp INTEGER NOT NULL,
          PRIMARY KEY (group_id, producer_id, topic, partition)
        ) WITHOUT ROWID;
        CREATE INDEX group_pending_offsets_by_topic ON group_pending_offsets (topic);

        -- the transaction coordinator's record per transactional id; partitions: JSON array
        -- of [topic, partition], group_ids: JSON array of group ids; version is the CAS guard
        CREATE TABLE transactions (
          transactional_id TEXT PRIMARY KEY,
          producer_id INTEGER NOT NULL,
          producer_epoch INTEGER NOT NULL,
          last_producer_epoch INTEGER NOT NULL,
          state TEXT NOT NULL,
          timeout_ms INTEGER NOT NULL,
          partitions TEXT NOT NULL,
          group_ids TEXT NOT NULL,
          started_at_ms INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL,
          version INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
];

export function latestSqliteSchemaVersion(): number {
  return SQLITE_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
}

/** Brings the database to the latest version; returns that version. */
export function applySqliteMigrations(
  db: BetterSqlite3.Database,
  now: () => number,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): number {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )
  `);
  const currentRow = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  const current = currentRow.version ?? 0;
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    // A newer StreamHouse upgraded this database; running old code on it could corrupt it.
    throw new MetadataStoreError(
      'SCHEMA_TOO_NEW',
      `Metadata database is at schema version ${current}, this build knows up to ${latest}; upgrade StreamHouse`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  for (const migration of pending) {
    // IMMEDIATE takes the write lock up front, so two processes opening a fresh file
    // cannot both run the same migration.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
      if (again !== undefined) return;
      const at = now();
      migration.up(db, at);
      record.run(migration.version, migration.name, at);
    }).immediate();
  }
  return Math.max(current, latest);
}
