import { ORDERS_TOPIC } from '../shared/topics.js';
import { encodeOrderEvent, type OrderEvent } from '../shared/order-event.js';
import { LeaderRoutedProducer } from '../shared/leader-routed-producer.js';

export interface PublisherStats {
  orders_published: number;
  revenue_published_cents: number;
  publish_failures: number;
  /** Sends retried on another agent after the first one answered that it does not lead the partition. */
  leader_retries: number;
}

/**
 * Writes orders to `orders` keyed by customer id (so one customer's orders stay in order on one
 * partition) through the typed Producer, routed to each partition's leader in a cluster:
 * concurrent requests share batches, and a request's promise resolves once its orders are
 * committed in the log.
 */
export class OrderPublisher {
  private readonly counts = { orders_published: 0, revenue_published_cents: 0, publish_failures: 0 };
  private readonly producer: LeaderRoutedProducer;

  constructor(addresses: readonly string[]) {
    this.producer = new LeaderRoutedProducer(addresses, ORDERS_TOPIC, { lingerMs: 2, batchMaxRecords: 2000, acks: 'all' });
  }

  get stats(): PublisherStats {
    return { ...this.counts, leader_retries: this.producer.leaderRetries };
  }

  /** Publishes the orders; the error of each one that failed (undefined where it was committed). */
  async publish(orders: readonly OrderEvent[]): Promise<Array<unknown>> {
    const results = await Promise.allSettled(orders.map((o) => this.producer.send({ key: o.customer_id, value: encodeOrderEvent(o), timestamp: Date.parse(o.created_at) })));
    return results.map((r, i) => {
      if (r.status === 'rejected') {
        this.counts.publish_failures++;
        return r.reason ?? new Error('publish failed');
      }
      this.counts.orders_published++;
      this.counts.revenue_published_cents += orders[i]!.total_cents;
      return undefined;
    });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
