// The production demo's analytics failover on a 3-agent cluster: the order service produces
// through all three agents (each partition through its leader), two analytics instances are
// served by agent-1 and agent-2; they share the
// six partitions of `orders`, one is killed with SIGKILL, the other takes all six within the
// session timeout and the totals stay exact (compat-tests/demo/failover-scenario.ts). Then an
// inventory service given all three agents reserves every order line, each update written
// through the agent that leads its partition of `inventory-updates`.

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../examples/production-demo/src/shared/catalog.js';
import { decodeInventoryEvent } from '../../examples/production-demo/src/shared/inventory-event.js';
import { decodeOrderEvent } from '../../examples/production-demo/src/shared/order-event.js';
import { registerLz4Codec } from '../../examples/production-demo/src/inventory-service/kafkajs-lz4.js';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { coordinatorShardOf } from '../../src/agent/groups/coordinator-shards.js';
import { ANALYTICS_GROUP, INVENTORY_PARTITIONS, INVENTORY_TOPIC, ORDERS_PARTITIONS, ORDERS_TOPIC } from '../../examples/production-demo/src/shared/topics.js';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import { getJson, startService, until, type DemoService, type InventoryBody, type InventoryStatsBody } from '../demo/demo-services.js';
import { expectedEvents } from '../demo/inventory-check.js';
import { runFailover, SESSION_TIMEOUT_MS } from '../demo/failover-scenario.js';
import { createTopic, startCluster, waitForLeaders, type Cluster } from './support.js';

let cluster: Cluster;
const services: DemoService[] = [];

beforeAll(async () => {
  cluster = await startCluster('demofailover', 3, () => ({ env: { STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } }));
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.kill('SIGKILL')));
  await cluster?.stop();
});

describe('production demo on a 3-agent cluster', () => {
  it('instances on agent-1 and agent-2 share the partitions; kill -9 one: the other takes all, totals exact', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, ORDERS_TOPIC, ORDERS_PARTITIONS);
    const leaders = await waitForLeaders(brokers[0]!, ORDERS_TOPIC, ORDERS_PARTITIONS);
    const [zero, one, two] = cluster.agents as [BrokerProcess, BrokerProcess, BrokerProcess];
    const grpc = (agent: BrokerProcess) => `http://127.0.0.1:${agent.grpcPort}`;
    const shard = (await cluster.leases('group-shard/')).find((l) => l.resource === `group-shard/${coordinatorShardOf(ANALYTICS_GROUP)}`);
    console.log(`orders leaders by node: ${JSON.stringify([...leaders])}; ${ANALYTICS_GROUP} coordinated by ${shard?.owner ?? '(no lease yet)'}`);
    const result = await runFailover({ orderGrpc: cluster.agents.map(grpc).join(','), analyticsGrpc: [grpc(one), grpc(two)], adminGrpc: grpc(zero), kafkaBrokers: brokers.join(','), services }).catch((err: unknown) => {
      for (const s of services) console.log(`--- ${s.name} (${s.url}):\n${s.output().slice(-3000)}`);
      throw err;
    });
    expect(result.tookOverMs).toBeLessThan(SESSION_TIMEOUT_MS + 3000);
    expect(result.orders).toBe(3500);
  });

  it('an inventory service given every agent writes each update through its partition leader; levels exact', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, INVENTORY_TOPIC, INVENTORY_PARTITIONS);
    const leaders = await waitForLeaders(brokers[0]!, INVENTORY_TOPIC, INVENTORY_PARTITIONS);
    console.log(`${INVENTORY_TOPIC} leaders by node: ${JSON.stringify([...leaders])}`);
    const grpc = (agent: BrokerProcess) => `http://127.0.0.1:${agent.grpcPort}`;
    const inventory = await startService('inventory-service', { grpcAddress: cluster.agents.map(grpc).join(','), kafkaBrokers: brokers.join(',') });
    services.push(inventory);
    let stats: InventoryStatsBody | undefined;
    await until('inventory to process the 3500 orders of the first test', async () => {
      stats = await getJson<InventoryStatsBody>(`${inventory.url}/stats`);
      return stats.orders_processed >= 3500;
    }, 60_000);
    expect(stats!.orders_processed).toBe(3500);
    expect(stats!.invalid_records).toBe(0);

    // inventory-updates and orders read back with kafkajs from the cluster
    const read = (await readAll(brokers, INVENTORY_TOPIC, stats!.updates_produced)).map((m) => ({ ...m, event: decodeInventoryEvent(m.value)! }));
    const orders = (await readAll(brokers, ORDERS_TOPIC, 3500)).map((m) => decodeOrderEvent(m.value)!);
    // every order line met exactly once (reserved or rejected)
    const lines = orders.flatMap((o) => o.items.map((l) => `${o.order_id}/${l.sku}/${l.quantity}`)).sort();
    const lineEvents = read.filter((u) => u.event.type === 'reserved' || u.event.type === 'rejected').map((u) => `${u.event.order_id}/${u.event.sku}/${u.event.quantity}`).sort();
    expect(lineEvents).toEqual(lines);
    expect(read).toHaveLength(stats!.updates_produced);
    for (const u of read) {
      expect(u.key).toBe(u.event.sku);
      expect(u.partition).toBe(partitionForKey(Buffer.from(u.key), INVENTORY_PARTITIONS));
    }
    // every partition that has updates is led by some agent, and the updates came through several
    const used = new Set(read.map((u) => u.partition));
    console.log(`updates on partitions ${JSON.stringify([...used].sort())}, led by nodes ${JSON.stringify([...new Set([...used].map((p) => leaders.get(p)))])}`);
    const levels = await getJson<InventoryBody>(`${inventory.url}/inventory`);
    const bySku = new Map(levels.items.map((i) => [i.sku, i]));
    for (const p of CATALOG) {
      const own = read.filter((u) => u.event.sku === p.sku).sort((a, b) => a.offset - b.offset);
      const lines = own.map((u) => u.event).filter((e) => e.type === 'reserved' || e.type === 'rejected');
      const item = bySku.get(p.sku)!;
      const want = expectedEvents(p.sku, item.initial, lines);
      expect(own.map((u) => ({ type: u.event.type, sku: u.event.sku, order_id: u.event.order_id, quantity: u.event.quantity, available: u.event.available }))).toEqual(want.events);
      expect(item.available).toBe(want.level);
    }
  }, 120_000);
});

/** Every record of a topic through a kafkajs consumer of its own group, once `count` came (and no more turned up). */
async function readAll(brokers: string[], topic: string, count: number): Promise<Array<{ partition: number; offset: number; key: string; value: Buffer | null }>> {
  // `orders` holds the typed Producer's LZ4 batches
  registerLz4Codec();
  const kafka = new Kafka({ clientId: 'demo-cluster-test', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `demo-cluster-reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const read: Array<{ partition: number; offset: number; key: string; value: Buffer | null }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        read.push({ partition, offset: Number(message.offset), key: message.key?.toString('utf8') ?? '', value: message.value });
      },
    });
    await until(`${count} records of ${topic} read back`, () => read.length >= count, 30_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return read;
}
