import kafkajs, { type Consumer } from 'kafkajs';
import { encodeInventoryEvent, type InventoryEventType } from '../shared/inventory-event.js';
import { decodeOrderEvent, type OrderEvent } from '../shared/order-event.js';
import { INVENTORY_GROUP, INVENTORY_TOPIC, ORDERS_TOPIC } from '../shared/topics.js';
import { LeaderRoutedProducer } from '../shared/leader-routed-producer.js';
import { registerLz4Codec } from './kafkajs-lz4.js';
import type { StockLedger } from './stock-ledger.js';

/**
 * Order lines planned and sent together (whole orders, at least one); the Producer splits a
 * chunk's events into batches by partition and size. A chunk's events are committed together
 * before the next chunk is planned, so a larger chunk waits for fewer acks: 1,000 orders a
 * chunk made 26,132-33,771 updates/s in bench/production-demo.ts, 5,000 lines 40,161-49,641
 * (then through kafkajs).
 */
const LINES_PER_SEND = 5000;

export interface WorkerStats {
  orders_processed: number;
  invalid_records: number;
  updates_produced: number;
  events: Record<InventoryEventType, number>;
}

/**
 * Both doors: a kafkajs consumer in group `inventory-service` reads `orders` (the Kafka door) a
 * batch at a time; its reservations go to `inventory-updates` keyed by SKU through the typed
 * gRPC Producer (murmur2 of the key, Kafka's default partitioner), a chunk of LINES_PER_SEND
 * lines at a time. Each chunk counts and is committed in the ledger only after all its events
 * are committed in the log (a redelivered batch skips the chunks done).
 *
 * The events were first sent with kafkajs too. Its producer groups a send's messages by
 * partition by copying the partition's array once per message, so a send of 5,000 costs
 * millions of copies; with the typed Producer the service went from 56,940-58,649 to
 * 70,057-72,819 updates/s on the same idle machine (docs/benchmarks.md).
 */
export class InventoryWorker {
  readonly stats: WorkerStats = { orders_processed: 0, invalid_records: 0, updates_produced: 0, events: { reserved: 0, rejected: 0, low_stock: 0, out_of_stock: 0 } };
  private readonly consumer: Consumer;
  private readonly producer: LeaderRoutedProducer;

  constructor(
    brokers: string[],
    grpcAddresses: readonly string[],
    private readonly ledger: StockLedger,
  ) {
    registerLz4Codec();
    const { Kafka, logLevel } = kafkajs;
    const kafka = new Kafka({ clientId: 'inventory-service', brokers, logLevel: logLevel.ERROR });
    this.consumer = kafka.consumer({ groupId: INVENTORY_GROUP, maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 100 });
    // uncompressed, so that any Kafka client reads inventory-updates without an LZ4 codec
    this.producer = new LeaderRoutedProducer(grpcAddresses, INVENTORY_TOPIC, { lingerMs: 1, batchMaxRecords: LINES_PER_SEND * 2, acks: 'all', compression: 'none' });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // a crash kafkajs does not restart from would leave the service answering with stale stock
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (e.payload.restart) return;
      console.error(`inventory consumer crashed: ${e.payload.error.message}`);
      process.exit(1);
    });
    await this.consumer.subscribe({ topic: ORDERS_TOPIC, fromBeginning: true });
    await this.consumer.run({
      // one batch at a time: a batch is planned against the levels the previous one committed
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, heartbeat }) => {
        const orders: OrderEvent[] = [];
        for (const m of batch.messages) {
          const o = decodeOrderEvent(m.value);
          if (o) orders.push(o);
          else this.stats.invalid_records++;
        }
        // a fetched batch can hold tens of thousands of orders: each chunk is planned, sent, committed
        for (let i = 0; i < orders.length; ) {
          let end = i + 1;
          for (let lines = orders[i]!.items.length; end < orders.length && lines + orders[end]!.items.length <= LINES_PER_SEND; end++) lines += orders[end]!.items.length;
          const chunk = orders.slice(i, end);
          i = end;
          const plan = this.ledger.plan(chunk);
          if (plan.events.length > 0) {
            await Promise.all(plan.events.map((e) => this.producer.send({ key: e.sku, value: encodeInventoryEvent(e) })));
          }
          this.ledger.commit(plan);
          this.stats.orders_processed += chunk.length;
          this.stats.updates_produced += plan.events.length;
          for (const e of plan.events) this.stats.events[e.type]++;
          await heartbeat();
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.close();
  }
}
