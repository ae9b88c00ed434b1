// The production demo's analytics failover on a 3-agent cluster: the order service produces
// through all three agents (each partition through its leader), two analytics instances are
// served by agent-1 and agent-2; they share the
// six partitions of `orders`, one is killed with SIGKILL, the other takes all six within the
// session timeout and the totals stay exact (compat-tests/demo/failover-scenario.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinatorShardOf } from '../../src/agent/groups/coordinator-shards.js';
import { ANALYTICS_GROUP, ORDERS_PARTITIONS, ORDERS_TOPIC } from '../../examples/production-demo/src/shared/topics.js';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import type { DemoService } from '../demo/demo-services.js';
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

describe('production demo on a 3-agent cluster: analytics failover', () => {
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
});
