import { AdminClient, partitionForKey, Producer, StreamHouseError, type ProducerOptions } from './streamhouse-client.js';

const ATTEMPTS = 3;

export interface KeyedRecord {
  readonly key: string;
  readonly value: Buffer;
  readonly timestamp?: number;
}

/**
 * Sends keyed records to one topic through the typed Producer, which batches per partition
 * and resolves a send once its record is committed in the log.
 *
 * With one address the Producer there picks the partition (murmur2 of the key). An agent of a
 * cluster only appends to the partitions it leads, so with several addresses (the cluster's
 * agents) the partition is picked here, the record goes through the agent that leads it
 * (DescribeTopic), and on a refusal the leaders are looked up again and the send retried.
 */
export class LeaderRoutedProducer {
  /** Sends retried on another agent after the first one answered that it does not lead the partition. */
  leaderRetries = 0;
  private readonly producers: Producer[];
  /** partition -> index into producers/addresses; undefined until looked up (one address: never needed). */
  private routes: Promise<number[]> | undefined;

  constructor(
    private readonly addresses: readonly string[],
    private readonly topic: string,
    options: Omit<ProducerOptions, 'address'>,
  ) {
    if (addresses.length === 0) throw new Error('no broker address');
    this.producers = addresses.map((address) => new Producer({ ...options, address }));
  }

  async send(record: KeyedRecord): Promise<void> {
    const r = { topic: this.topic, key: record.key, value: record.value, ...(record.timestamp !== undefined ? { timestamp: record.timestamp } : {}) };
    if (this.producers.length === 1) {
      await this.producers[0]!.send(r);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const routes = await (this.routes ??= this.lookUpLeaders());
        const partition = partitionForKey(Buffer.from(record.key), routes.length);
        await this.producers[routes[partition]!]!.send({ ...r, partition });
        return;
      } catch (err) {
        this.routes = undefined;
        if (attempt >= ATTEMPTS || !(err instanceof StreamHouseError) || !err.retriable) throw err;
        this.leaderRetries++;
      }
    }
  }

  /** Which address leads each partition of the topic (the first address where none is known). */
  private async lookUpLeaders(): Promise<number[]> {
    const admins = this.addresses.map((address) => new AdminClient({ address }));
    try {
      // an agent lists itself with its gRPC port (others with 0): that names the agent behind an address
      const self = await Promise.all(admins.map(async (a) => (await a.listAgents()).find((agent) => agent.grpcPort > 0)?.agentId));
      const topic = await admins[0]!.describeTopic(this.topic);
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
