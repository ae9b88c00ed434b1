import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { MetadataStoreError, type CreateTopicInput, type Topic, type TopicMetadataStore } from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

interface TopicRow {
  id: string;
  name: string;
  partition_count: number;
  created_at: number;
}

interface ConfigRow {
  topic_id: string;
  key: string;
  value: string;
}

function unknownTopic(name: string): MetadataStoreError {
  return new MetadataStoreError('UNKNOWN_TOPIC_OR_PARTITION', `Topic "${name}" does not exist`);
}

function assertPartitionCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new MetadataStoreError('INVALID_PARTITIONS', `Partition count must be a positive integer, got ${count}`);
  }
}

export class SqliteTopicStore implements TopicMetadataStore {
  private readonly db: BetterSqlite3.Database;
  private readonly selectByName: BetterSqlite3.Statement<[string], TopicRow>;
  private readonly selectById: BetterSqlite3.Statement<[string], TopicRow>;
  private readonly selectAll: BetterSqlite3.Statement<[], TopicRow>;
  private readonly selectConfigs: BetterSqlite3.Statement<[string], ConfigRow>;
  private readonly selectAllConfigs: BetterSqlite3.Statement<[], ConfigRow>;
  private readonly insertTopic: BetterSqlite3.Statement<[string, string, number, number]>;
  private readonly upsertConfig: BetterSqlite3.Statement<[string, string, string]>;
  private readonly deleteConfig: BetterSqlite3.Statement<[string, string]>;
  private readonly insertPartition: BetterSqlite3.Statement<[string, number]>;
  private readonly updatePartitionCount: BetterSqlite3.Statement<[number, string]>;
  private readonly selectObjectKeysOfTopic: BetterSqlite3.Statement<[string], string>;
  private readonly objectStillReferenced: BetterSqlite3.Statement<[string], number>;
  private readonly deleteTopicRows: BetterSqlite3.Statement<[string]>[];
  private readonly deleteGroupOffsetsOfTopic: BetterSqlite3.Statement<[string]>;
  private readonly deletePendingGroupOffsetsOfTopic: BetterSqlite3.Statement<[string]>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.db = db;
    const topicColumns = 'id, name, partition_count, created_at';
    this.selectByName = db.prepare(`SELECT ${topicColumns} FROM topics WHERE name = ?`);
    this.selectById = db.prepare(`SELECT ${topicColumns} FROM topics WHERE id = ?`);
    this.selectAll = db.prepare(`SELECT ${topicColumns} FROM topics ORDER BY name`);
    this.selectConfigs = db.prepare('SELECT topic_id, key, value FROM topic_configs WHERE topic_id = ? ORDER BY key');
    this.selectAllConfigs = db.prepare('SELECT topic_id, key, value FROM topic_configs ORDER BY topic_id, key');
    this.insertTopic = db.prepare('INSERT INTO topics (id, name, partition_count, created_at) VALUES (?, ?, ?, ?)');
    this.upsertConfig = db.prepare(
      'INSERT INTO topic_configs (topic_id, key, value) VALUES (?, ?, ?) ON CONFLICT (topic_id, key) DO UPDATE SET value = excluded.value',
    );
    this.deleteConfig = db.prepare('DELETE FROM topic_configs WHERE topic_id = ? AND key = ?');
    this.insertPartition = db.prepare(
      'INSERT INTO partitions (topic_id, partition, high_watermark, log_start_offset) VALUES (?, ?, 0, 0)',
    );
    this.updatePartitionCount = db.prepare('UPDATE topics SET partition_count = ? WHERE id = ?');
    this.selectObjectKeysOfTopic = db.prepare<[string], string>('SELECT DISTINCT object_key FROM chunks WHERE topic_id = ?').pluck();
    this.objectStillReferenced = db.prepare<[string], number>('SELECT 1 FROM chunks WHERE object_key = ? LIMIT 1').pluck();
    this.deleteGroupOffsetsOfTopic = db.prepare('DELETE FROM group_offsets WHERE topic = ?');
    this.deletePendingGroupOffsetsOfTopic = db.prepare('DELETE FROM group_pending_offsets WHERE topic = ?');
    this.deleteTopicRows = [
      db.prepare('DELETE FROM chunks WHERE topic_id = ?'),
      db.prepare('DELETE FROM producer_states WHERE topic_id = ?'),
      db.prepare('DELETE FROM aborted_transactions WHERE topic_id = ?'),
      db.prepare('DELETE FROM partitions WHERE topic_id = ?'),
      db.prepare('DELETE FROM topic_configs WHERE topic_id = ?'),
      db.prepare('DELETE FROM topics WHERE id = ?'),
    ];
  }

  async create(input: CreateTopicInput): Promise<Topic> {
    this.ctx.assertOpen();
    if (input.name.length === 0) throw new MetadataStoreError('INVALID_ARGUMENT', 'Topic name must not be empty');
    assertPartitionCount(input.partitionCount);
    const row: TopicRow = {
      id: randomUUID(),
      name: input.name,
      partition_count: input.partitionCount,
      created_at: this.ctx.now(),
    };
    this.db
      .transaction(() => {
        if (this.selectByName.get(input.name) !== undefined) {
          throw new MetadataStoreError('TOPIC_ALREADY_EXISTS', `Topic "${input.name}" already exists`);
        }
        this.insertTopic.run(row.id, row.name, row.partition_count, row.created_at);
        for (const [key, value] of Object.entries(input.configs)) this.upsertConfig.run(row.id, key, value);
        for (let p = 0; p < row.partition_count; p++) this.insertPartition.run(row.id, p);
      })
      .immediate();
    return toTopic(row, this.selectConfigs.all(row.id));
  }

  async get(name: string): Promise<Topic | undefined> {
    this.ctx.assertOpen();
    const row = this.selectByName.get(name);
    return row === undefined ? undefined : toTopic(row, this.selectConfigs.all(row.id));
  }

  async getById(id: string): Promise<Topic | undefined> {
    this.ctx.assertOpen();
    const row = this.selectById.get(id);
    return row === undefined ? undefined : toTopic(row, this.selectConfigs.all(row.id));
  }

  async list(): Promise<Topic[]> {
    this.ctx.assertOpen();
    // Two queries for all topics rather than one config query per topic.
    const { rows, configs } = this.db
      .transaction(() => ({ rows: this.selectAll.all(), configs: this.selectAllConfigs.all() }))
      .deferred();
    const byTopic = new Map<string, ConfigRow[]>();
    for (const config of configs) {
      const list = byTopic.get(config.topic_id);
      if (list === undefined) byTopic.set(config.topic_id, [config]);
      else list.push(config);
    }
    return rows.map((row) => toTopic(row, byTopic.get(row.id) ?? []));
  }

  async delete(name: string): Promise<string[]> {
    this.ctx.assertOpen();
    return this.db
      .transaction(() => {
        const row = this.selectByName.get(name);
        if (row === undefined) throw unknownTopic(name);
        const keys = this.selectObjectKeysOfTopic.all(row.id);
        for (const statement of this.deleteTopicRows) statement.run(row.id);
        // Kafka drops a deleted topic's committed group offsets too, and its pending transactional ones
        this.deleteGroupOffsetsOfTopic.run(name);
        this.deletePendingGroupOffsetsOfTopic.run(name);
        return keys.filter((key) => this.objectStillReferenced.get(key) === undefined).sort();
      })
      .immediate();
  }

  async addPartitions(name: string, newTotalCount: number): Promise<Topic> {
    this.ctx.assertOpen();
    assertPartitionCount(newTotalCount);
    return this.db
      .transaction(() => {
        const row = this.selectByName.get(name);
        if (row === undefined) throw unknownTopic(name);
        if (newTotalCount <= row.partition_count) {
          throw new MetadataStoreError(
            'INVALID_PARTITIONS',
            `Topic "${name}" has ${row.partition_count} partitions; the new count ${newTotalCount} must be larger`,
          );
        }
        for (let p = row.partition_count; p < newTotalCount; p++) this.insertPartition.run(row.id, p);
        this.updatePartitionCount.run(newTotalCount, row.id);
        return toTopic({ ...row, partition_count: newTotalCount }, this.selectConfigs.all(row.id));
      })
      .immediate();
  }

  async setConfigs(name: string, configs: Record<string, string | null>): Promise<Record<string, string>> {
    this.ctx.assertOpen();
    return this.db
      .transaction(() => {
        const row = this.selectByName.get(name);
        if (row === undefined) throw unknownTopic(name);
        for (const [key, value] of Object.entries(configs)) {
          if (value === null) this.deleteConfig.run(row.id, key);
          else this.upsertConfig.run(row.id, key, value);
        }
        return configsToRecord(this.selectConfigs.all(row.id));
      })
      .immediate();
  }
}

function configsToRecord(rows: readonly ConfigRow[]): Record<string, string> {
  // fromEntries defines own properties, so even a key like "__proto__" round-trips.
  return Object.fromEntries(rows.map((row) => [row.key, row.value]));
}

function toTopic(row: TopicRow, configs: readonly ConfigRow[]): Topic {
  return {
    id: row.id,
    name: row.name,
    partitionCount: row.partition_count,
    configs: configsToRecord(configs),
    createdAt: row.created_at,
  };
}
