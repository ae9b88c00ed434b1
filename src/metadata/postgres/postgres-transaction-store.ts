import type { TransactionRecord, TransactionRecordInput, TransactionStateName, TransactionStateStore } from '../metadata-store.js';
import {
  assertExpectedVersion,
  storedTransactionRecord,
  decodeTransactionGroups,
  decodeTransactionPartitions,
  encodeTransactionGroups,
  encodeTransactionPartitions,
} from '../transaction-record-codec.js';
import type { PostgresContext } from './postgres-context.js';

interface TransactionRow {
  transactional_id: Buffer;
  producer_id: bigint;
  producer_epoch: number;
  last_producer_epoch: number;
  state: string;
  timeout_ms: number;
  partitions: string;
  group_ids: string;
  started_at_ms: bigint;
  updated_at_ms: bigint;
  version: bigint;
}

/** Transactional ids are bytea: Kafka strings may hold NUL, PostgreSQL text not. */
const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

const UNIQUE_VIOLATION = '23505';

const COLUMNS = 'transactional_id, producer_id, producer_epoch, last_producer_epoch, state, timeout_ms, partitions, group_ids, started_at_ms, updated_at_ms, version';

function toRecord(row: TransactionRow): TransactionRecord {
  return {
    transactionalId: row.transactional_id.toString('utf8'),
    producerId: row.producer_id,
    producerEpoch: row.producer_epoch,
    lastProducerEpoch: row.last_producer_epoch,
    state: row.state as TransactionStateName,
    timeoutMs: row.timeout_ms,
    partitions: decodeTransactionPartitions(row.partitions),
    groups: decodeTransactionGroups(row.group_ids),
    startedAtMs: Number(row.started_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    version: Number(row.version),
  };
}

export class PostgresTransactionStore implements TransactionStateStore {
  constructor(private readonly ctx: PostgresContext) {}

  async get(transactionalId: string): Promise<TransactionRecord | undefined> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<TransactionRow>(`SELECT ${COLUMNS} FROM transactions WHERE transactional_id = $1`, [bytes(transactionalId)]);
    const row = result.rows[0];
    return row === undefined ? undefined : toRecord(row);
  }

  async list(): Promise<TransactionRecord[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<TransactionRow>(`SELECT ${COLUMNS} FROM transactions ORDER BY transactional_id`);
    return result.rows.map(toRecord);
  }

  async put(record: TransactionRecordInput, expectedVersion: number): Promise<TransactionRecord | undefined> {
    this.ctx.assertOpen();
    assertExpectedVersion(expectedVersion);
    const version = expectedVersion + 1;
    const params = [
      bytes(record.transactionalId),
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
    // 'once': after a broken connection the write may have been applied, and running it
    // again would report the guard as failed; the caller gets outcomeUnknown and re-reads.
    let applied: number;
    try {
      const result =
        expectedVersion === 0
          ? // A concurrent insert of the same id waits on the unique index, then does nothing.
            await this.ctx.query(
              `INSERT INTO transactions (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (transactional_id) DO NOTHING`,
              params,
              'once',
            )
          : // The compare-and-set: the row changes only if nobody wrote it since the caller read it.
            await this.ctx.query(
              `UPDATE transactions SET producer_id = $2, producer_epoch = $3, last_producer_epoch = $4, state = $5, timeout_ms = $6,
                 partitions = $7, group_ids = $8, started_at_ms = $9, updated_at_ms = $10, version = $11
               WHERE transactional_id = $1 AND version = $12`,
              [...params, expectedVersion],
              'once',
            );
      applied = result.rowCount ?? 0;
    } catch (err) {
      // Belt and braces for the insert race: someone else created the id first.
      if ((err as { code?: unknown } | null)?.code === UNIQUE_VIOLATION) return undefined;
      throw err;
    }
    if (applied !== 1) return undefined;
    return storedTransactionRecord(record, version);
  }

  async delete(transactionalId: string, expectedVersion: number): Promise<boolean> {
    this.ctx.assertOpen();
    assertExpectedVersion(expectedVersion);
    const result = await this.ctx.query(
      'DELETE FROM transactions WHERE transactional_id = $1 AND version = $2',
      [bytes(transactionalId), expectedVersion],
      'once',
    );
    return result.rowCount === 1;
  }
}
