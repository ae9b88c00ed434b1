import type BetterSqlite3 from 'better-sqlite3';
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
import type { SqliteContext } from './sqlite-context.js';

interface AbortedRow {
  producer_id: bigint;
  first_offset: bigint;
  last_offset: bigint;
}

interface PartitionRow {
  partition: bigint;
  high_watermark: bigint;
  log_start_offset: bigint;
}

export class SqlitePartitionStore implements PartitionMetadataStore {
  private readonly db: BetterSqlite3.Database;
  private readonly selectTopicId: BetterSqlite3.Statement<[string], string>;
  private readonly selectOne: BetterSqlite3.Statement<[string, number], PartitionRow>;
  private readonly selectAll: BetterSqlite3.Statement<[string], PartitionRow>;
  private readonly selectByTopicId: BetterSqlite3.Statement<[string, number], PartitionRow>;
  private readonly updateLogStart: BetterSqlite3.Statement<[bigint, string, number]>;
  private readonly deleteChunksBelow: BetterSqlite3.Statement<[string, number, bigint]>;
  private readonly guardedHwmUpdate: BetterSqlite3.Statement<[bigint, string, number, bigint]>;
  private readonly insertObject: BetterSqlite3.Statement<[string, number, number]>;
  private readonly insertChunk: BetterSqlite3.Statement<
    [string, number, bigint, bigint, bigint, number, string, number, number]
  >;
  private readonly upsertProducerState: BetterSqlite3.Statement<[string, number, bigint, number, string, bigint | null, number]>;
  private readonly insertAborted: BetterSqlite3.Statement<[string, number, bigint, bigint, bigint]>;
  private readonly deleteAbortedBelow: BetterSqlite3.Statement<[string, number, bigint]>;
  private readonly selectAborted: BetterSqlite3.Statement<[string, number, bigint], AbortedRow>;
  private readonly leaseHeld: BetterSqlite3.Statement<[string, string, number, number], number>;
  private readonly commitTransaction: BetterSqlite3.Transaction<(commit: FlushCommit, now: number) => void>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.db = db;
    const columns = 'partition, high_watermark, log_start_offset';
    this.selectTopicId = db.prepare<[string], string>('SELECT id FROM topics WHERE name = ?').pluck();
    this.selectOne = db
      .prepare<[string, number], PartitionRow>(
        `SELECT ${columns} FROM partitions WHERE topic_id = (SELECT id FROM topics WHERE name = ?) AND partition = ?`,
      )
      .safeIntegers();
    this.selectAll = db
      .prepare<[string], PartitionRow>(
        `SELECT ${columns} FROM partitions WHERE topic_id = (SELECT id FROM topics WHERE name = ?) ORDER BY partition`,
      )
      .safeIntegers();
    this.selectByTopicId = db
      .prepare<[string, number], PartitionRow>(`SELECT ${columns} FROM partitions WHERE topic_id = ? AND partition = ?`)
      .safeIntegers();
    this.updateLogStart = db.prepare('UPDATE partitions SET log_start_offset = ? WHERE topic_id = ? AND partition = ?');
    this.deleteChunksBelow = db.prepare('DELETE FROM chunks WHERE topic_id = ? AND partition = ? AND last_offset < ?');
    // The HWM guard: the row only changes if nobody else committed since the writer read it.
    this.guardedHwmUpdate = db.prepare(
      'UPDATE partitions SET high_watermark = ? WHERE topic_id = ? AND partition = ? AND high_watermark = ?',
    );
    this.insertObject = db.prepare(
      'INSERT INTO objects (key, size, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    this.insertChunk = db.prepare(
      `INSERT INTO chunks (topic_id, partition, base_offset, last_offset, max_timestamp, record_count,
                           object_key, byte_offset, byte_length)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertProducerState = db.prepare(
      `INSERT INTO producer_states (topic_id, partition, producer_id, producer_epoch, batches, txn_first_offset, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (topic_id, partition, producer_id) DO UPDATE SET
         producer_epoch = excluded.producer_epoch, batches = excluded.batches,
         txn_first_offset = excluded.txn_first_offset, updated_at = excluded.updated_at`,
    );
    this.insertAborted = db.prepare(
      'INSERT INTO aborted_transactions (topic_id, partition, producer_id, first_offset, last_offset) VALUES (?, ?, ?, ?, ?)',
    );
    this.deleteAbortedBelow = db.prepare('DELETE FROM aborted_transactions WHERE topic_id = ? AND partition = ? AND last_offset < ?');
    this.selectAborted = db
      .prepare<[string, number, bigint], AbortedRow>(
        `SELECT producer_id, first_offset, last_offset FROM aborted_transactions
         WHERE topic_id = (SELECT id FROM topics WHERE name = ?) AND partition = ? AND last_offset >= ?
         ORDER BY last_offset`,
      )
      .safeIntegers();
    this.leaseHeld = db
      .prepare<[string, string, number, number], number>('SELECT 1 FROM leases WHERE resource = ? AND owner = ? AND epoch = ? AND expires_at > ?')
      .pluck();
    this.commitTransaction = db.transaction((commit: FlushCommit, now: number) => this.applyCommit(commit, now));
  }

  async get(topic: string, partition: number): Promise<PartitionState | undefined> {
    this.ctx.assertOpen();
    const row = this.selectOne.get(topic, partition);
    return row === undefined ? undefined : toPartitionState(topic, row);
  }

  async list(topic: string): Promise<PartitionState[]> {
    this.ctx.assertOpen();
    return this.selectAll.all(topic).map((row) => toPartitionState(topic, row));
  }

  async advanceLogStart(topic: string, partition: number, offset: bigint): Promise<bigint> {
    this.ctx.assertOpen();
    return this.db
      .transaction(() => {
        const topicId = this.selectTopicId.get(topic);
        const row = topicId === undefined ? undefined : this.selectByTopicId.get(topicId, partition);
        if (topicId === undefined || row === undefined) {
          throw new MetadataStoreError('UNKNOWN_TOPIC_OR_PARTITION', `Partition ${topic}-${partition} does not exist`);
        }
        if (offset > row.high_watermark) {
          throw new MetadataStoreError(
            'OFFSET_OUT_OF_RANGE',
            `Cannot move the log start of ${topic}-${partition} to ${offset}: the high watermark is ${row.high_watermark}`,
          );
        }
        if (offset <= row.log_start_offset) return row.log_start_offset;
        this.updateLogStart.run(offset, topicId, partition);
        // Chunks wholly below the log start can never be read again; their objects become
        // unreferenced and the collector finds them through objects.listUnreferenced.
        this.deleteChunksBelow.run(topicId, partition, offset);
        // so are aborted transactions whose marker lies below it
        this.deleteAbortedBelow.run(topicId, partition, offset);
        return offset;
      })
      .immediate();
  }

  async abortedTransactions(topic: string, partition: number, fromOffset: bigint): Promise<AbortedTransaction[]> {
    this.ctx.assertOpen();
    return this.selectAborted.all(topic, partition, fromOffset).map((row) => ({
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
    this.commitTransaction.immediate(commit, this.ctx.now());
  }

  /** Runs inside the BEGIN IMMEDIATE transaction built once in the constructor. */
  private applyCommit(commit: FlushCommit, now: number): void {
    const topicIds = new Map<string, string | undefined>();
    const resolve = (name: string): string | undefined => {
      if (!topicIds.has(name)) topicIds.set(name, this.selectTopicId.get(name));
      return topicIds.get(name);
    };
    const resolved = (name: string): string => {
      const id = topicIds.get(name);
      // Unreachable: validation ties every chunk, producer state and aborted transaction to a guarded update.
      if (id === undefined) throw new Error(`topic "${name}" was not resolved by the guard pass`);
      return id;
    };

    // Guards first: a fenced commit must write nothing. The lease guard runs inside the
    // same write transaction, so no acquire can slip between the check and the write.
    const fenced: FencedPartition[] = [];
    for (const update of commit.partitions) {
      const topicId = resolve(update.topic);
      if (
        update.leaseOwner !== undefined &&
        update.leaseEpoch !== undefined &&
        this.leaseHeld.get(partitionLeaseResource(update.topic, update.partition), update.leaseOwner, update.leaseEpoch, now) === undefined
      ) {
        const actual = topicId === undefined ? undefined : this.selectByTopicId.get(topicId, update.partition);
        fenced.push({
          topic: update.topic,
          partition: update.partition,
          expectedHighWatermark: update.expectedHighWatermark,
          actualHighWatermark: actual?.high_watermark,
          leaseLost: true,
        });
        continue;
      }
      const applied =
        topicId !== undefined &&
        this.guardedHwmUpdate.run(update.newHighWatermark, topicId, update.partition, update.expectedHighWatermark)
          .changes === 1;
      if (!applied) {
        const actual = topicId === undefined ? undefined : this.selectByTopicId.get(topicId, update.partition);
        fenced.push({
          topic: update.topic,
          partition: update.partition,
          expectedHighWatermark: update.expectedHighWatermark,
          actualHighWatermark: actual?.high_watermark,
        });
      }
    }
    if (fenced.length > 0) throw new FencedError(fenced);

    if (this.insertObject.run(commit.objectKey, commit.objectSize, now).changes !== 1) {
      throw new MetadataStoreError('OBJECT_ALREADY_EXISTS', `Object "${commit.objectKey}" is already recorded`);
    }
    for (const chunk of commit.chunks) {
      this.insertChunk.run(
        resolved(chunk.topic),
        chunk.partition,
        chunk.baseOffset,
        chunk.lastOffset,
        chunk.maxTimestamp,
        chunk.recordCount,
        commit.objectKey,
        chunk.byteOffset,
        chunk.byteLength,
      );
    }
    for (const state of commit.producerStates) {
      this.upsertProducerState.run(
        resolved(state.topic),
        state.partition,
        state.producerId,
        state.producerEpoch,
        encodeProducerBatches(state.batches),
        state.txnFirstOffset,
        now,
      );
    }
    for (const aborted of commit.abortedTransactions ?? []) {
      this.insertAborted.run(resolved(aborted.topic), aborted.partition, aborted.producerId, aborted.firstOffset, aborted.lastOffset);
    }
  }
}

function toPartitionState(topic: string, row: PartitionRow): PartitionState {
  return {
    topic,
    partition: Number(row.partition),
    highWatermark: row.high_watermark,
    logStartOffset: row.log_start_offset,
  };
}
