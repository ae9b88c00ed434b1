import { ORDERS_TOPIC } from '../shared/topics.js';
import { encodeOrderEvent, type OrderEvent } from '../shared/order-event.js';
import { Producer } from '../shared/streamhouse-client.js';

export interface PublisherStats {
  orders_published: number;
  revenue_published_cents: number;
  publish_failures: number;
}

/**
 * Writes orders to `orders` keyed by customer id (so one customer's orders stay in order on one
 * partition) through the typed Producer, which batches per partition: concurrent requests
 * share batches, and a request's promise resolves once its orders are committed in the log.
 */
export class OrderPublisher {
  readonly stats: PublisherStats = { orders_published: 0, revenue_published_cents: 0, publish_failures: 0 };
  private readonly producer: Producer;

  constructor(address: string) {
    this.producer = new Producer({ address, lingerMs: 2, batchMaxRecords: 2000, acks: 'all' });
  }

  /** Publishes the orders; the error of each one that failed (undefined where it was committed). */
  async publish(orders: readonly OrderEvent[]): Promise<Array<unknown>> {
    const sends = orders.map((o) => this.producer.send({ topic: ORDERS_TOPIC, key: o.customer_id, value: encodeOrderEvent(o), timestamp: Date.parse(o.created_at) }));
    const results = await Promise.allSettled(sends);
    return results.map((r, i) => {
      if (r.status === 'rejected') {
        this.stats.publish_failures++;
        return r.reason ?? new Error('publish failed');
      }
      this.stats.orders_published++;
      this.stats.revenue_published_cents += orders[i]!.total_cents;
      return undefined;
    });
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}
