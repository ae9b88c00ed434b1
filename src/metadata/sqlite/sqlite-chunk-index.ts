import type BetterSqlite3 from 'better-sqlite3';
import {
  MetadataStoreError,
  type ChunkIndexStore,
  type ChunkReplacement,
  type IndexedChunk,
  type PartitionUsage,
  type TopicObjects,
} from '../metadata-store.js';
import { validateChunkReplacement } from '../validate-chunk-replacement.js';
import type { SqliteContext } from './sqlite-context.js';

interface ChunkRow {
  object_key: string;
  byte_offset: bigint;
  byte_length: bigint;
  base_offset: bigint;
  last_offset: bigint;
  max_timestamp: bigint;
  record_count: bigint;
}

type UsageRow = { topic: string; partition: number; chunks: number; objects: number; bytes: number; records: number };

// Grouped by the primary key's prefix, so the aggregate walks the (clustered) chunk table
// in order with no sort; only the small result is sorted by name. With a topic the scan is
// one prefix range of the primary key.
const USAGE_SELECT = `SELECT t.name AS topic, c.partition AS partition, COUNT(*) AS chunks, COUNT(DISTINCT c.object_key) AS objects,
         SUM(c.byte_length) AS bytes, SUM(c.record_count) AS records
  FROM chunks c JOIN topics t ON t.id = c.topic_id`;
const USAGE_GROUP = 'GROUP BY c.topic_id, c.partition ORDER BY t.name, c.partition';

const CHUNK_COLUMNS =
  'c.object_key, c.byte_offset, c.byte_length, c.base_offset, c.last_offset, c.max_timestamp, c.record_count';

export class SqliteChunkIndex implements ChunkIndexStore {
  private readonly selectFrom: BetterSqlite3.Statement<[{ topic: string; partition: number; from: bigint; limit: number }], ChunkRow>;
  private readonly selectByTimestamp: BetterSqlite3.Statement<[{ topic: string; partition: number; timestamp: bigint }], ChunkRow>;

  private readonly selectExact: BetterSqlite3.Statement<[string, number, bigint], { object_key: string; last_offset: bigint }>;
  private readonly topicId: BetterSqlite3.Statement<[string], string>;
  private readonly deleteChunk: BetterSqlite3.Statement<[string, number, bigint]>;
  private readonly insertChunk: BetterSqlite3.Statement<[string, number, bigint, bigint, bigint, number, string, number, number]>;
  private readonly insertObject: BetterSqlite3.Statement<[string, number, number]>;
  private readonly selectUsage: BetterSqlite3.Statement<[], UsageRow>;
  private readonly selectTopicUsage: BetterSqlite3.Statement<[string], UsageRow>;
  private readonly selectTopicObjects: BetterSqlite3.Statement<[], TopicObjects>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.topicId = db.prepare<[string], string>('SELECT id FROM topics WHERE name = ?').pluck();
    this.selectExact = db
      .prepare<[string, number, bigint], { object_key: string; last_offset: bigint }>('SELECT object_key, last_offset FROM chunks WHERE topic_id = ? AND partition = ? AND base_offset = ?')
      .safeIntegers();
    this.deleteChunk = db.prepare('DELETE FROM chunks WHERE topic_id = ? AND partition = ? AND base_offset = ?');
    this.insertChunk = db.prepare(
      `INSERT INTO chunks (topic_id, partition, base_offset, last_offset, max_timestamp, record_count, object_key, byte_offset, byte_length)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertObject = db.prepare('INSERT INTO objects (key, size, created_at) VALUES (?, ?, ?)');
    this.selectUsage = db.prepare<[], UsageRow>(`${USAGE_SELECT} ${USAGE_GROUP}`);
    this.selectTopicUsage = db.prepare<[string], UsageRow>(`${USAGE_SELECT} WHERE t.name = ? ${USAGE_GROUP}`);
    this.selectTopicObjects = db.prepare<[], TopicObjects>(
      `SELECT t.name AS topic, COUNT(DISTINCT c.object_key) AS objects
       FROM chunks c JOIN topics t ON t.id = c.topic_id
       GROUP BY c.topic_id ORDER BY t.name`,
    );
    // Chunks of a partition never overlap, so the chunk holding `from` is the one with the
    // greatest base_offset <= from: one index seek, then a range scan. A plain
    // "last_offset >= from" filter would scan the partition's whole history.
    this.selectFrom = db
      .prepare<[{ topic: string; partition: number; from: bigint; limit: number }], ChunkRow>(
        `SELECT ${CHUNK_COLUMNS}
         FROM partitions p JOIN chunks c ON c.topic_id = p.topic_id AND c.partition = p.partition
         WHERE p.topic_id = (SELECT id FROM topics WHERE name = $topic) AND p.partition = $partition
           AND c.base_offset >= COALESCE(
             (SELECT MAX(s.base_offset) FROM chunks s
              WHERE s.topic_id = p.topic_id AND s.partition = p.partition AND s.base_offset <= $from),
             $from)
           AND c.last_offset >= $from
           AND c.base_offset < p.high_watermark
         ORDER BY c.base_offset
         LIMIT $limit`,
      )
      .safeIntegers();
    // Max timestamps are not monotonic along the log, so this scans forward from the log start.
    this.selectByTimestamp = db
      .prepare<[{ topic: string; partition: number; timestamp: bigint }], ChunkRow>(
        `SELECT ${CHUNK_COLUMNS}
         FROM partitions p JOIN chunks c ON c.topic_id = p.topic_id AND c.partition = p.partition
         WHERE p.topic_id = (SELECT id FROM topics WHERE name = $topic) AND p.partition = $partition
           AND c.max_timestamp >= $timestamp
           AND c.last_offset >= p.log_start_offset
           AND c.base_offset < p.high_watermark
         ORDER BY c.base_offset
         LIMIT 1`,
      )
      .safeIntegers();
  }

  async findChunks(topic: string, partition: number, fromOffset: bigint, maxChunks: number): Promise<IndexedChunk[]> {
    this.ctx.assertOpen();
    if (!Number.isSafeInteger(maxChunks) || maxChunks < 1) {
      throw new MetadataStoreError('INVALID_ARGUMENT', `maxChunks must be a positive integer, got ${maxChunks}`);
    }
    return this.selectFrom.all({ topic, partition, from: fromOffset, limit: maxChunks }).map(toIndexedChunk);
  }

  async replace(r: ChunkReplacement): Promise<void> {
    this.ctx.assertOpen();
    validateChunkReplacement(r);
    this.ctx.db
      .transaction(() => {
        const topicId = this.topicId.get(r.topic);
        if (topicId === undefined) throw new MetadataStoreError('CHUNKS_CHANGED', `Topic ${r.topic} no longer exists`);
        for (const old of r.replaced) {
          const row = this.selectExact.get(topicId, r.partition, old.baseOffset);
          if (!row || row.object_key !== old.objectKey || row.last_offset !== old.lastOffset) {
            throw new MetadataStoreError('CHUNKS_CHANGED', `Chunk ${r.topic}-${r.partition}@${old.baseOffset} changed before compaction committed`);
          }
        }
        for (const old of r.replaced) this.deleteChunk.run(topicId, r.partition, old.baseOffset);
        this.insertObject.run(r.objectKey, r.objectSize, this.ctx.now());
        this.insertChunk.run(topicId, r.partition, r.chunk.baseOffset, r.chunk.lastOffset, r.chunk.maxTimestamp, r.chunk.recordCount, r.objectKey, r.chunk.byteOffset, r.chunk.byteLength);
      })
      .immediate();
  }

  async findChunkByTimestamp(topic: string, partition: number, timestamp: bigint): Promise<IndexedChunk | undefined> {
    this.ctx.assertOpen();
    const row = this.selectByTimestamp.get({ topic, partition, timestamp });
    return row === undefined ? undefined : toIndexedChunk(row);
  }

  async usage(topic?: string): Promise<PartitionUsage[]> {
    this.ctx.assertOpen();
    return topic === undefined ? this.selectUsage.all() : this.selectTopicUsage.all(topic);
  }

  async topicObjects(): Promise<TopicObjects[]> {
    this.ctx.assertOpen();
    return this.selectTopicObjects.all();
  }
}

function toIndexedChunk(row: ChunkRow): IndexedChunk {
  return {
    objectKey: row.object_key,
    byteOffset: Number(row.byte_offset),
    byteLength: Number(row.byte_length),
    baseOffset: row.base_offset,
    lastOffset: row.last_offset,
    maxTimestamp: row.max_timestamp,
    recordCount: Number(row.record_count),
  };
}
