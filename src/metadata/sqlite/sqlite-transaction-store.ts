import type BetterSqlite3 from 'better-sqlite3';
import type { TransactionRecord, TransactionRecordInput, TransactionStateName, TransactionStateStore } from '../metadata-store.js';
import {
  assertExpectedVersion,
  storedTransactionRecord,
  decodeTransactionGroups,
  decodeTransactionPartitions,
  encodeTransactionGroups,
  encodeTransactionPartitions,
} from '../transaction-record-codec.js';
import type { SqliteContext } from './sqlite-context.js';

interface TransactionRow {
  transactional_id: string;
  producer_id: bigint;
  producer_epoch: bigint;
  last_producer_epoch: bigint;
  state: string;
  timeout_ms: bigint;
  partitions: string;
  group_ids: string;
  started_at_ms: bigint;
  updated_at_ms: bigint;
  version: bigint;
}

function toRecord(row: TransactionRow): TransactionRecord {
  return {
    transactionalId: row.transactional_id,
    producerId: row.producer_id,
    producerEpoch: Number(row.producer_epoch),
    lastProducerEpoch: Number(row.last_producer_epoch),
    state: row.state as TransactionStateName,
    timeoutMs: Number(row.timeout_ms),
    partitions: decodeTransactionPartitions(row.partitions),
    groups: decodeTransactionGroups(row.group_ids),
    startedAtMs: Number(row.started_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    version: Number(row.version),
  };
}

type RecordParams = [string, ...UpdateParams];
type UpdateParams = [bigint, number, number, string, number, string, string, number, number, number];

const COLUMNS = 'transactional_id, producer_id, producer_epoch, last_producer_epoch, state, timeout_ms, partitions, group_ids, started_at_ms, updated_at_ms, version';

export class SqliteTransactionStore implements TransactionStateStore {
  private readonly selectOne: BetterSqlite3.Statement<[string], TransactionRow>;
  private readonly selectAll: BetterSqlite3.Statement<[], TransactionRow>;
  private readonly insertIfAbsent: BetterSqlite3.Statement<RecordParams>;
  private readonly guardedUpdate: BetterSqlite3.Statement<[...UpdateParams, string, number]>;
  private readonly guardedDelete: BetterSqlite3.Statement<[string, number]>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    this.selectOne = db.prepare<[string], TransactionRow>(`SELECT ${COLUMNS} FROM transactions WHERE transactional_id = ?`).safeIntegers();
    this.selectAll = db.prepare<[], TransactionRow>(`SELECT ${COLUMNS} FROM transactions ORDER BY transactional_id`).safeIntegers();
    this.insertIfAbsent = db.prepare(
      `INSERT INTO transactions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (transactional_id) DO NOTHING`,
    );
    // The compare-and-set: the row changes only if nobody wrote it since the caller read it.
    this.guardedUpdate = db.prepare(
      `UPDATE transactions SET producer_id = ?, producer_epoch = ?, last_producer_epoch = ?, state = ?, timeout_ms = ?, partitions = ?,
         group_ids = ?, started_at_ms = ?, updated_at_ms = ?, version = ?
       WHERE transactional_id = ? AND version = ?`,
    );
    this.guardedDelete = db.prepare('DELETE FROM transactions WHERE transactional_id = ? AND version = ?');
  }

  async get(transactionalId: string): Promise<TransactionRecord | undefined> {
    this.ctx.assertOpen();
    const row = this.selectOne.get(transactionalId);
    return row === undefined ? undefined : toRecord(row);
  }

  async list(): Promise<TransactionRecord[]> {
    this.ctx.assertOpen();
    return this.selectAll.all().map(toRecord);
  }

  async put(record: TransactionRecordInput, expectedVersion: number): Promise<TransactionRecord | undefined> {
    this.ctx.assertOpen();
    assertExpectedVersion(expectedVersion);
    const version = expectedVersion + 1;
    const values: UpdateParams = [
      record.producerId,
      record.producerEpoch,
      record.lastProducerEpoch,
      record.state,
      record.timeoutMs,
      encodeTransactionPartitions(record.partitions),
      encodeTransactionGroups(record.groups),
      record.startedAtMs,
      record.updatedAtMs,
      version,
    ];
    const changes =
      expectedVersion === 0
        ? this.insertIfAbsent.run(record.transactionalId, ...values).changes
        : this.guardedUpdate.run(...values, record.transactionalId, expectedVersion).changes;
    if (changes !== 1) return undefined;
    return storedTransactionRecord(record, version);
  }

  async delete(transactionalId: string, expectedVersion: number): Promise<boolean> {
    this.ctx.assertOpen();
    assertExpectedVersion(expectedVersion);
    return this.guardedDelete.run(transactionalId, expectedVersion).changes === 1;
  }
}
