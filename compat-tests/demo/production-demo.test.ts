// The production demo end to end (issue #17): a real broker process, the three services as
// real processes started as run-demo.sh starts them, 2,000 orders through POST /orders. The
// analytics totals must equal what the order answers add up to, the inventory levels the
// initial stock minus what was ordered, every inventory update must be keyed by its SKU and sit
// in the partition Kafka's murmur2 partitioner picks, and the low/out-of-stock events must
// appear exactly where the stock crosses the thresholds. A restarted inventory service
// rebuilds the same levels from inventory-updates.

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../examples/production-demo/src/shared/catalog.js';
import { decodeInventoryEvent, type InventoryEvent } from '../../examples/production-demo/src/shared/inventory-event.js';
import { INVENTORY_PARTITIONS, INVENTORY_TOPIC, ORDERS_PARTITIONS } from '../../examples/production-demo/src/shared/topics.js';
import { generateOrders, type GeneratedOrder } from '../../examples/production-demo/src/tools/order-generator.js';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { AdminClient } from '../../src/grpc/client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { cents, getJson, postJson, startService, until, type AnalyticsStatsBody, type DemoService, type InventoryBody, type InventoryStatsBody, type OrderAnswer } from './demo-services.js';
import { analyticsFigures, expectedAnalytics, listPriceCents, type SentOrder } from './expected-analytics.js';
import { expectedEvents, lowStockThreshold, shape } from './inventory-check.js';

const ORDERS = 2000;
const CONCURRENCY = 128;
const requests = generateOrders(ORDERS, { seed: 1717 });

// Per-SKU demand of these orders; three SKUs get a stock that makes them cross the thresholds.
const demand = new Map<string, number>(CATALOG.map((p) => [p.sku, 0]));
for (const o of requests) for (const l of o.items) demand.set(l.sku, demand.get(l.sku)! + l.quantity);
const EXACT_OUT = 'SKU-MONITOR'; // stock == demand: ends at exactly 0, never refuses a line
const SHORT = 'SKU-DESK'; // 25 short: some lines are refused
const LOW = 'SKU-CHAIR'; // 50 left: below its low-stock threshold, not out
const stockOverride: Record<string, number> = { [EXACT_OUT]: demand.get(EXACT_OUT)!, [SHORT]: demand.get(SHORT)! - 25, [LOW]: demand.get(LOW)! + 50 };
const initial = new Map(CATALOG.map((p) => [p.sku, stockOverride[p.sku] ?? p.initialStock]));

let broker: BrokerProcess;
let grpcAddress: string;
const services: DemoService[] = [];
let orderService: DemoService;
let analytics: DemoService;
let inventory: DemoService;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false', '--group-initial-rebalance-delay-ms', '0'], logLevel: 'warn' });
  grpcAddress = `http://127.0.0.1:${broker.grpcPort}`;
  const base = { grpcAddress, kafkaBrokers: broker.bootstrap };
  [orderService, analytics, inventory] = await Promise.all([
    startService('order-service', base),
    startService('analytics-service', { ...base, env: { INSTANCE_ID: 'analytics-1' } }),
    startService('inventory-service', { ...base, env: { DEMO_INITIAL_STOCK: JSON.stringify(stockOverride) } }),
  ]);
  services.push(orderService, analytics, inventory);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.stop()));
  await broker?.cleanup();
});

/** Posts every request to POST /orders, `concurrency` at a time; the answers in request order. */
async function postOrders(url: string, orders: readonly GeneratedOrder[], concurrency: number): Promise<SentOrder[]> {
  const out: SentOrder[] = new Array<SentOrder>(orders.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < orders.length) {
        const i = next++;
        const res = await postJson<OrderAnswer>(`${url}/orders`, orders[i]);
        if (res.status !== 201) throw new Error(`order ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        out[i] = { request: orders[i]!, answer: res.body };
      }
    }),
  );
  return out;
}

interface ReadUpdate {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly keyBytes: Buffer | null;
  readonly event: InventoryEvent | undefined;
}

/** All of inventory-updates through a kafkajs consumer of its own group, until `count` records came. */
async function readInventoryUpdates(count: number): Promise<ReadUpdate[]> {
  const kafka = new Kafka({ clientId: 'demo-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `demo-test-reader-${Date.now()}`, maxWaitTimeInMs: 100 });
  const read: ReadUpdate[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: INVENTORY_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        read.push({ partition, offset: Number(message.offset), key: message.key?.toString('utf8') ?? null, keyBytes: message.key, event: decodeInventoryEvent(message.value) });
      },
    });
    await until(`${count} inventory updates read back`, () => read.length >= count, 30_000);
    // nothing more than that turns up
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return read;
}

describe('production demo end to end', () => {
  it(`${ORDERS} orders through POST /orders: exact analytics, inventory, keyed updates and threshold events`, async () => {
    // the stock chosen above does what it is meant to with these orders
    expect(lowStockThreshold(stockOverride[LOW]!)).toBeGreaterThanOrEqual(50);
    expect(lowStockThreshold(stockOverride[EXACT_OUT]!)).toBeGreaterThan(2);
    for (const [sku, d] of demand) if (!(sku in stockOverride)) expect(initial.get(sku)! - d).toBeGreaterThan(lowStockThreshold(initial.get(sku)!));

    // health of all three
    expect(await getJson(`${orderService.url}/health`)).toEqual({ status: 'ok', service: 'order-service' });
    expect(await getJson(`${inventory.url}/health`)).toEqual({ status: 'ok', service: 'inventory-service' });
    expect(await getJson(`${analytics.url}/health`)).toMatchObject({ status: 'ok', service: 'analytics-service', instance: 'analytics-1' });

    // a bad order is refused and published nowhere
    const bad = await postJson<{ error: string }>(`${orderService.url}/orders`, { customer_id: 'c-1', items: [{ sku: 'SKU-NOPE', quantity: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/SKU-NOPE/);
    const zero = await postJson<{ error: string }>(`${orderService.url}/orders`, { customer_id: 'c-1', items: [{ sku: 'SKU-MOUSE', quantity: 0 }] });
    expect(zero.status).toBe(400);

    const started = Date.now();
    const sent = await postOrders(orderService.url, requests, CONCURRENCY);
    const postSeconds = (Date.now() - started) / 1000;
    expect(sent.every((o) => o.answer.status === 'accepted')).toBe(true);
    expect(new Set(sent.map((o) => o.answer.order_id)).size).toBe(ORDERS);
    // priced from the catalog, stamped now (not some fixed date)
    for (const o of sent) {
      expect(cents(o.answer.total_amount)).toBe(listPriceCents(o.request));
      expect(Math.abs(Date.parse(o.answer.created_at) - Date.now())).toBeLessThan(120_000);
    }
    const expected = expectedAnalytics(sent);
    expect(expected.order_count).toBe(ORDERS);

    // the order service's own figures
    const orderStats = await getJson<{ orders_published: number; revenue_published_cents: number; publish_failures: number; invalid: number }>(`${orderService.url}/stats`);
    expect(orderStats).toMatchObject({ orders_published: ORDERS, revenue_published_cents: expected.total_revenue_cents, publish_failures: 0, invalid: 2 });

    // analytics: every order counted once, the rankings exact
    let stats: AnalyticsStatsBody | undefined;
    await until('analytics to count every order', async () => {
      stats = await getJson<AnalyticsStatsBody>(`${analytics.url}/stats`);
      return stats.order_count >= ORDERS;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    stats = await getJson<AnalyticsStatsBody>(`${analytics.url}/stats`);
    expect(analyticsFigures(stats)).toEqual(expected);
    expect(stats.total_revenue).toBe(expected.total_revenue_cents / 100);
    expect(stats.partitions.map((p) => p.partition)).toEqual([...Array(ORDERS_PARTITIONS).keys()]);
    expect(stats.partitions.reduce((n, p) => n + p.duplicates, 0)).toBe(0);
    expect(stats.partitions.reduce((n, p) => n + Number(p.next_offset), 0)).toBe(ORDERS);
    // the group's view: one member with all six partitions
    const admin = new AdminClient({ address: grpcAddress });
    try {
      const group = await admin.describeGroup('analytics-pipeline');
      expect(group.members).toHaveLength(1);
      expect(group.members[0]!.assignment.flatMap((a) => a.partitions).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      admin.close();
    }

    // the dashboard page
    const page = await fetch(`${analytics.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Orders analytics');
    expect(html).toMatch(/setInterval\(refresh, 1000\)/);
    expect(html).toContain("fetch('stats')");

    // inventory: the service has processed every order
    let invStats: InventoryStatsBody | undefined;
    await until('inventory to process every order', async () => {
      invStats = await getJson<InventoryStatsBody>(`${inventory.url}/stats`);
      return invStats.orders_processed >= ORDERS;
    }, 30_000);
    invStats = await getJson<InventoryStatsBody>(`${inventory.url}/stats`);
    expect(invStats.orders_processed).toBe(ORDERS);
    expect(invStats.invalid_records).toBe(0);

    // inventory-updates read back with kafkajs: keyed by SKU, in murmur2's partition for the key
    const updates = await readInventoryUpdates(invStats.updates_produced);
    expect(updates).toHaveLength(invStats.updates_produced);
    for (const u of updates) {
      expect(u.event).toBeDefined();
      expect(u.key).toBe(u.event!.sku);
      expect(u.partition).toBe(partitionForKey(u.keyBytes!, INVENTORY_PARTITIONS));
    }
    expect(new Set(updates.map((u) => u.partition)).size).toBeGreaterThan(1);
    const events = updates.map((u) => u.event!);
    const counts = { reserved: 0, rejected: 0, low_stock: 0, out_of_stock: 0 };
    for (const e of events) counts[e.type]++;
    expect(invStats.events).toEqual(counts);

    // every order line met exactly once (reserved or rejected)
    const lines = sent.flatMap((o) => o.request.items.map((l) => `${o.answer.order_id}/${l.sku}/${l.quantity}`)).sort();
    const lineEvents = events.filter((e) => e.type === 'reserved' || e.type === 'rejected').map((e) => `${e.order_id}/${e.sku}/${e.quantity}`).sort();
    expect(lineEvents).toEqual(lines);

    // per SKU, in its partition's offset order: exactly the events its stock and lines give
    const levels = await getJson<InventoryBody>(`${inventory.url}/inventory`);
    const bySku = new Map(levels.items.map((i) => [i.sku, i]));
    for (const p of CATALOG) {
      const own = updates.filter((u) => u.event!.sku === p.sku).sort((a, b) => a.offset - b.offset);
      expect(new Set(own.map((u) => u.partition)).size).toBe(1);
      const order = own.map((u) => u.event!).filter((e) => e.type === 'reserved' || e.type === 'rejected');
      const want = expectedEvents(p.sku, initial.get(p.sku)!, order);
      expect(own.map((u) => shape(u.event!))).toEqual(want.events);
      const item = bySku.get(p.sku)!;
      expect(item.initial).toBe(initial.get(p.sku));
      expect(item.available).toBe(want.level);
      const reserved = order.filter((e) => e.type === 'reserved').reduce((n, e) => n + e.quantity, 0);
      expect(item.reserved).toBe(reserved);
      if (p.sku !== SHORT) {
        // enough stock: the level is the initial stock minus everything ordered, nothing refused
        expect(item.available).toBe(initial.get(p.sku)! - demand.get(p.sku)!);
        expect(order.every((e) => e.type === 'reserved')).toBe(true);
      }
    }
    const kinds = (sku: string) => events.filter((e) => e.sku === sku && (e.type === 'low_stock' || e.type === 'out_of_stock')).map((e) => e.type);
    expect(bySku.get(EXACT_OUT)).toMatchObject({ available: 0, status: 'out_of_stock' });
    expect(kinds(EXACT_OUT)).toEqual(['low_stock', 'out_of_stock']);
    expect(bySku.get(LOW)).toMatchObject({ available: 50, status: 'low_stock' });
    expect(kinds(LOW)).toEqual(['low_stock']);
    // 25 short with lines of at most 3: some refused, and at most 2 left (else every line fitted)
    expect(events.filter((e) => e.sku === SHORT && e.type === 'rejected').length).toBeGreaterThan(0);
    expect(bySku.get(SHORT)!.available).toBeLessThanOrEqual(2);
    expect(kinds(SHORT)[0]).toBe('low_stock');
    for (const p of CATALOG) if (!(p.sku in stockOverride)) expect(kinds(p.sku)).toEqual([]);

    // a restarted inventory service rebuilds the same levels from inventory-updates
    await inventory.stop();
    const again = await startService('inventory-service', { grpcAddress, kafkaBrokers: broker.bootstrap, env: { DEMO_INITIAL_STOCK: JSON.stringify(stockOverride) } });
    services.push(again);
    const rebuilt = await getJson<{ rebuilt_from_events: number; orders_processed: number }>(`${again.url}/stats`);
    expect(rebuilt.rebuilt_from_events).toBe(updates.length);
    expect((await getJson<InventoryBody>(`${again.url}/inventory`)).items).toEqual(levels.items);
    // and it neither reserves again nor writes updates for the orders it had done (its group
    // resumes after them; were any redelivered, their lines are known as applied)
    await new Promise((r) => setTimeout(r, 1500));
    const afterRestart = await getJson<InventoryStatsBody>(`${again.url}/stats`);
    expect(afterRestart.updates_produced).toBe(0);
    expect((await getJson<InventoryBody>(`${again.url}/inventory`)).items).toEqual(levels.items);

    console.log(`${ORDERS} orders posted in ${postSeconds.toFixed(1)} s (${Math.round(ORDERS / postSeconds)}/s, ${CONCURRENCY} at a time); ${updates.length} inventory updates (${JSON.stringify(counts)})`);
  });
});
