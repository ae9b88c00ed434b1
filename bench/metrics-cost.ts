/**
 * What the metrics cost (issue #16), on fresh brokers (dist/, SQLite + a local directory):
 *  1. produce throughput with and without a scraper GETting /metrics every second, in the
 *     same run on the same broker: alternating phases, ABBA order per pair of rounds (so a
 *     drift of the machine's load cancels out), several rounds; the difference per round and
 *     over all of them, with the broker's CPU per record;
 *  2. series per partition: lines of /metrics of a broker whose only topic has 1 partition
 *     against one with N (one batch produced to each partition), without a consumer group and
 *     with one group that committed an offset on every partition; scrape time and size.
 *   npx tsx bench/metrics-cost.ts                          (defaults below)
 *   npx tsx bench/metrics-cost.ts --rounds 8 --phase-s 5 --series-partitions 1,100,1000,10000
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { readCpuSeconds } from './lib/process-cpu.js';
import { runProduce, type ProduceRunOptions } from './lib/produce-runner.js';
import { produceLoadFlags, produceLoadOptions } from './lib/produce-load-flags.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { ensureTopic } from './lib/topic-setup.js';
import { RawGroupMember } from './lib/raw-group-member.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { errorInfo } from '../src/protocol/error-codes.js';

const flags = parseFlags('metrics-cost.ts', {
  ...produceLoadFlags(),
  rounds: { default: '6', help: 'rounds of the throughput comparison; each has one phase without and one with scraping' },
  'scrape-ms': { default: '1000', help: 'interval of the scraper in the scraped phases' },
  'rate-mb-s': { default: '0', help: 'throttle the load to this many MB/s of values (0 = as fast as possible)' },
  'series-partitions': { default: '1,100,1000,10000', help: 'partition counts of the series measurement (the first is the baseline); empty to skip' },
  'skip-throughput': { default: 'false', help: 'true: only the series measurement' },
  'json-out': { default: '', help: 'append the results as JSON lines to this file' },
});

interface Phase {
  readonly scraped: boolean;
  readonly recordsPerSecond: number;
  readonly mbPerSecond: number;
  /** Broker CPU (cores) over the whole phase, warm-up included. */
  readonly brokerCpu: number;
  readonly brokerCpuUsPerKRecords: number;
  readonly scrapes: number;
  readonly scrapeMs: number;
  readonly p99Ms: number;
}

interface ScrapeStats {
  count: number;
  failures: number;
  totalMs: number;
  maxMs: number;
  bytes: number;
}

/** GETs /metrics every `intervalMs` (never two at once), reading the whole body, until stopped. */
function startScraper(httpBase: string, intervalMs: number): { stop(): Promise<ScrapeStats> } {
  const stats: ScrapeStats = { count: 0, failures: 0, totalMs: 0, maxMs: 0, bytes: 0 };
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${httpBase}/metrics`);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const ms = performance.now() - t0;
      stats.count++;
      stats.totalMs += ms;
      stats.maxMs = Math.max(stats.maxMs, ms);
      stats.bytes += Buffer.byteLength(body);
    } catch {
      stats.failures++;
    }
  };
  // the first scrape at once, as Prometheus would right after a target appears
  running = once().finally(() => (running = undefined));
  const timer = setInterval(() => {
    if (!running) running = once().finally(() => (running = undefined));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      return stats;
    },
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

async function throughput(): Promise<void> {
  const rounds = intFlag(flags.rounds, 'rounds', 1);
  const scrapeMs = intFlag(flags['scrape-ms'], 'scrape-ms', 1);
  const broker = await launchBroker();
  try {
    const topic = `bench-metrics-cost-${Date.now()}`;
    const partitions = intFlag(flags.partitions, 'partitions', 1);
    const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
    await ensureTopic(admin, topic, partitions);
    admin.close();
    const httpBase = `http://${broker.host}:${broker.httpPort}`;
    const opts: ProduceRunOptions = produceLoadOptions(flags, { host: broker.host, port: broker.kafkaPort, topic }, numFlag(flags['rate-mb-s'], 'rate-mb-s'));
    console.log(
      `throughput: broker pid ${broker.pid()}, ${partitions} partitions, ${opts.connections} connections x ${opts.inflight} in flight, ` +
        `${opts.recordsPerBatch} x ${opts.recordSize} B records per batch, acks=1${opts.rateMbS > 0 ? `, ${opts.rateMbS} MB/s` : ', unthrottled'}; ` +
        `${rounds} rounds of ${opts.warmupS} + ${opts.durationS} s without and with a scraper every ${scrapeMs} ms`,
    );
    // one unmeasured phase first: JIT, caches and the first flushes of a fresh broker
    await runProduce({ ...opts, durationS: 2 });
    const runPhase = async (scraped: boolean): Promise<Phase> => {
      const cpu0 = readCpuSeconds(broker.pid()) ?? 0;
      const t0 = performance.now();
      const scraper = scraped ? startScraper(httpBase, scrapeMs) : undefined;
      const r = await runProduce(opts);
      const s = await scraper?.stop();
      const seconds = (performance.now() - t0) / 1000;
      const cpu = ((readCpuSeconds(broker.pid()) ?? 0) - cpu0) / seconds;
      if (r.errorCount > 0) throw new Error(`produce errors: ${JSON.stringify(r.errors)}`);
      if (s && s.failures > 0) throw new Error(`${s.failures} scrapes failed`);
      return {
        scraped,
        recordsPerSecond: r.recordsPerSecond,
        mbPerSecond: r.mbPerSecond,
        brokerCpu: cpu,
        brokerCpuUsPerKRecords: (cpu / r.recordsPerSecond) * 1e9,
        scrapes: s?.count ?? 0,
        scrapeMs: s && s.count > 0 ? s.totalMs / s.count : 0,
        p99Ms: r.latency.p99,
      };
    };
    const pairs: Array<{ off: Phase; on: Phase }> = [];
    for (let round = 0; round < rounds; round++) {
      // ABBA: off, on | on, off | off, on ...
      const order = round % 2 === 0 ? [false, true] : [true, false];
      const phases: Phase[] = [];
      for (const scraped of order) phases.push(await runPhase(scraped));
      const off = phases.find((p) => !p.scraped)!;
      const on = phases.find((p) => p.scraped)!;
      pairs.push({ off, on });
      console.log(
        `  round ${round + 1} (${order.map((s) => (s ? 'scraped' : 'plain')).join(', ')}): ` +
          `plain ${fmt(off.recordsPerSecond)} rec/s, CPU ${(off.brokerCpu * 100).toFixed(0)}% (${off.brokerCpuUsPerKRecords.toFixed(1)} µs/1000 rec); ` +
          `scraped ${fmt(on.recordsPerSecond)} rec/s, CPU ${(on.brokerCpu * 100).toFixed(0)}% (${on.brokerCpuUsPerKRecords.toFixed(1)} µs/1000 rec), ` +
          `${on.scrapes} scrapes of ${on.scrapeMs.toFixed(1)} ms; throughput ${pct(on.recordsPerSecond / off.recordsPerSecond - 1)}`,
      );
    }
    const ratios = pairs.map((p) => p.on.recordsPerSecond / p.off.recordsPerSecond - 1);
    const cpuRatios = pairs.map((p) => p.on.brokerCpuUsPerKRecords / p.off.brokerCpuUsPerKRecords - 1);
    const total = (scraped: boolean) => pairs.reduce((n, p) => n + (scraped ? p.on : p.off).recordsPerSecond, 0) / pairs.length;
    const spread = (scraped: boolean) => {
      const xs = pairs.map((p) => (scraped ? p.on : p.off).recordsPerSecond);
      return `${fmt(Math.min(...xs))} .. ${fmt(Math.max(...xs))}`;
    };
    console.log(`  plain:   mean ${fmt(total(false))} rec/s (range ${spread(false)})`);
    console.log(`  scraped: mean ${fmt(total(true))} rec/s (range ${spread(true)})`);
    console.log(`  difference with scraping: mean of means ${pct(total(true) / total(false) - 1)}, median of rounds ${pct(median(ratios))} (rounds ${ratios.map(pct).join(' ')})`);
    console.log(`  broker CPU per record with scraping: median of rounds ${pct(median(cpuRatios))} (rounds ${cpuRatios.map(pct).join(' ')})`);
    console.log(`  machine: ${describeLoad(machineLoad())}`);
    appendResult(flags['json-out'], { script: 'metrics-cost', label: 'throughput', scrapeMs, rounds: pairs, meanDifference: total(true) / total(false) - 1, medianDifference: median(ratios), medianCpuPerRecordDifference: median(cpuRatios), ...machineLoad() });
  } finally {
    await broker.cleanup();
  }
}

/** Sample lines (not comments) of one scrape, by metric family (the name without _bucket/_sum/_count). */
function countSeries(text: string): { total: number; byFamily: Map<string, number> } {
  const byFamily = new Map<string, number>();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0].replace(/_(bucket|sum|count)$/, '');
    // prom-client's process and Node.js series come and go with the process (a GC histogram
    // per GC kind once it has run), not with partitions: counted apart
    if (PROCESS_FAMILY.test(name)) continue;
    total++;
    byFamily.set(name, (byFamily.get(name) ?? 0) + 1);
  }
  return { total, byFamily };
}

const PROCESS_FAMILY = /^streamhouse_(process|nodejs)_/;

/**
 * One GET /metrics, 300 ms after the previous one: the group metrics share one reading among
 * the collections of 250 ms (one scrape), so scrapes in a quick burst would see an old one.
 */
async function scrapeOnce(httpBase: string): Promise<{ text: string; ms: number }> {
  await sleep(300);
  const t0 = performance.now();
  const res = await fetch(`${httpBase}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`);
  return { text, ms: performance.now() - t0 };
}

interface SeriesPoint {
  readonly partitions: number;
  readonly withoutGroup: number;
  readonly withGroup: number;
  readonly scrapeMsWithGroup: number;
  readonly scrapeBytesWithGroup: number;
  readonly byFamily: Map<string, number>;
}

/** A fresh broker with one topic of `partitions` partitions, a batch in each, then one group committing on each. */
async function seriesAt(partitions: number): Promise<SeriesPoint> {
  const broker: LaunchedBroker = await launchBroker({ args: ['--group-initial-rebalance-delay-ms', '100'] });
  try {
    const topic = 'series';
    const conn = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-series');
    await ensureTopic(conn, topic, partitions);
    conn.close();
    // one batch of 10 records in every partition, 1000 partitions per request
    const perRequest = Math.min(1000, partitions);
    const r = await runProduce({
      host: broker.host,
      port: broker.kafkaPort,
      topic,
      partitions,
      partitionsPerRequest: perRequest,
      connections: 1,
      inflight: 1,
      recordSize: 100,
      recordsPerBatch: 10,
      acks: -1,
      durationS: 0,
      warmupS: 0,
      rateMbS: 0,
      requests: Math.ceil(partitions / perRequest),
    });
    if (r.errorCount > 0) throw new Error(`produce errors: ${JSON.stringify(r.errors)}`);
    const httpBase = `http://${broker.host}:${broker.httpPort}`;
    // twice: the first scrape of a process registers label children lazily
    await scrapeOnce(httpBase);
    const without = countSeries((await scrapeOnce(httpBase)).text);

    // one member joins (so the coordinator knows the group: lag is exported for its groups),
    // and commits offset 5 of 10 on every partition
    let synced!: (m: RawGroupMember) => void;
    let failed!: (e: Error) => void;
    const joined = new Promise<RawGroupMember>((resolve, reject) => ((synced = resolve), (failed = reject)));
    const member = await RawGroupMember.connect(
      { host: broker.host, port: broker.kafkaPort, groupId: 'series-group', topic, partitions, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, heartbeatIntervalMs: 1000, onSynced: (m) => synced(m), onError: (_m, e) => failed(e) },
      'bench-series-member',
    );
    member.start();
    const m = await joined;
    const client = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-series-commit');
    for (let from = 0; from < partitions; from += 1000) {
      const ids = Array.from({ length: Math.min(1000, partitions - from) }, (_, i) => from + i);
      const res = await client.request(8, 8, {
        groupId: 'series-group',
        generationIdOrMemberEpoch: m.generation,
        memberId: m.memberId,
        groupInstanceId: null,
        topics: [{ name: topic, partitions: ids.map((partitionIndex) => ({ partitionIndex, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null })) }],
      });
      const bad = res.topics.flatMap((t) => t.partitions).filter((p) => p.errorCode !== 0);
      if (bad.length > 0) throw new Error(`OffsetCommit: ${errorInfo(bad[0]!.errorCode).name} on ${bad.length} partitions`);
    }
    client.close();
    // lag seconds are looked up at most 1000 new offsets per scrape: scrape until stable
    let withGroup = countSeries((await scrapeOnce(httpBase)).text);
    for (let i = 0; i < 20; i++) {
      const next = countSeries((await scrapeOnce(httpBase)).text);
      if (next.total === withGroup.total) break;
      withGroup = next;
    }
    const timed: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const s = await scrapeOnce(httpBase);
      timed.push(s.ms);
      bytes = Buffer.byteLength(s.text);
    }
    await member.leave().catch(() => member.stop());
    return { partitions, withoutGroup: without.total, withGroup: withGroup.total, scrapeMsWithGroup: median(timed), scrapeBytesWithGroup: bytes, byFamily: withGroup.byFamily };
  } finally {
    await broker.cleanup();
  }
}

async function series(): Promise<void> {
  const counts = flags['series-partitions'].split(',').filter(Boolean).map((s) => intFlag(s, 'series-partitions', 1));
  if (counts.length < 2) return;
  console.log(`series: a fresh broker per partition count (${counts.join(', ')}), one topic, one batch per partition; then one group committed on every partition`);
  const points: SeriesPoint[] = [];
  for (const n of counts) {
    const p = await seriesAt(n);
    points.push(p);
    console.log(`  ${fmt(n)} partitions: ${fmt(p.withoutGroup)} series (not counting streamhouse_process_* and streamhouse_nodejs_*) without a group, ${fmt(p.withGroup)} with one (scrape ${p.scrapeMsWithGroup.toFixed(1)} ms, ${fmt(p.scrapeBytesWithGroup)} B)`);
  }
  const base = points[0]!;
  for (const p of points.slice(1)) {
    const extra = p.partitions - base.partitions;
    const grown = [...p.byFamily].map(([family, n]) => [family, n - (base.byFamily.get(family) ?? 0)] as const).filter(([, d]) => d !== 0);
    console.log(
      `  ${fmt(base.partitions)} -> ${fmt(p.partitions)} partitions: ${((p.withoutGroup - base.withoutGroup) / extra).toFixed(3)} series per partition without a group, ` +
        `${((p.withGroup - base.withGroup) / extra).toFixed(3)} with one group (families that grew: ${grown.map(([f, d]) => `${f} +${d}`).join(', ') || 'none'})`,
    );
  }
  appendResult(flags['json-out'], { script: 'metrics-cost', label: 'series', points: points.map(({ byFamily, ...p }) => ({ ...p, byFamily: Object.fromEntries(byFamily) })), ...machineLoad() });
}

async function main(): Promise<void> {
  if (flags['skip-throughput'] !== 'true') await throughput();
  await series();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
