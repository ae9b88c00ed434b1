import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresProcess } from '../../../test-kit/postgres-process.js';
import { runMetadataStoreContract } from '../contract/metadata-store-contract.js';
import { FencedError, MetadataStoreError, type FlushCommit } from '../metadata-store.js';
import { openMetadataStore } from '../open-metadata-store.js';
import { FIND_CHUNKS_STATEMENT } from './postgres-chunk-index.js';
import { PostgresUnavailableError } from './postgres-errors.js';
import { PostgresContext } from './postgres-context.js';
import { POSTGRES_MIGRATIONS, applyPostgresMigrations, latestPostgresSchemaVersion } from './postgres-migrations.js';
import { PostgresMetadataStore, openPostgresMetadataStore } from './postgres-metadata-store.js';
import { openTestSchemas, type TestSchema, type TestSchemas } from './test-support/postgres-test-schema.js';

let server: PostgresProcess;
let schemas: TestSchemas;

beforeAll(async () => {
  server = await startPostgres();
  schemas = await openTestSchemas(server.url);
}, 120_000);

afterAll(async () => {
  await schemas?.close();
  await server?.stop();
});

runMetadataStoreContract('PostgreSQL (schema per test)', async () => {
  const schema = await schemas.create('contract');
  return {
    open: () => openPostgresMetadataStore({ url: schema.url, poolSize: 4 }),
    destroy: () => schema.drop(),
  };
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (err: unknown) => err,
  );
}

/** One chunk for every partition 0..count-1 of `topic`, each moving its HWM from 0 to 1. */
function wideCommit(objectKey: string, topic: string, count: number): FlushCommit {
  const partitions = Array.from({ length: count }, (_, p) => p);
  return {
    objectKey,
    objectSize: count * 10,
    chunks: partitions.map((p) => ({ topic, partition: p, baseOffset: 0n, lastOffset: 0n, maxTimestamp: 5n, recordCount: 1, byteOffset: p * 10, byteLength: 10 })),
    partitions: partitions.map((p) => ({ topic, partition: p, expectedHighWatermark: 0n, newHighWatermark: 1n })),
    producerStates: partitions.map((p) => ({
      topic,
      partition: p,
      producerId: 1000n + BigInt(p),
      producerEpoch: 0,
      batches: [{ firstSequence: 0, lastSequence: 0, baseOffset: 0n, lastOffset: 0n }],
      txnFirstOffset: null,
    })),
  };
}

describe('PostgreSQL metadata store specifics', () => {
  let schema: TestSchema;
  const stores: PostgresMetadataStore[] = [];

  beforeEach(async () => {
    schema = await schemas.create('specifics');
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await schema.drop();
  });

  const open = async (url = schema.url, poolSize?: number): Promise<PostgresMetadataStore> => {
    const store = await openPostgresMetadataStore(poolSize === undefined ? { url } : { url, poolSize });
    stores.push(store);
    return store;
  };

  const rawQuery = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it('records each migration once, even when several stores open a fresh schema at once', async () => {
    const opened = await Promise.all(Array.from({ length: 6 }, () => open()));
    for (const s of opened) expect(s.schemaVersion).toBe(latestPostgresSchemaVersion());
    const rows = await rawQuery<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await rawQuery('SELECT cluster_id FROM cluster')).toHaveLength(1);
  });

  it('refuses a database written by a newer schema', async () => {
    await (await open()).close();
    await rawQuery("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)");
    const err = await rejection(openPostgresMetadataStore({ url: schema.url }));
    expect(err).toBeInstanceOf(MetadataStoreError);
    expect((err as MetadataStoreError).code).toBe('SCHEMA_TOO_NEW');
    expect((err as MetadataStoreError).message).toBe(
      `Metadata database is at schema version 999, this build knows up to ${latestPostgresSchemaVersion()}; upgrade StreamHouse`,
    );
  });

  it('sizes the pool from ?pool_size=, the option, or 10 by default', async () => {
    expect((await open()).poolSize).toBe(10);
    expect((await open()).pool.options.max).toBe(10);
    expect((await open(`${schema.url}&pool_size=3`)).pool.options.max).toBe(3);
    expect((await open(`${schema.url}&pool_size=3`, 7)).pool.options.max).toBe(7);
    const err = await rejection(openPostgresMetadataStore({ url: `${schema.url}&pool_size=0` }));
    expect((err as MetadataStoreError).code).toBe('UNSUPPORTED_URL');
    expect((err as MetadataStoreError).message).toBe('pool_size must be an integer from 1 to 1000, got "0"');
  });

  it('upgrades a database from before transactions: its producer states have no open transaction', async () => {
    const pool = new pg.Pool({ connectionString: schema.url, max: 1 });
    try {
      expect(await applyPostgresMigrations(new PostgresContext(pool, 'test', 1, 1), POSTGRES_MIGRATIONS.filter((m) => m.version <= 7))).toBe(7);
      await pool.query(`
        INSERT INTO topics (id, name, partition_count, created_at) VALUES ('t1', 'orders', 1, 1);
        INSERT INTO partitions (topic_id, partition, high_watermark, log_start_offset) VALUES ('t1', 0, 5, 0);
        INSERT INTO producer_states (topic_id, partition, producer_id, producer_epoch, batches, updated_at)
          VALUES ('t1', 0, 1000, 2, '[[0,4,"0","4"]]', 1);
      `);
    } finally {
      await pool.end();
    }
    const store = await open();
    expect(store.schemaVersion).toBe(latestPostgresSchemaVersion());
    expect(await store.producers.getStates('orders', 0)).toEqual([
      { topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 2, batches: [{ firstSequence: 0, lastSequence: 4, baseOffset: 0n, lastOffset: 4n }], txnFirstOffset: null },
    ]);
    expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
    expect(await store.transactions.list()).toEqual([]);
  });

  it('parses int8 as bigint for its own clients only, leaving pg global parsers alone', async () => {
    const store = await open();
    await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(0n);
    expect(pg.types.getTypeParser(20, 'text')('9007199254740993')).toBe('9007199254740993');
  });

  it('commits a flush in four statements and one transaction, for 1 or 1,000 partitions, aborted transactions included', async () => {
    const store = await open();
    await store.topics.create({ name: 'one', partitionCount: 1, configs: {} });
    await store.topics.create({ name: 'wide', partitionCount: 1000, configs: {} });
    for (const [topic, count] of [['one', 1], ['wide', 1000]] as const) {
      const before = store.statistics();
      const commit = wideCommit(`${topic}-1`, topic, count);
      await store.partitions.commitFlush({
        ...commit,
        abortedTransactions: commit.partitions.map((p) => ({ topic, partition: p.partition, producerId: 2000n + BigInt(p.partition), firstOffset: 0n, lastOffset: 0n })),
      });
      const after = store.statistics();
      // BEGIN, lock the partition rows, write everything, COMMIT.
      expect(after.statements - before.statements).toBe(4);
      expect(after.transactions - before.transactions).toBe(1);
    }
    expect((await store.partitions.list('wide')).every((p) => p.highWatermark === 1n)).toBe(true);
    expect((await store.producers.getStates('wide', 999))[0]?.producerId).toBe(1999n);
    expect(await store.partitions.abortedTransactions('wide', 999, 0n)).toEqual([{ topic: 'wide', partition: 999, producerId: 2999n, firstOffset: 0n, lastOffset: 0n }]);
  });

  it('never deadlocks overlapping commits that list partitions in opposite orders', async () => {
    const a = await open(schema.url, 4);
    const b = await open(schema.url, 4);
    await a.topics.create({ name: 'wide', partitionCount: 50, configs: {} });
    const forward = wideCommit('x', 'wide', 50);
    for (let round = 0; round < 10; round++) {
      const hwm = BigInt(round);
      const shifted = (key: string, reverse: boolean): FlushCommit => {
        const parts = forward.partitions.map((p) => ({ ...p, expectedHighWatermark: hwm, newHighWatermark: hwm + 1n }));
        return {
          ...forward,
          objectKey: key,
          chunks: forward.chunks.map((c) => ({ ...c, baseOffset: hwm, lastOffset: hwm })),
          partitions: reverse ? parts.reverse() : parts,
          producerStates: [],
        };
      };
      const results = await Promise.allSettled([
        a.partitions.commitFlush(shifted(`a${round}`, false)),
        b.partitions.commitFlush(shifted(`b${round}`, true)),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const loser = results.find((r) => r.status === 'rejected');
      expect(loser?.status === 'rejected' ? loser.reason : undefined).toBeInstanceOf(FencedError);
    }
    // A deadlock would have been detected by the server and shown up as a rerun.
    expect(a.statistics().retries + b.statistics().retries).toBe(0);
  });

  it('finds chunks with an index range seek, not a scan of the partition history', async () => {
    const store = await open();
    await store.topics.create({ name: 'deep', partitionCount: 1, configs: {} });
    for (let i = 0; i < 2000; i += 500) {
      await store.partitions.commitFlush({
        objectKey: `deep-${i}`,
        objectSize: 5000,
        chunks: Array.from({ length: 500 }, (_, j) => {
          const base = BigInt((i + j) * 10);
          return { topic: 'deep', partition: 0, baseOffset: base, lastOffset: base + 9n, maxTimestamp: 1n, recordCount: 10, byteOffset: j * 10, byteLength: 10 };
        }),
        partitions: [{ topic: 'deep', partition: 0, expectedHighWatermark: BigInt(i * 10), newHighWatermark: BigInt((i + 500) * 10) }],
        producerStates: [],
      });
    }
    expect((await store.chunks.findChunks('deep', 0, 19_005n, 3)).map((c) => c.baseOffset)).toEqual([19_000n, 19_010n, 19_020n]);
    const client = await store.pool.connect();
    try {
      await client.query('ANALYZE chunks');
      const plan = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${FIND_CHUNKS_STATEMENT.text}`, ['deep', 0, 19_005n, 3]);
      // Every plan node reading chunks touches a handful of rows, not the 1,900 chunks below.
      const read: number[] = [];
      const walk = (node: Record<string, unknown>): void => {
        if (node['Relation Name'] === 'chunks') read.push(Number(node['Actual Rows']) + Number(node['Rows Removed by Filter'] ?? 0));
        for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk(((plan.rows[0]?.['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]?.Plan) ?? {});
      expect(read.length).toBeGreaterThan(0);
      expect(Math.max(...read)).toBeLessThanOrEqual(5);
    } finally {
      client.release();
    }
  });

  it('stamps times with the database clock', async () => {
    const store = await open();
    const before = await store.databaseNow();
    const topic = await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    const after = await store.databaseNow();
    expect(topic.createdAt).toBeGreaterThanOrEqual(before);
    expect(topic.createdAt).toBeLessThanOrEqual(after);
    expect((await store.topics.get('orders'))?.createdAt).toBe(topic.createdAt);
    const [row] = await rawQuery<{ created_at: string; applied_at: string }>(
      'SELECT c.created_at, m.applied_at FROM cluster c, schema_migrations m WHERE m.version = 1',
    );
    expect(Number(row?.created_at)).toBeLessThanOrEqual(before);
    expect(Number(row?.applied_at)).toBeGreaterThanOrEqual(Number(row?.created_at));
    expect(Number(row?.applied_at)).toBeLessThanOrEqual(before);
  });

  it('rides through a crash-restart of the server: committed data stays, later calls reconnect', async () => {
    const store = await open();
    await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    await store.partitions.commitFlush(wideCommit('before', 'orders', 1));
    expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(1n);
    await server.restartImmediate();
    // The pool's connections died with the server; reads rerun on fresh ones.
    expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(1n);
    expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['before']);
    await store.partitions.commitFlush({
      objectKey: 'after',
      objectSize: 10,
      chunks: [{ topic: 'orders', partition: 0, baseOffset: 1n, lastOffset: 1n, maxTimestamp: 5n, recordCount: 1, byteOffset: 0, byteLength: 10 }],
      partitions: [{ topic: 'orders', partition: 0, expectedHighWatermark: 1n, newHighWatermark: 2n }],
      producerStates: [],
    });
    expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(2n);
  }, 60_000);

  it('is what openMetadataStore returns for postgres:// URLs', async () => {
    const store = await openMetadataStore(`${schema.url}&pool_size=2`);
    try {
      expect(store).toBeInstanceOf(PostgresMetadataStore);
      expect((store as PostgresMetadataStore).poolSize).toBe(2);
      await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
      expect((await store.topics.list()).map((t) => t.name)).toEqual(['orders']);
    } finally {
      await store.close();
    }
  });

  it('reports a missing database in one line, without the password', async () => {
    const url = server.urlFor('nope').replace('postgres@', 'postgres:hunter2@');
    const err = await rejection(openPostgresMetadataStore({ url }));
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toBe(
      `Cannot open PostgreSQL metadata store postgres://postgres:***@127.0.0.1:${server.port}/nope: database "nope" does not exist`,
    );
  });

  it('reports an unreachable server in one line, without the password, after bounded retries', async () => {
    const started = Date.now();
    const err = await rejection(openPostgresMetadataStore({ url: 'postgres://sh:hunter2@127.0.0.1:1/sh?sslmode=disable', retryAttempts: 3 }));
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toBe(
      'Cannot open PostgreSQL metadata store postgres://sh:***@127.0.0.1:1/sh: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
