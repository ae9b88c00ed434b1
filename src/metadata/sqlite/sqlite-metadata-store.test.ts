import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMetadataStoreContract } from '../contract/metadata-store-contract.js';
import { MetadataStoreError } from '../metadata-store.js';
import { SQLITE_MIGRATIONS, applySqliteMigrations, latestSqliteSchemaVersion } from './migrations.js';
import { SqliteMetadataStore, openSqliteMetadataStore } from './sqlite-metadata-store.js';

runMetadataStoreContract('SQLite (temporary file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamhouse-metadata-'));
  const path = join(dir, 'metadata.db');
  return {
    open: () => openSqliteMetadataStore({ path }),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SQLite metadata store specifics', () => {
  let dir: string;
  const stores: SqliteMetadataStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamhouse-metadata-'));
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (path: string, now?: () => number): Promise<SqliteMetadataStore> => {
    const store = await openSqliteMetadataStore(now === undefined ? { path } : { path, now });
    stores.push(store);
    return store;
  };

  it('runs in WAL mode with synchronous=FULL', async () => {
    const store = await open(join(dir, 'm.db'));
    expect(store.connection.pragma('journal_mode', { simple: true })).toBe('wal');
    // 2 = FULL
    expect(store.connection.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('creates missing parent directories', async () => {
    const store = await open(join(dir, 'nested', 'deeper', 'm.db'));
    expect(await store.topics.list()).toEqual([]);
  });

  it('records each migration once in schema_migrations with the clock of the first open', async () => {
    const path = join(dir, 'm.db');
    const first = await open(path, () => 1_700_000_000_000);
    expect(first.schemaVersion).toBe(latestSqliteSchemaVersion());
    await first.close();
    const second = await open(path, () => 1_800_000_000_000);
    expect(second.schemaVersion).toBe(latestSqliteSchemaVersion());
    const rows = second.connection.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1_700_000_000_000 })));
  });

  it('refuses a database written by a newer schema', async () => {
    const path = join(dir, 'm.db');
    await (await open(path)).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'future', 0);
    raw.close();
    const err = await openSqliteMetadataStore({ path }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MetadataStoreError);
    expect((err as MetadataStoreError).code).toBe('SCHEMA_TOO_NEW');
    expect((err as MetadataStoreError).message).toContain('schema version 999');
  });

  it('upgrades a database from before transactions: its producer states have no open transaction', async () => {
    const path = join(dir, 'm.db');
    const raw = new Database(path);
    expect(applySqliteMigrations(raw, () => 1, SQLITE_MIGRATIONS.filter((m) => m.version <= 6))).toBe(6);
    raw.prepare("INSERT INTO topics (id, name, partition_count, created_at) VALUES ('t1', 'orders', 1, 1)").run();
    raw.prepare("INSERT INTO partitions (topic_id, partition, high_watermark, log_start_offset) VALUES ('t1', 0, 5, 0)").run();
    raw
      .prepare("INSERT INTO producer_states (topic_id, partition, producer_id, producer_epoch, batches, updated_at) VALUES ('t1', 0, 1000, 2, ?, 1)")
      .run('[[0,4,"0","4"]]');
    raw.close();
    const store = await open(path);
    expect(store.schemaVersion).toBe(latestSqliteSchemaVersion());
    expect(await store.producers.getStates('orders', 0)).toEqual([
      { topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 2, batches: [{ firstSequence: 0, lastSequence: 4, baseOffset: 0n, lastOffset: 4n }], txnFirstOffset: null },
    ]);
    expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
    expect(await store.transactions.list()).toEqual([]);
  });

  it('stamps topics and objects with the injected clock', async () => {
    let now = 1_700_000_000_000;
    const store = await open(join(dir, 'm.db'), () => now);
    const topic = await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    expect(topic.createdAt).toBe(1_700_000_000_000);
    now = 1_700_000_005_000;
    await store.partitions.commitFlush({
      objectKey: 'o1',
      objectSize: 10,
      chunks: [{ topic: 'orders', partition: 0, baseOffset: 0n, lastOffset: 0n, maxTimestamp: 1n, recordCount: 1, byteOffset: 0, byteLength: 10 }],
      partitions: [{ topic: 'orders', partition: 0, expectedHighWatermark: 0n, newHighWatermark: 1n }],
      producerStates: [],
    });
    await store.partitions.advanceLogStart('orders', 0, 1n);
    expect(await store.objects.listUnreferenced(1_700_000_005_000)).toEqual([]);
    expect(await store.objects.listUnreferenced(1_700_000_005_001)).toEqual(['o1']);
  });

  it('works in memory, where nothing survives close', async () => {
    const first = await open(':memory:');
    await first.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    expect(first.connection.pragma('synchronous', { simple: true })).toBe(2);
    await first.close();
    const second = await open(':memory:');
    expect(await second.topics.list()).toEqual([]);
    expect(await second.cluster.getClusterId()).not.toBe(undefined);
  });
});
