import {
  FencedError,
  type AbortedTransaction,
  partitionLeaseResource,
  MetadataStoreError,
  type FencedPartition,
  type FlushCommit,
  type PartitionMetadataStore,
  type PartitionState,
} from '../metadata-store.js';
import { encodeProducerBatches } from '../producer-batches-codec.js';
import { validateFlushCommit } from '../validate-flush-commit.js';
import { DB_NOW_MS, type PgQueryable, type PostgresContext } from './postgres-context.js';

interface PartitionRow {
  partition: number;
  high_watermark: bigint;
  log_start_offset: bigint;
}

interface GuardRow {
  /** 1-based position of the update in commit.partitions. */
  i: bigint;
  topic_id: string;
  high_watermark: bigint;
}

const PARTITION_COLUMNS = 'p.partition, p.high_watermark, p.log_start_offset';

const SELECT_ONE = {
  name: 'streamhouse.partition_get',
  text: `SELECT ${PARTITION_COLUMNS} FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE t.name = $1 AND p.partition = $2`,
};

// Locks the commit's partition rows in (topic_id, partition) order (the same order topic
// deletion uses), so writers whose commits overlap queue instead of deadlocking. Under READ
// COMMITTED a writer that waited sees the winner's HWM once it gets the lock.
const LOCK_PARTITIONS = `
  SELECT u.i, p.topic_id, p.high_watermark
  FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS u(name, partition, i)
  JOIN topics t ON t.name = u.name
  JOIN partitions p ON p.topic_id = t.id AND p.partition = u.partition
  ORDER BY p.topic_id, p.partition
  FOR UPDATE OF p`;

// Everything else a flush writes (chunks, HWMs, producer states, aborted transactions), in
// one statement built from arrays, so a commit costs the same four round trips (BEGIN,
// lock, write, COMMIT) for 1 or 1,000 partitions. The
// object row goes first: when its key is already recorded nothing else is written.
// Neither commit statement is a named (prepared) one: a generic plan cannot know the
// array sizes and, for 1,000 partitions, picked nested loops 20 times slower.
const WRITE_COMMIT = `
  WITH o AS (
    INSERT INTO objects (key, size, created_at) VALUES ($1, $2, ${DB_NOW_MS})
    ON CONFLICT (key) DO NOTHING
    RETURNING key
  ), c AS (
    INSERT INTO chunks (topic_id, partition, base_offset, last_offset, max_timestamp, record_count,
                        object_key, byte_offset, byte_length)
    SELECT x.topic_id, x.partition, x.base_offset, x.last_offset, x.max_timestamp, x.record_count,
           o.key, x.byte_offset, x.byte_length
    FROM o, unnest($3::text[], $4::integer[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])
      AS x(topic_id, partition, base_offset, last_offset, max_timestamp, record_count, byte_offset, byte_length)
  ), h AS (
    UPDATE partitions p SET high_watermark = x.high_watermark
    FROM o, unnest($11::text[], $12::integer[], $13::bigint[]) AS x(topic_id, partition, high_watermark)
    WHERE p.topic_id = x.topic_id AND p.partition = x.partition
  ), s AS (
    INSERT INTO producer_states (topic_id, partition, producer_id, producer_epoch, batches, txn_first_offset, updated_at)
    SELECT x.topic_id, x.partition, x.producer_id, x.producer_epoch, x.batches, x.txn_first_offset, ${DB_NOW_MS}
    FROM o, unnest($14::text[], $15::integer[], $16::bigint[], $17::integer[], $18::text[], $19::bigint[])
      AS x(topic_id, partition, producer_id, producer_epoch, batches, txn_first_offset)
    ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET
      producer_epoch = excluded.producer_epoch, batches = excluded.batches,
      txn_first_offset = excluded.txn_first_offset, updated_at = excluded.updated_at
  ), a AS (
    INSERT INTO aborted_transactions (topic_id, partition, producer_id, first_offset, last_offset)
    SELECT x.topic_id, x.partition, x.producer_id, x.first_offset, x.last_offset
    FROM o, unnest($20::text[], $21::integer[], $22::bigint[], $23::bigint[], $24::bigint[])
      AS x(topic_id, partition, producer_id, first_offset, last_offset)
  )
  SELECT count(*) AS inserted FROM o`;

// What read_committed fetches ask for: a range seek on the primary key.
const SELECT_ABORTED = {
  name: 'streamhouse.aborted_transactions',
  text: `SELECT a.producer_id, a.first_offset, a.last_offset FROM aborted_transactions a
         WHERE a.topic_id = (SELECT id FROM topics WHERE name = $1) AND a.partition = $2 AND a.last_offset >= $3
         ORDER BY a.last_offset`,
};

// The lease guard: FOR SHARE keeps an acquirer from taking a lease between this check and
// COMMIT (its upsert waits on the row lock, then sees the lease as still ours until expiry).
const CHECK_LEASES = `
  SELECT u.i
  FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(resource, owner, epoch, i)
  JOIN leases l ON l.resource = u.resource AND l.owner = u.owner AND l.epoch = u.epoch
  WHERE l.expires_at > ${DB_NOW_MS}
  ORDER BY l.resource
  FOR SHARE OF l`;

export class PostgresPartitionStore implements PartitionMetadataStore {
  constructor(private readonly ctx: PostgresContext) {}

  async get(topic: string, partition: number): Promise<PartitionState | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<PartitionRow>(SELECT_ONE, [topic, partition]);
    const row = result.rows[0];
    return row === undefined ? undefined : toPartitionState(topic, row);
  }

  async list(topic: string): Promise<PartitionState[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<PartitionRow>(
      `SELECT ${PARTITION_COLUMNS} FROM partitions p JOIN topics t ON t.id = p.topic_id
       WHERE t.name = $1 ORDER BY p.partition`,
      [topic],
    );
    return result.rows.map((row) => toPartitionState(topic, row));
  }

  async advanceLogStart(topic: string, partition: number, offset: bigint): Promise<bigint> {
    this.ctx.assertOpen();
    return this.ctx.transaction(async (tx) => {
      const result = await tx.query<PartitionRow & { topic_id: string }>(
        `SELECT p.topic_id, ${PARTITION_COLUMNS} FROM partitions p JOIN topics t ON t.id = p.topic_id
         WHERE t.name = $1 AND p.partition = $2
         FOR UPDATE OF p`,
        [topic, partition],
      );
      const row = result.rows[0];
      if (row === undefined) {
        throw new MetadataStoreError('UNKNOWN_TOPIC_OR_PARTITION', `Partition ${topic}-${partition} does not exist`);
      }
      if (offset > row.high_watermark) {
        throw new MetadataStoreError(
          'OFFSET_OUT_OF_RANGE',
          `Cannot move the log start of ${topic}-${partition} to ${offset}: the high watermark is ${row.high_watermark}`,
        );
      }
      if (offset <= row.log_start_offset) return row.log_start_offset;
      // Chunks wholly below the log start can never be read again; their objects become
      // unreferenced and the collector finds them through objects.listUnreferenced.
      // So are aborted transactions whose marker lies below it.
      await tx.query(
        `WITH u AS (UPDATE partitions SET log_start_offset = $3 WHERE topic_id = $1 AND partition = $2),
              a AS (DELETE FROM aborted_transactions WHERE topic_id = $1 AND partition = $2 AND last_offset < $3)
         DELETE FROM chunks WHERE topic_id = $1 AND partition = $2 AND last_offset < $3`,
        [row.topic_id, partition, offset],
      );
      return offset;
    });
  }

  async abortedTransactions(topic: string, partition: number, fromOffset: bigint): Promise<AbortedTransaction[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<{ producer_id: bigint; first_offset: bigint; last_offset: bigint }>(SELECT_ABORTED, [topic, partition, fromOffset]);
    return result.rows.map((row) => ({
      topic,
      partition,
      producerId: row.producer_id,
      firstOffset: row.first_offset,
      lastOffset: row.last_offset,
    }));
  }

  async commitFlush(commit: FlushCommit): Promise<void> {
    this.ctx.assertOpen();
    validateFlushCommit(commit);
    await this.ctx.transaction((tx) => applyCommit(tx, commit));
  }
}

async function applyCommit(tx: PgQueryable, commit: FlushCommit): Promise<void> {
  // Guards first: a fenced commit must write nothing.
  const locked = await tx.query<GuardRow>(LOCK_PARTITIONS, [
    commit.partitions.map((u) => u.topic),
    commit.partitions.map((u) => u.partition),
  ]);
  const guarded = commit.partitions.flatMap((u, index) => (u.leaseOwner !== undefined && u.leaseEpoch !== undefined ? [{ u, index }] : []));
  const leaseLost = new Set<number>();
  if (guarded.length > 0) {
    const held = await tx.query<{ i: bigint }>(CHECK_LEASES, [
      guarded.map(({ u }) => partitionLeaseResource(u.topic, u.partition)),
      guarded.map(({ u }) => u.leaseOwner),
      guarded.map(({ u }) => u.leaseEpoch),
    ]);
    const ok = new Set(held.rows.map((r) => Number(r.i) - 1));
    guarded.forEach(({ index }, g) => {
      if (!ok.has(g)) leaseLost.add(index);
    });
  }
  const byIndex = new Map<number, GuardRow>();
  for (const row of locked.rows) byIndex.set(Number(row.i) - 1, row);
  const topicIds = new Map<string, string>();
  const fenced: FencedPartition[] = [];
  commit.partitions.forEach((update, index) => {
    const row = byIndex.get(index);
    if (row !== undefined) topicIds.set(update.topic, row.topic_id);
    if (leaseLost.has(index)) {
      fenced.push({
        topic: update.topic,
        partition: update.partition,
        expectedHighWatermark: update.expectedHighWatermark,
        actualHighWatermark: row?.high_watermark,
        leaseLost: true,
      });
    } else if (row === undefined || row.high_watermark !== update.expectedHighWatermark) {
      fenced.push({
        topic: update.topic,
        partition: update.partition,
        expectedHighWatermark: update.expectedHighWatermark,
        actualHighWatermark: row?.high_watermark,
      });
    }
  });
  if (fenced.length > 0) throw new FencedError(fenced);

  const topicId = (name: string): string => {
    const id = topicIds.get(name);
    // Unreachable: validation ties every chunk, producer state and aborted transaction to a guarded update.
    if (id === undefined) throw new Error(`topic "${name}" was not resolved by the guard pass`);
    return id;
  };
  const moved = commit.partitions.filter((u) => u.newHighWatermark !== u.expectedHighWatermark);
  const { chunks, producerStates: states } = commit;
  const aborted = commit.abortedTransactions ?? [];
  const written = await tx.query<{ inserted: bigint }>(WRITE_COMMIT, [
    commit.objectKey,
    commit.objectSize,
    chunks.map((c) => topicId(c.topic)),
    chunks.map((c) => c.partition),
    chunks.map((c) => c.baseOffset),
    chunks.map((c) => c.lastOffset),
    chunks.map((c) => c.maxTimestamp),
    chunks.map((c) => c.recordCount),
    chunks.map((c) => c.byteOffset),
    chunks.map((c) => c.byteLength),
    moved.map((u) => topicId(u.topic)),
    moved.map((u) => u.partition),
    moved.map((u) => u.newHighWatermark),
    states.map((s) => topicId(s.topic)),
    states.map((s) => s.partition),
    states.map((s) => s.producerId),
    states.map((s) => s.producerEpoch),
    states.map((s) => encodeProducerBatches(s.batches)),
    states.map((s) => s.txnFirstOffset),
    aborted.map((a) => topicId(a.topic)),
    aborted.map((a) => a.partition),
    aborted.map((a) => a.producerId),
    aborted.map((a) => a.firstOffset),
    aborted.map((a) => a.lastOffset),
  ]);
  if (written.rows[0]?.inserted !== 1n) {
    // Throwing rolls back: nothing of this commit stays.
    throw new MetadataStoreError('OBJECT_ALREADY_EXISTS', `Object "${commit.objectKey}" is already recorded`);
  }
}

function toPartitionState(topic: string, row: PartitionRow): PartitionState {
  return {
    topic,
    partition: row.partition,
    highWatermark: row.high_watermark,
    logStartOffset: row.log_start_offset,
  };
}
