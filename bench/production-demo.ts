/**
 * The production demo's throughput (issue #17): one broker process and the demo's services as
 * processes (examples/production-demo, started as run-demo.sh starts them).
 *   1. orders/s through the order service: POST /orders/batch (--batch orders a request,
 *      --concurrency requests at a time) until every order is committed in `orders`; only
 *      the broker and the order service run;
 *   2. events/s through analytics: an analytics-service started on that backlog, from its first
 *      applied record until it has counted every order (group analytics-pipeline, typed gRPC
 *      Consumer);
 *   3. inventory updates/s: an inventory-service (kafkajs consumer, typed gRPC Producer) started on the backlog, from its first
 *      produced update until it has reserved every order line into `inventory-updates`;
 *   4. live: all three running while more orders come in, until both consumers caught up.
 * Each figure is checked (counts and revenue equal what was sent), else the script fails.
 *   npm run build && npx tsx bench/production-demo.ts [--orders 200000] [--batch 1000] [--concurrency 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBrokerProcess } from '../test-kit/broker-process.js';
import { getJson, startService, type AnalyticsStatsBody, type DemoService, type InventoryStatsBody } from '../compat-tests/demo/demo-services.js';
import { generateOrders, type GeneratedOrder } from '../examples/production-demo/src/tools/order-generator.js';
import { intFlag, parseFlags } from './lib/args.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { cpuMeter } from './lib/process-cpu.js';
import { appendResult, fmt } from './lib/results-file.js';

const flags = parseFlags('production-demo.ts', {
  orders: { default: '200000', help: 'orders of the backlog phases (1-3)' },
  'live-orders': { default: '100000', help: 'orders of the live phase (4); 0 skips it' },
  batch: { default: '1000', help: 'orders per POST /orders/batch' },
  concurrency: { default: '4', help: 'POST /orders/batch requests in flight' },
  'cpu-prof-dir': { default: '', help: 'write a .cpuprofile of each service (node --cpu-prof) into this directory' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});
const ORDERS = intFlag(flags.orders, 'orders', 1);
const LIVE = intFlag(flags['live-orders'], 'live-orders', 0);
const BATCH = intFlag(flags.batch, 'batch', 1);
const CONCURRENCY = intFlag(flags.concurrency, 'concurrency', 1);

interface Sent {
  readonly accepted: number;
  readonly cents: number;
  readonly lines: number;
  readonly seconds: number;
}

/** Request bodies made up front, so the sending loop costs only the HTTP round trips. */
function bodies(orders: readonly GeneratedOrder[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < orders.length; i += BATCH) out.push(JSON.stringify({ orders: orders.slice(i, i + BATCH) }));
  return out;
}

async function post(url: string, batches: readonly string[], lines: number): Promise<Sent> {
  let next = 0;
  let accepted = 0;
  let cents = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) {
        const body = batches[next++]!;
        const res = await fetch(`${url}/orders/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const answer = (await res.json()) as { accepted: number; failed: number; orders: Array<{ total_amount: number }> };
        if (res.status !== 201 || answer.failed !== 0) throw new Error(`POST /orders/batch: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
        accepted += answer.accepted;
        for (const o of answer.orders) cents += Math.round(o.total_amount * 100);
      }
    }),
  );
  return { accepted, cents, lines, seconds: (performance.now() - started) / 1000 };
}

/** Polls `read` every 50 ms; seconds from the first nonzero reading to reaching `target`. */
async function timeToReach(what: string, read: () => Promise<number>, target: number, timeoutMs = 300_000): Promise<{ seconds: number; fromStartSeconds: number }> {
  const begun = performance.now();
  let first: number | undefined;
  let last = 0;
  for (;;) {
    last = await read();
    const now = performance.now();
    if (last > 0 && first === undefined) first = now;
    if (last >= target) return { seconds: (now - (first ?? now)) / 1000, fromStartSeconds: (now - begun) / 1000 };
    if (now - begun > timeoutMs) throw new Error(`${what}: ${last} of ${target} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

const lineCount = (orders: readonly GeneratedOrder[]): number => orders.reduce((n, o) => n + o.items.length, 0);
const report = (label: string, n: number, unit: string, seconds: number, extra = ''): void => {
  console.log(`${label.padEnd(34)} ${fmt(n).padStart(9)} ${unit.padEnd(8)} ${seconds.toFixed(2).padStart(6)} s  ${fmt(n / seconds).padStart(9)} ${unit}/s${extra}`);
};
/** CPU of the broker and of the service from now to the call, in cores. */
const meters = (service: DemoService): (() => { brokerCpu: number | undefined; serviceCpu: number | undefined }) => {
  const b = cpuMeter(broker.process.pid!);
  const s = cpuMeter(service.process.pid!);
  return () => ({ brokerCpu: b(), serviceCpu: s() });
};
const cpuText = (c: { brokerCpu: number | undefined; serviceCpu: number | undefined }): string => `; CPU broker ${fmt((c.brokerCpu ?? NaN) * 100)}%, service ${fmt((c.serviceCpu ?? NaN) * 100)}%`;

const logDir = mkdtempSync(join(tmpdir(), 'streamhouse-demo-bench-'));
const broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false', '--group-initial-rebalance-delay-ms', '0'], logLevel: 'warn', logFile: join(logDir, 'broker.log'), readyTimeoutMs: 30_000 });
const services: DemoService[] = [];
try {
  const prof = flags['cpu-prof-dir'];
  const profArgs = (name: string): string[] => (prof === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(prof, name)}`]);
  const base = { grpcAddress: `http://127.0.0.1:${broker.grpcPort}`, kafkaBrokers: broker.bootstrap };
  const backlog = generateOrders(ORDERS, { seed: 1 });
  const warm = generateOrders(Math.min(20_000, ORDERS), { seed: 2 });
  console.log(`one broker process (embedded: SQLite + local directory), ${ORDERS} orders (${lineCount(backlog)} lines) in POST /orders/batch of ${BATCH}, ${CONCURRENCY} in flight; ${describeLoad(machineLoad())}`);

  // 1. the order service alone (with the broker)
  const orderService = await startService('order-service', { ...base, nodeArgs: profArgs('order-service') });
  services.push(orderService);
  await post(orderService.url, bodies(warm), lineCount(warm)); // JIT and connections warm, not counted
  const backlogBodies = bodies(backlog);
  const orderCpu = meters(orderService);
  const sent = await post(orderService.url, backlogBodies, lineCount(backlog));
  const oc = orderCpu();
  if (sent.accepted !== backlog.length) throw new Error(`accepted ${sent.accepted} of ${backlog.length}`);
  report('order-service POST /orders/batch', sent.accepted, 'orders', sent.seconds, cpuText(oc));
  appendResult(flags['json-out'], { script: 'production-demo', label: 'demo orders', recordsPerSecond: sent.accepted / sent.seconds, records: sent.accepted, seconds: sent.seconds, ...oc, cpuPressurePct: machineLoad().cpuPressurePct });
  const total = warm.length + backlog.length;
  const published = await getJson<{ orders_published: number; revenue_published_cents: number }>(`${orderService.url}/stats`);
  if (published.orders_published !== total) throw new Error(`order-service published ${published.orders_published}, sent ${total}`);

  // 2. analytics on the backlog
  const analytics = await startService('analytics-service', { ...base, env: { INSTANCE_ID: 'bench' }, nodeArgs: profArgs('analytics-service') });
  services.push(analytics);
  const analyticsCpu = meters(analytics);
  const a = await timeToReach('analytics', async () => (await getJson<AnalyticsStatsBody>(`${analytics.url}/stats`)).order_count, total);
  const ac = analyticsCpu();
  const aStats = await getJson<AnalyticsStatsBody>(`${analytics.url}/stats`);
  if (aStats.order_count !== total || aStats.total_revenue_cents !== published.revenue_published_cents) throw new Error(`analytics counted ${aStats.order_count} orders / ${aStats.total_revenue_cents} cents, published ${total} / ${published.revenue_published_cents}`);
  report('analytics-service (gRPC group)', total, 'events', a.seconds, `  (${a.fromStartSeconds.toFixed(2)} s from process start${cpuText(ac)})`);
  appendResult(flags['json-out'], { script: 'production-demo', label: 'demo analytics', recordsPerSecond: total / a.seconds, records: total, seconds: a.seconds, fromStartSeconds: a.fromStartSeconds, ...ac, cpuPressurePct: machineLoad().cpuPressurePct });

  // 3. inventory on the backlog (stock large enough that no line is refused)
  const lines = lineCount(warm) + lineCount(backlog);
  const inventory = await startService('inventory-service', { ...base, env: { DEMO_INITIAL_STOCK: String(1_000_000_000) }, nodeArgs: profArgs('inventory-service') });
  services.push(inventory);
  const inventoryCpu = meters(inventory);
  const inv = await timeToReach('inventory', async () => (await getJson<InventoryStatsBody>(`${inventory.url}/stats`)).updates_produced, lines);
  const ic = inventoryCpu();
  const iStats = await getJson<InventoryStatsBody>(`${inventory.url}/stats`);
  if (iStats.updates_produced !== lines || iStats.events.reserved !== lines) throw new Error(`inventory produced ${iStats.updates_produced} updates (${iStats.events.reserved} reserved), expected ${lines}`);
  report('inventory-service (kafkajs in, gRPC out)', lines, 'updates', inv.seconds, `  (${fmt(total / inv.seconds)} orders/s; ${inv.fromStartSeconds.toFixed(2)} s from process start${cpuText(ic)})`);
  appendResult(flags['json-out'], { script: 'production-demo', label: 'demo inventory', recordsPerSecond: lines / inv.seconds, records: lines, seconds: inv.seconds, fromStartSeconds: inv.fromStartSeconds, ...ic, cpuPressurePct: machineLoad().cpuPressurePct });

  // 4. everything at once
  if (LIVE > 0) {
    const more = generateOrders(LIVE, { seed: 3 });
    const started = performance.now();
    const live = await post(orderService.url, bodies(more), lineCount(more));
    await Promise.all([
      timeToReach('analytics (live)', async () => (await getJson<AnalyticsStatsBody>(`${analytics.url}/stats`)).order_count, total + LIVE),
      timeToReach('inventory (live)', async () => (await getJson<InventoryStatsBody>(`${inventory.url}/stats`)).updates_produced, lines + lineCount(more)),
    ]);
    const seconds = (performance.now() - started) / 1000;
    report('live: all three services', LIVE, 'orders', seconds, `  (posted in ${live.seconds.toFixed(2)} s: ${fmt(LIVE / live.seconds)}/s; then both consumers caught up)`);
    appendResult(flags['json-out'], { script: 'production-demo', label: 'demo live', recordsPerSecond: LIVE / seconds, records: LIVE, seconds, postSeconds: live.seconds, cpuPressurePct: machineLoad().cpuPressurePct });
  }
} catch (err) {
  for (const s of services) console.error(`--- ${s.name} exit ${s.process.exitCode ?? s.process.signalCode}:\n${s.output().slice(-2000)}`);
  throw err;
} finally {
  await Promise.allSettled(services.map((s) => s.stop()));
  await broker.cleanup();
  rmSync(logDir, { recursive: true, force: true });
}
