import type BetterSqlite3 from 'better-sqlite3';
import type { ProducerMetadataStore, ProducerPartitionState } from '../metadata-store.js';
import { decodeProducerBatches } from '../producer-batches-codec.js';
import type { SqliteContext } from './sqlite-context.js';

interface ProducerStateRow {
  producer_id: bigint;
  producer_epoch: bigint;
  batches: string;
  txn_first_offset: bigint | null;
}

export class SqliteProducerStore implements ProducerMetadataStore {
  private readonly nextProducerId: BetterSqlite3.Statement<[], bigint>;
  private readonly selectStates: BetterSqlite3.Statement<[string, number], ProducerStateRow>;

  constructor(private readonly ctx: SqliteContext) {
    const db = ctx.db;
    // One durable counter row: every id handed out is committed before it is returned,
    // so a restart can never hand it out again.
    this.nextProducerId = db
      .prepare<[], bigint>(
        'UPDATE producer_id_sequence SET next_id = next_id + 1 WHERE singleton = 1 RETURNING next_id - 1',
      )
      .pluck()
      .safeIntegers();
    this.selectStates = db
      .prepare<[string, number], ProducerStateRow>(
        `SELECT producer_id, producer_epoch, batches, txn_first_offset FROM producer_states
         WHERE topic_id = (SELECT id FROM topics WHERE name = ?) AND partition = ?
         ORDER BY producer_id`,
      )
      .safeIntegers();
  }

  async allocateProducerId(): Promise<bigint> {
    this.ctx.assertOpen();
    const id = this.nextProducerId.get();
    if (id === undefined) throw new Error('producer_id_sequence row is missing');
    return id;
  }

  async getStates(topic: string, partition: number): Promise<ProducerPartitionState[]> {
    this.ctx.assertOpen();
    return this.selectStates.all(topic, partition).map((row) => ({
      topic,
      partition,
      producerId: row.producer_id,
      producerEpoch: Number(row.producer_epoch),
      batches: decodeProducerBatches(row.batches),
      txnFirstOffset: row.txn_first_offset,
    }));
  }
}
