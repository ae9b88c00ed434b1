import kafkajs, { type Consumer, type Producer } from 'kafkajs';
import { encodeInventoryEvent, type InventoryEventType } from '../shared/inventory-event.js';
import { decodeOrderEvent, type OrderEvent } from '../shared/order-event.js';
import { INVENTORY_GROUP, INVENTORY_TOPIC, ORDERS_TOPIC } from '../shared/topics.js';
import { registerLz4Codec } from './kafkajs-lz4.js';
import type { StockLedger } from './stock-ledger.js';

/**
 * Order lines planned and sent together (whole orders, at least one). A line makes one event,
 * and each SKU crosses the low-stock and zero marks at most once, so a chunk has at most this
 * many events plus two per SKU: at ~190 bytes a record (as the order service writes order ids)
 * 5,024 of them make 955 KB, under the 1 MiB a record batch may have even were they all on one
 * partition. Smaller chunks cost throughput: the service waits for each send's acks (1,000
 * orders a send made 26,132-33,771 updates/s in bench/production-demo.ts, this 40,161-49,641).
 */
const LINES_PER_SEND = 5000;

export interface WorkerStats {
  orders_processed: number;
  invalid_records: number;
  updates_produced: number;
  events: Record<InventoryEventType, number>;
}

/**
 * The Kafka door: a kafkajs consumer in group `inventory-service` reads `orders` a batch at a
 * time; its reservations go to `inventory-updates` in kafkajs sends of LINES_PER_SEND lines,
 * keyed by SKU (kafkajs's default partitioner is Kafka's murmur2), and each chunk counts and is
 * committed in the ledger only after its send (a redelivered batch skips the chunks done).
 */
export class InventoryWorker {
  readonly stats: WorkerStats = { orders_processed: 0, invalid_records: 0, updates_produced: 0, events: { reserved: 0, rejected: 0, low_stock: 0, out_of_stock: 0 } };
  private readonly consumer: Consumer;
  private readonly producer: Producer;

  constructor(
    brokers: string[],
    private readonly ledger: StockLedger,
  ) {
    registerLz4Codec();
    const { Kafka, logLevel, Partitioners } = kafkajs;
    const kafka = new Kafka({ clientId: 'inventory-service', brokers, logLevel: logLevel.ERROR });
    this.consumer = kafka.consumer({ groupId: INVENTORY_GROUP, maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024, maxWaitTimeInMs: 100 });
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  }

  async start(): Promise<void> {
    await this.producer.connect();
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
        // a fetched batch can hold tens of thousands of orders: one produce of all their events
        // would pass the broker's message.max.bytes, so each chunk is planned, sent, committed
        for (let i = 0; i < orders.length; ) {
          let end = i + 1;
          for (let lines = orders[i]!.items.length; end < orders.length && lines + orders[end]!.items.length <= LINES_PER_SEND; end++) lines += orders[end]!.items.length;
          const chunk = orders.slice(i, end);
          i = end;
          const plan = this.ledger.plan(chunk);
          if (plan.events.length > 0) {
            await this.producer.send({ topic: INVENTORY_TOPIC, acks: -1, messages: plan.events.map((e) => ({ key: e.sku, value: encodeInventoryEvent(e) })) });
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
    await this.producer.disconnect();
  }
}
