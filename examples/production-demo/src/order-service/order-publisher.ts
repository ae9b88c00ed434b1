import { ORDERS_TOPIC } from '../shared/topics.js';
import { encodeOrderEvent, type OrderEvent } from '../shared/order-event.js';
import { AdminClient, partitionForKey, Producer, StreamHouseError } from '../shared/streamhouse-client.js';

export interface PublisherStats {
  orders_published: number;
  revenue_published_cents: number;
  publish_failures: number;
  /** Sends retried on another agent after the first one answered that it does not lead the partition. */
  leader_retries: number;
}

const ATTEMPTS = 3;

/**
 * Writes orders to `orders` keyed by customer id (so one customer's orders stay in order on one
 * partition) through the typed Producer, which batches per partition: concurrent requests
 * share batches, and a request's promise resolves once its orders are committed in the log.
 *
 * With one address the Producer there picks the partition (murmur2 of the key). An agent of a
 * cluster only appends to the partitions it leads, so with several addresses (the cluster's
 * agents) the publisher picks the partition itself, sends it through the agent that leads it
 * (DescribeTopic), and on a refusal asks again where the leaders are and retries.
 */
export class OrderPublisher {
  readonly stats: PublisherStats = { orders_published: 0, revenue_published_cents: 0, publish_failures: 0, leader_retries: 0 };
  private readonly producers: Producer[];
  /** partition -> index into producers/addresses; undefined until looked up (one address: never needed). */
  private routes: Promise<number[]> | undefined;

  constructor(private readonly addresses: readonly string[]) {
    if (addresses.length === 0) throw new Error('no broker address');
    this.producers = addresses.map((address) => new Producer({ address, lingerMs: 2, batchMaxRecords: 2000, acks: 'all' }));
  }

  /** Publishes the orders; the error of each one that failed (undefined where it was committed). */
  async publish(orders: readonly OrderEvent[]): Promise<Array<unknown>> {
    const results = await Promise.allSettled(orders.map((o) => this.send(o)));
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

  private async send(o: OrderEvent): Promise<void> {
    const record = { topic: ORDERS_TOPIC, key: o.customer_id, value: encodeOrderEvent(o), timestamp: Date.parse(o.created_at) };
    if (this.producers.length === 1) {
      await this.producers[0]!.send(record);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const routes = await (this.routes ??= this.lookUpLeaders());
        const partition = partitionForKey(Buffer.from(o.customer_id), routes.length);
        await this.producers[routes[partition]!]!.send({ ...record, partition });
        return;
      } catch (err) {
        this.routes = undefined;
        if (attempt >= ATTEMPTS || !(err instanceof StreamHouseError) || !err.retriable) throw err;
        this.stats.leader_retries++;
      }
    }
  }

  /** Which address leads each partition of `orders` (the first address where none is known). */
  private async lookUpLeaders(): Promise<number[]> {
    const admins = this.addresses.map((address) => new AdminClient({ address }));
    try {
      // an agent lists itself with its gRPC port (others with 0): that names the agent behind an address
      const self = await Promise.all(admins.map(async (a) => (await a.listAgents()).find((agent) => agent.grpcPort > 0)?.agentId));
      const topic = await admins[0]!.describeTopic(ORDERS_TOPIC);
      return topic.partitions
        .slice()
        .sort((x, y) => x.partition - y.partition)
        .map((p) => Math.max(0, self.indexOf(p.leaderAgentId)));
    } finally {
      for (const a of admins) a.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((p) => p.close()));
  }
}
