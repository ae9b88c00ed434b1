// Read-only SQL against a broker's metadata store (sqlite://… or postgres://…), for tests
// that report what the chunk index looks like. Both stores share the table layout.

import Database from 'better-sqlite3';
import pg from 'pg';

export interface PartitionChunks {
  partition: number;
  /** Rows in the chunk index. */
  chunks: number;
  /** Distinct objects those rows point into. */
  objects: number;
}

const CHUNKS_BY_PARTITION = `
  SELECT c.partition AS partition, COUNT(*) AS chunks, COUNT(DISTINCT c.object_key) AS objects
  FROM chunks c JOIN topics t ON t.id = c.topic_id
  WHERE t.name = $topic
  GROUP BY c.partition
  ORDER BY c.partition`;

export interface ChunkRow {
  partition: number;
  baseOffset: number;
  lastOffset: number;
  byteLength: number;
  objectKey: string;
}

const CHUNK_ROWS = `
  SELECT c.partition AS partition, c.base_offset AS base_offset, c.last_offset AS last_offset, c.byte_length AS byte_length, c.object_key AS object_key
  FROM chunks c JOIN topics t ON t.id = c.topic_id
  WHERE t.name = $topic
  ORDER BY c.partition, c.base_offset`;

type Row = Record<string, unknown>;

async function query(metadataUrl: string, sql: string, topic: string): Promise<Row[]> {
  if (metadataUrl.startsWith('sqlite:')) {
    const path = metadataUrl.replace(/^sqlite:(\/\/)?/, '');
    // readonly: the broker owns the file; WAL lets this read beside its writes
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      return db.prepare(sql.replace('$topic', '@topic')).all({ topic }) as Row[];
    } finally {
      db.close();
    }
  }
  if (/^postgres(ql)?:\/\//.test(metadataUrl)) {
    const client = new pg.Client({ connectionString: metadataUrl });
    await client.connect();
    try {
      return (await client.query<Row>(sql.replace('$topic', '$1'), [topic])).rows;
    } finally {
      await client.end();
    }
  }
  throw new Error(`no metadata inspector for ${metadataUrl}`);
}

/** Every chunk row of `topic`, by partition and offset. */
export async function chunkRows(metadataUrl: string, topic: string): Promise<ChunkRow[]> {
  return (await query(metadataUrl, CHUNK_ROWS, topic)).map((r) => ({
    partition: Number(r.partition),
    baseOffset: Number(r.base_offset),
    lastOffset: Number(r.last_offset),
    byteLength: Number(r.byte_length),
    objectKey: String(r.object_key),
  }));
}

/** Chunk rows and distinct objects per partition of `topic` (partitions without chunks are left out). */
export async function chunksByPartition(metadataUrl: string, topic: string): Promise<PartitionChunks[]> {
  return (await query(metadataUrl, CHUNKS_BY_PARTITION, topic)).map((r) => ({ partition: Number(r.partition), chunks: Number(r.chunks), objects: Number(r.objects) }));
}
