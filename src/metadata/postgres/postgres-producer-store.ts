import type { ProducerMetadataStore, ProducerPartitionState } from '../metadata-store.js';
import { decodeProducerBatches } from '../producer-batches-codec.js';
import type { PostgresContext } from './postgres-context.js';

interface ProducerStateRow {
  producer_id: bigint;
  producer_epoch: number;
  batches: string;
  txn_first_offset: bigint | null;
}

export class PostgresProducerStore implements ProducerMetadataStore {
  constructor(private readonly ctx: PostgresContext) {}

  async allocateProducerId(): Promise<bigint> {
    this.ctx.assertOpen();
    // One durable counter row: every id handed out is committed before it is returned, so
    // a restart can never hand it out again. Rerunning after a broken connection at worst
    // skips an id, which is harmless: ids only need to be unique and increasing.
    const result = await this.ctx.query<{ id: bigint }>(
      'UPDATE producer_id_sequence SET next_id = next_id + 1 WHERE singleton RETURNING next_id - 1 AS id',
      [],
      'rerunnable',
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new Error('producer_id_sequence row is missing');
    return id;
  }

  async getStates(topic: string, partition: number): Promise<ProducerPartitionState[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<ProducerStateRow>(
      `SELECT producer_id, producer_epoch, batches, txn_first_offset FROM producer_states
       WHERE topic_id = (SELECT id FROM topics WHERE name = $1) AND partition = $2
       ORDER BY producer_id`,
      [topic, partition],
    );
    return result.rows.map((row) => ({
      topic,
      partition,
      producerId: row.producer_id,
      producerEpoch: row.producer_epoch,
      batches: decodeProducerBatches(row.batches),
      txnFirstOffset: row.txn_first_offset,
    }));
  }
}
