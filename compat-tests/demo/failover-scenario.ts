// Two analytics-service instances in group analytics-pipeline share the six partitions of
// `orders`; one is killed with SIGKILL; the other takes all six within the session timeout and
// its totals stay exact (each order once) through more orders; the killed one is started again
// and the two share the partitions and add up exactly once more. Used on one broker
// (compat-tests/demo) and with the services on different agents of a cluster
// (compat-tests/cluster/production-demo-cluster.test.ts).

import { expect } from 'vitest';
import { ANALYTICS_GROUP, ORDERS_PARTITIONS } from '../../examples/production-demo/src/shared/topics.js';
import { generateOrders, type GeneratedOrder } from '../../examples/production-demo/src/tools/order-generator.js';
import { AdminClient } from '../../src/grpc/client/index.js';
import { getJson, postJson, startService, until, type AnalyticsStatsBody, type DemoService, type OrderAnswer } from './demo-services.js';
import { analyticsFigures, expectedAnalytics, mergedFigures, type SentOrder } from './expected-analytics.js';

export const SESSION_TIMEOUT_MS = 6000;
const ALL = [...Array(ORDERS_PARTITIONS).keys()];

export interface FailoverSetup {
  /** gRPC address(es) the order service produces through (STREAMHOUSE_ADDR; a cluster's agents, comma-separated). */
  readonly orderGrpc: string;
  /** gRPC addresses of the two analytics instances (different agents in a cluster). */
  readonly analyticsGrpc: readonly [string, string];
  /** Where the test asks DescribeGroup. */
  readonly adminGrpc: string;
  readonly kafkaBrokers: string;
  /** Collects the started services so the caller's afterAll stops them. */
  readonly services: DemoService[];
}

export interface FailoverResult {
  readonly partitionsBefore: readonly [number[], number[]];
  readonly tookOverMs: number;
  readonly orders: number;
}

/** POST /orders/batch, `batch` orders a request, all of them; answers in order. */
export async function postBatches(url: string, orders: readonly GeneratedOrder[], batch = 250, concurrency = 4): Promise<SentOrder[]> {
  const chunks: Array<readonly GeneratedOrder[]> = [];
  for (let i = 0; i < orders.length; i += batch) chunks.push(orders.slice(i, i + batch));
  const answers: OrderAnswer[][] = new Array<OrderAnswer[]>(chunks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < chunks.length) {
        const i = next++;
        const res = await postJson<{ accepted: number; failed: number; orders: OrderAnswer[] }>(`${url}/orders/batch`, { orders: chunks[i] });
        if (res.status !== 201 || res.body.failed !== 0) throw new Error(`batch ${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        answers[i] = res.body.orders;
      }
    }),
  );
  return chunks.flatMap((c, i) => c.map((request, j) => ({ request, answer: answers[i]![j]! })));
}

const health = (s: DemoService) => getJson<{ partitions: number[] }>(`${s.url}/health`);
const stats = (s: DemoService) => getJson<AnalyticsStatsBody>(`${s.url}/stats`);

export async function runFailover(setup: FailoverSetup, log: (line: string) => void = console.log): Promise<FailoverResult> {
  const env = { SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS), HEARTBEAT_INTERVAL_MS: '500' };
  const orderService = await startService('order-service', { grpcAddress: setup.orderGrpc, kafkaBrokers: setup.kafkaBrokers });
  setup.services.push(orderService);
  const a = await startService('analytics-service', { grpcAddress: setup.analyticsGrpc[0], kafkaBrokers: setup.kafkaBrokers, env: { ...env, INSTANCE_ID: 'analytics-a' } });
  setup.services.push(a);
  const b = await startService('analytics-service', { grpcAddress: setup.analyticsGrpc[1], kafkaBrokers: setup.kafkaBrokers, env: { ...env, INSTANCE_ID: 'analytics-b' } });
  setup.services.push(b);
  const admin = new AdminClient({ address: setup.adminGrpc });
  try {
    // each gets some, together all, no partition twice; the coordinator agrees
    let pa: number[] = [];
    let pb: number[] = [];
    await until('both instances to own partitions of orders, together all six', async () => {
      [pa, pb] = [(await health(a)).partitions, (await health(b)).partitions];
      return pa.length > 0 && pb.length > 0 && [...pa, ...pb].sort().join() === ALL.join();
    }, 40_000);
    expect(pa.length + pb.length).toBe(ORDERS_PARTITIONS);
    const group = await admin.describeGroup(ANALYTICS_GROUP);
    expect(group.state).toBe('Stable');
    expect(group.members).toHaveLength(2);
    const assigned = group.members.map((m) => m.assignment.flatMap((t) => t.partitions).sort((x, y) => x - y).join()).sort();
    expect(assigned).toEqual([pa.join(), pb.join()].sort());
    log(`analytics-a owns ${pa.join(',')}, analytics-b owns ${pb.join(',')}`);

    // first round: the two instances' figures add up to exactly the orders sent
    const first = await postBatches(orderService.url, generateOrders(1500, { seed: 606 }));
    await until('the two instances to count the first round', async () => (await stats(a)).order_count + (await stats(b)).order_count >= first.length);
    await new Promise((r) => setTimeout(r, 300));
    const [sa, sb] = [await stats(a), await stats(b)];
    expect(sa.partitions.map((p) => p.partition)).toEqual(pa);
    expect(sb.partitions.map((p) => p.partition)).toEqual(pb);
    expect(sa.order_count).toBeGreaterThan(0);
    expect(sb.order_count).toBeGreaterThan(0);
    expect(mergedFigures([analyticsFigures(sa), analyticsFigures(sb)])).toEqual(expectedAnalytics(first));
    // let both commit what they applied (each commits at most a second after a batch)
    await new Promise((r) => setTimeout(r, 1500));

    // SIGKILL one; more orders arrive while the group still waits for it
    await b.kill('SIGKILL');
    const killedAt = Date.now();
    const secondOrders = postBatches(orderService.url, generateOrders(1500, { seed: 707 }));
    await until('the survivor to own all six partitions', async () => (await health(a)).partitions.join() === ALL.join(), SESSION_TIMEOUT_MS + 20_000);
    const tookOverMs = Date.now() - killedAt;
    const second = await secondOrders;
    log(`analytics-a owns all six ${tookOverMs} ms after analytics-b was killed (session timeout ${SESSION_TIMEOUT_MS} ms)`);
    expect(tookOverMs).toBeLessThan(SESSION_TIMEOUT_MS + 3000);

    const all = [...first, ...second];
    await until('the survivor to count every order', async () => (await stats(a)).order_count >= all.length);
    await new Promise((r) => setTimeout(r, 500));
    const after = await stats(a);
    expect(analyticsFigures(after)).toEqual(expectedAnalytics(all));
    expect(after.partitions.map((p) => p.partition)).toEqual(ALL);
    expect(after.partitions.reduce((n, p) => n + p.duplicates, 0)).toBe(0);
    expect(after.partitions.reduce((n, p) => n + Number(p.next_offset), 0)).toBe(all.length);
    const described = await admin.describeGroup(ANALYTICS_GROUP);
    expect(described.members).toHaveLength(1);
    expect(described.members[0]!.assignment.flatMap((t) => t.partitions).sort()).toEqual(ALL);

    // the killed instance comes back (a new process, nothing in memory): the group shares the
    // partitions again, it rebuilds its share from the log, and the two add up exactly again
    const b2 = await startService('analytics-service', { grpcAddress: setup.analyticsGrpc[1], kafkaBrokers: setup.kafkaBrokers, env: { ...env, INSTANCE_ID: 'analytics-b' } });
    setup.services.push(b2);
    let [qa, qb]: number[][] = [[], []];
    await until('the restarted instance to share the partitions again', async () => {
      [qa, qb] = [(await health(a)).partitions, (await health(b2)).partitions];
      return qa.length > 0 && qb.length > 0 && [...qa, ...qb].sort().join() === ALL.join();
    }, 40_000);
    const third = await postBatches(orderService.url, generateOrders(500, { seed: 808 }));
    const everything = [...all, ...third];
    await until('the two to count every order', async () => (await stats(a)).order_count + (await stats(b2)).order_count >= everything.length);
    await new Promise((r) => setTimeout(r, 300));
    const [ta, tb] = [await stats(a), await stats(b2)];
    expect(ta.partitions.map((p) => p.partition)).toEqual(qa);
    expect(tb.partitions.map((p) => p.partition)).toEqual(qb);
    expect(mergedFigures([analyticsFigures(ta), analyticsFigures(tb)])).toEqual(expectedAnalytics(everything));
    expect([...ta.partitions, ...tb.partitions].reduce((n, p) => n + p.duplicates, 0)).toBe(0);
    log(`after the restart: analytics-a owns ${qa.join(',')}, analytics-b ${qb.join(',')}; ${everything.length} orders counted once`);
    return { partitionsBefore: [pa, pb], tookOverMs, orders: everything.length };
  } finally {
    admin.close();
  }
}
