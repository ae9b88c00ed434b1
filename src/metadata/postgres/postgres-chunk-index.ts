import {
  MetadataStoreError,
  type ChunkIndexStore,
  type ChunkReplacement,
  type IndexedChunk,
  type PartitionUsage,
  type TopicObjects,
} from '../metadata-store.js';
import { validateChunkReplacement } from '../validate-chunk-replacement.js';
import { DB_NOW_MS, type PostgresContext } from './postgres-context.js';

interface ChunkRow {
  object_key: string;
  byte_offset: bigint;
  byte_length: bigint;
  base_offset: bigint;
  last_offset: bigint;
  max_timestamp: bigint;
  record_count: bigint;
}

const CHUNK_COLUMNS =
  'c.object_key, c.byte_offset, c.byte_length, c.base_offset, c.last_offset, c.max_timestamp, c.record_count';

// The partition row, found once. Its values reach the chunk scans as uncorrelated
// subqueries (InitPlans), which the planner can use as index bounds; a join against the
// partition row would leave the bounds as filters over the partition's whole history.
const PARTITION = `
  WITH p AS MATERIALIZED (
    SELECT topic_id, partition, high_watermark, log_start_offset FROM partitions
    WHERE topic_id = (SELECT id FROM topics WHERE name = $1) AND partition = $2
  )`;

// Chunks of a partition never overlap, so the chunk holding `from` is the one with the
// greatest base_offset <= from: one backward index seek, then a forward range scan of the
// primary key between that chunk and the HWM.
export const FIND_CHUNKS_STATEMENT = {
  name: 'streamhouse.find_chunks',
  text: `${PARTITION}
  SELECT ${CHUNK_COLUMNS} FROM chunks c
  WHERE c.topic_id = (SELECT topic_id FROM p) AND c.partition = $2
    AND c.base_offset >= COALESCE(
      (SELECT s.base_offset FROM chunks s
       WHERE s.topic_id = (SELECT topic_id FROM p) AND s.partition = $2 AND s.base_offset <= $3::bigint
       ORDER BY s.base_offset DESC LIMIT 1),
      $3::bigint)
    AND c.base_offset < (SELECT high_watermark FROM p)
    AND c.last_offset >= $3::bigint
  ORDER BY c.base_offset
  LIMIT $4`,
};

// Max timestamps are not monotonic along the log, so this scans forward from the log start
// (chunks wholly below it are deleted when it moves, so the scan starts near it).
export const FIND_CHUNK_BY_TIMESTAMP_STATEMENT = {
  name: 'streamhouse.find_chunk_by_timestamp',
  text: `${PARTITION}
  SELECT ${CHUNK_COLUMNS} FROM chunks c
  WHERE c.topic_id = (SELECT topic_id FROM p) AND c.partition = $2
    AND c.base_offset < (SELECT high_watermark FROM p)
    AND c.last_offset >= (SELECT log_start_offset FROM p)
    AND c.max_timestamp >= $3::bigint
  ORDER BY c.base_offset
  LIMIT 1`,
};

interface UsageRow {
  topic: string;
  partition: number;
  chunks: bigint;
  objects: bigint;
  bytes: bigint;
  records: bigint;
}

// COUNT is int8 and SUM(int8) numeric; both end as int8 (a bigint from this pool's parser).
// Aggregated in primary-key order (topic_id, partition) before the names are joined, so
// only the per-partition result is sorted by name, never the whole chunk table; with a
// topic the aggregate reads one prefix range of the primary key.
const usageStatement = (where: string): string => `
  SELECT t.name AS topic, u.partition, u.chunks, u.objects, u.bytes, u.records
  FROM (
    SELECT topic_id, partition, COUNT(*) AS chunks, COUNT(DISTINCT object_key) AS objects,
           SUM(byte_length)::bigint AS bytes, SUM(record_count)::bigint AS records
    FROM chunks ${where}
    GROUP BY topic_id, partition
  ) u JOIN topics t ON t.id = u.topic_id
  ORDER BY t.name, u.partition`;
const USAGE_STATEMENT = usageStatement('');
const TOPIC_USAGE_STATEMENT = usageStatement('WHERE topic_id = (SELECT id FROM topics WHERE name = $1)');

// Distinct (topic, object) pairs first (a hash of pairs, far fewer than chunks), then one
// count per topic: cheaper than COUNT(DISTINCT), which sorts every chunk row by topic.
const TOPIC_OBJECTS_STATEMENT = `
  SELECT t.name AS topic, u.objects
  FROM (
    SELECT topic_id, COUNT(*) AS objects FROM (SELECT DISTINCT topic_id, object_key FROM chunks) k GROUP BY topic_id
  ) u JOIN topics t ON t.id = u.topic_id
  ORDER BY t.name`;

export class PostgresChunkIndex implements ChunkIndexStore {
  constructor(private readonly ctx: PostgresContext) {}

  async findChunks(topic: string, partition: number, fromOffset: bigint, maxChunks: number): Promise<IndexedChunk[]> {
    this.ctx.assertOpen();
    if (!Number.isSafeInteger(maxChunks) || maxChunks < 1) {
      throw new MetadataStoreError('INVALID_ARGUMENT', `maxChunks must be a positive integer, got ${maxChunks}`);
    }
    const result = await this.ctx.query<ChunkRow>(FIND_CHUNKS_STATEMENT, [topic, partition, fromOffset, maxChunks]);
    return result.rows.map(toIndexedChunk);
  }

  async replace(r: ChunkReplacement): Promise<void> {
    this.ctx.assertOpen();
    validateChunkReplacement(r);
    await this.ctx.transaction(async (tx) => {
      const topic = await tx.query<{ id: string }>('SELECT id FROM topics WHERE name = $1', [r.topic]);
      const topicId = topic.rows[0]?.id;
      if (topicId === undefined) throw new MetadataStoreError('CHUNKS_CHANGED', `Topic ${r.topic} no longer exists`);
      // lock the partition row like a flush commit does, so swaps and log-start moves queue
      await tx.query('SELECT 1 FROM partitions WHERE topic_id = $1 AND partition = $2 FOR UPDATE', [topicId, r.partition]);
      const bases = r.replaced.map((c) => c.baseOffset.toString());
      const rows = await tx.query<{ base_offset: bigint; last_offset: bigint; object_key: string }>(
        'SELECT base_offset, last_offset, object_key FROM chunks WHERE topic_id = $1 AND partition = $2 AND base_offset = ANY($3::bigint[])',
        [topicId, r.partition, bases],
      );
      const found = new Map(rows.rows.map((row) => [BigInt(row.base_offset), row]));
      for (const old of r.replaced) {
        const row = found.get(old.baseOffset);
        if (!row || row.object_key !== old.objectKey || BigInt(row.last_offset) !== old.lastOffset) {
          throw new MetadataStoreError('CHUNKS_CHANGED', `Chunk ${r.topic}-${r.partition}@${old.baseOffset} changed before compaction committed`);
        }
      }
      await tx.query('DELETE FROM chunks WHERE topic_id = $1 AND partition = $2 AND base_offset = ANY($3::bigint[])', [topicId, r.partition, bases]);
      await tx.query(`INSERT INTO objects (key, size, created_at) VALUES ($1, $2, ${DB_NOW_MS})`, [r.objectKey, r.objectSize]);
      await tx.query(
        `INSERT INTO chunks (topic_id, partition, base_offset, last_offset, max_timestamp, record_count, object_key, byte_offset, byte_length)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [topicId, r.partition, r.chunk.baseOffset, r.chunk.lastOffset, r.chunk.maxTimestamp, r.chunk.recordCount, r.objectKey, r.chunk.byteOffset, r.chunk.byteLength],
      );
    });
  }

  async findChunkByTimestamp(topic: string, partition: number, timestamp: bigint): Promise<IndexedChunk | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<ChunkRow>(FIND_CHUNK_BY_TIMESTAMP_STATEMENT, [topic, partition, timestamp]);
    const row = result.rows[0];
    return row === undefined ? undefined : toIndexedChunk(row);
  }

  async usage(topic?: string): Promise<PartitionUsage[]> {
    this.ctx.assertOpen();
    const result =
      topic === undefined
        ? await this.ctx.query<UsageRow>(USAGE_STATEMENT)
        : await this.ctx.query<UsageRow>(TOPIC_USAGE_STATEMENT, [topic]);
    return result.rows.map((row) => ({
      topic: row.topic,
      partition: row.partition,
      chunks: Number(row.chunks),
      objects: Number(row.objects),
      bytes: Number(row.bytes),
      records: Number(row.records),
    }));
  }

  async topicObjects(): Promise<TopicObjects[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ topic: string; objects: bigint }>(TOPIC_OBJECTS_STATEMENT);
    return result.rows.map((row) => ({ topic: row.topic, objects: Number(row.objects) }));
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
