import { randomUUID } from 'node:crypto';
import { MetadataStoreError, type CreateTopicInput, type Topic, type TopicMetadataStore } from '../metadata-store.js';
import { DB_NOW_MS, type PgQueryable, type PostgresContext } from './postgres-context.js';

interface TopicRow {
  id: string;
  name: string;
  partition_count: number;
  created_at: bigint;
  config_keys: string[];
  config_values: string[];
}

// Configs ride along as two arrays ordered by key, so a topic is one row and one round trip.
const TOPIC_SELECT = `
  SELECT t.id, t.name, t.partition_count, t.created_at,
    COALESCE((SELECT array_agg(c.key ORDER BY c.key) FROM topic_configs c WHERE c.topic_id = t.id), '{}') AS config_keys,
    COALESCE((SELECT array_agg(c.value ORDER BY c.key) FROM topic_configs c WHERE c.topic_id = t.id), '{}') AS config_values
  FROM topics t`;

function unknownTopic(name: string): MetadataStoreError {
  return new MetadataStoreError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist`);
}

function assertPartitionCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new MetadataStoreError('INVALID_PARTITIONS', `Partition count must be a positive integer, got ${count}`);
  }
}

export class PostgresTopicStore implements TopicMetadataStore {
  constructor(private readonly ctx: PostgresContext) {}

  async create(input: CreateTopicInput): Promise<Topic> {
    this.ctx.assertOpen();
    if (input.name.length === 0) throw new MetadataStoreError('INVALID_ARGUMENT', 'Topic name must not be empty');
    assertPartitionCount(input.partitionCount);
    const id = randomUUID();
    const entries = Object.entries(input.configs);
    // One statement: the topic, its partitions and configs appear together or not at all,
    // and a concurrent create of the same name waits on the unique index, then does nothing.
    const result = await this.ctx.query<{ created_at: bigint }>(
      `WITH t AS (
         INSERT INTO topics (id, name, partition_count, created_at) VALUES ($1, $2, $3, ${DB_NOW_MS})
         ON CONFLICT (name) DO NOTHING
         RETURNING id, created_at
       ), p AS (
         INSERT INTO partitions (topic_id, partition, high_watermark, log_start_offset)
         SELECT t.id, g, 0, 0 FROM t, generate_series(0, $3::integer - 1) AS g
       ), c AS (
         INSERT INTO topic_configs (topic_id, key, value)
         SELECT t.id, k, v FROM t, unnest($4::text[], $5::text[]) AS x(k, v)
       )
       SELECT created_at FROM t`,
      [id, input.name, input.partitionCount, entries.map(([k]) => k), entries.map(([, v]) => v)],
      'once',
    );
    const created = result.rows[0];
    if (created === undefined) throw new MetadataStoreError('TOPIC_ALREADY_EXISTS', `Topic "${input.name}" already exists`);
    return {
      id,
      name: input.name,
      partitionCount: input.partitionCount,
      configs: Object.fromEntries(entries.sort(([a], [b]) => compareText(a, b))),
      createdAt: Number(created.created_at),
    };
  }

  async get(name: string): Promise<Topic | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<TopicRow>(`${TOPIC_SELECT} WHERE t.name = $1`, [name]);
    const row = result.rows[0];
    return row === undefined ? undefined : toTopic(row);
  }

  async getById(id: string): Promise<Topic | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<TopicRow>(`${TOPIC_SELECT} WHERE t.id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? undefined : toTopic(row);
  }

  async list(): Promise<Topic[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<TopicRow>(`${TOPIC_SELECT} ORDER BY t.name`);
    return result.rows.map(toTopic);
  }

  async delete(name: string): Promise<string[]> {
    this.ctx.assertOpen();
    return this.ctx.transaction(async (tx) => {
      const topic = await lockTopic(tx, name);
      // Partition rows are locked in (topic_id, partition) order, the order commitFlush
      // locks them in, so a delete racing a flush waits instead of deadlocking.
      await tx.query('SELECT 1 FROM partitions WHERE topic_id = $1 ORDER BY topic_id, partition FOR UPDATE', [topic.id]);
      const deleted = await tx.query<{ object_key: string }>(
        `WITH c AS (DELETE FROM chunks WHERE topic_id = $1 RETURNING object_key),
              s AS (DELETE FROM producer_states WHERE topic_id = $1),
              a AS (DELETE FROM aborted_transactions WHERE topic_id = $1),
              p AS (DELETE FROM partitions WHERE topic_id = $1),
              k AS (DELETE FROM topic_configs WHERE topic_id = $1),
              t AS (DELETE FROM topics WHERE id = $1),
              -- Kafka drops a deleted topic's committed group offsets too, and its pending transactional ones
              g AS (DELETE FROM group_offsets WHERE topic = $2),
              q AS (DELETE FROM group_pending_offsets WHERE topic = $2)
         SELECT DISTINCT object_key FROM c`,
        [topic.id, name],
      );
      const keys = deleted.rows.map((r) => r.object_key);
      if (keys.length === 0) return [];
      const orphaned = await tx.query<{ key: string }>(
        'SELECT k AS key FROM unnest($1::text[]) AS k WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.object_key = k)',
        [keys],
      );
      return orphaned.rows.map((r) => r.key).sort();
    });
  }

  async addPartitions(name: string, newTotalCount: number): Promise<Topic> {
    this.ctx.assertOpen();
    assertPartitionCount(newTotalCount);
    return this.ctx.transaction(async (tx) => {
      const topic = await lockTopic(tx, name);
      if (newTotalCount <= topic.partition_count) {
        throw new MetadataStoreError(
          'INVALID_PARTITIONS',
          `Topic "${name}" has ${topic.partition_count} partitions; the new count ${newTotalCount} must be larger`,
        );
      }
      await tx.query(
        `WITH p AS (
           INSERT INTO partitions (topic_id, partition, high_watermark, log_start_offset)
           SELECT $1, g, 0, 0 FROM generate_series($2::integer, $3::integer - 1) AS g
         )
         UPDATE topics SET partition_count = $3 WHERE id = $1`,
        [topic.id, topic.partition_count, newTotalCount],
      );
      const row = (await tx.query<TopicRow>(`${TOPIC_SELECT} WHERE t.id = $1`, [topic.id])).rows[0];
      if (row === undefined) throw unknownTopic(name);
      return toTopic(row);
    });
  }

  async setConfigs(name: string, configs: Record<string, string | null>): Promise<Record<string, string>> {
    this.ctx.assertOpen();
    const entries = Object.entries(configs);
    const removed = entries.filter(([, v]) => v === null).map(([k]) => k);
    const set = entries.filter((e): e is [string, string] => e[1] !== null);
    return this.ctx.transaction(async (tx) => {
      // Holding the topic row keeps a concurrent delete from leaving orphaned config rows.
      const topic = await lockTopic(tx, name);
      await tx.query(
        `WITH d AS (DELETE FROM topic_configs WHERE topic_id = $1 AND key = ANY($2::text[]))
         INSERT INTO topic_configs (topic_id, key, value)
         SELECT $1, k, v FROM unnest($3::text[], $4::text[]) AS x(k, v)
         ON CONFLICT (topic_id, key) DO UPDATE SET value = excluded.value`,
        [topic.id, removed, set.map(([k]) => k), set.map(([, v]) => v)],
      );
      const row = (await tx.query<TopicRow>(`${TOPIC_SELECT} WHERE t.id = $1`, [topic.id])).rows[0];
      if (row === undefined) throw unknownTopic(name);
      return toTopic(row).configs;
    });
  }
}

async function lockTopic(tx: PgQueryable, name: string): Promise<{ id: string; partition_count: number }> {
  const result = await tx.query<{ id: string; partition_count: number }>(
    'SELECT id, partition_count FROM topics WHERE name = $1 FOR UPDATE',
    [name],
  );
  const row = result.rows[0];
  if (row === undefined) throw unknownTopic(name);
  return row;
}

/** Byte order of the UTF-8 encodings, the order COLLATE "C" and SQLite use. */
function compareText(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function toTopic(row: TopicRow): Topic {
  // fromEntries defines own properties, so even a key like "__proto__" round-trips.
  return {
    id: row.id,
    name: row.name,
    partitionCount: row.partition_count,
    configs: Object.fromEntries(row.config_keys.map((key, i) => [key, row.config_values[i] ?? ''])),
    createdAt: Number(row.created_at),
  };
}
