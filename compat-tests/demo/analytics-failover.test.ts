// Two analytics instances of the production demo on one broker share the six partitions of
// `orders`; one is killed with SIGKILL, the other takes all six within the 6 s session timeout
// and the totals stay exact (see failover-scenario.ts). The cluster variant, with the two on
// different agents, is compat-tests/cluster/production-demo-cluster.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import type { DemoService } from './demo-services.js';
import { runFailover, SESSION_TIMEOUT_MS } from './failover-scenario.js';

let broker: BrokerProcess;
const services: DemoService[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false', '--group-initial-rebalance-delay-ms', '0'], logLevel: 'warn' });
});

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.kill('SIGKILL')));
  await broker?.cleanup();
});

describe('production demo: analytics failover', () => {
  it('two instances share the partitions; kill -9 one: the other takes all within the session timeout, totals exact', async () => {
    const address = `http://127.0.0.1:${broker.grpcPort}`;
    const result = await runFailover({ orderGrpc: address, analyticsGrpc: [address, address], adminGrpc: address, kafkaBrokers: broker.bootstrap, services }).catch((err: unknown) => {
      for (const s of services) console.log(`--- ${s.name} (${s.url}):\n${s.output().slice(-3000)}`);
      throw err;
    });
    expect(result.tookOverMs).toBeLessThan(SESSION_TIMEOUT_MS + 3000);
    expect(result.orders).toBe(3500);
  });
});
