/**
 * Produce load generator: pre-built record batches over pipelined raw connections.
 *   npx tsx bench/produce-load.ts --bootstrap 127.0.0.1:9092 --record-size 100 --records-per-batch 2000
 *   npx tsx bench/produce-load.ts --spawn true            (starts a fresh broker in a temp dir)
 *   npx tsx bench/produce-load.ts --spawn true --scrape-ms 1000   (a Prometheus-like scraper on /metrics meanwhile)
 */
import { intFlag, numFlag, parseBootstrap, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { formatLatency } from './lib/latency-recorder.js';
import { cpuMeter } from './lib/process-cpu.js';
import { runProduce } from './lib/produce-runner.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeFlushes, scrapeFlushMetrics } from './lib/broker-metrics.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { mib, RssSampler } from './lib/rss-sampler.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('produce-load.ts', {
  bootstrap: { default: '127.0.0.1:9092', help: 'broker host:port (ignored with --spawn true)' },
  spawn: { default: 'false', help: 'true: start a fresh broker (dist/) in a temp dir for this run' },
  'broker-args': { default: '', help: 'extra `streamhouse start` flags for --spawn, e.g. "--flush-interval-ms 5"' },
  'cpu-prof-dir': { default: '', help: 'with --spawn: run the broker under node --cpu-prof, profiles written here' },
  'broker-pid': { default: '', help: 'pid of an already running broker: report its RSS peak and CPU use' },
  'http-port': { default: '', help: 'HTTP port of an already running broker: report its flush metrics' },
  topic: { default: '', help: 'topic name (default: a new bench-produce-<time> topic)' },
  connections: { default: '4', help: 'TCP connections' },
  inflight: { default: '8', help: 'requests in flight per connection (pipelining window)' },
  partitions: { default: '8', help: 'partitions of the topic (created with CreateTopics)' },
  'partitions-per-request': { default: '0', help: 'partitions (one batch each) per request; 0 = all' },
  'record-size': { default: '100', help: 'record value bytes (key null)' },
  'records-per-batch': { default: '1000', help: 'records per batch' },
  acks: { default: '1', help: '1 or -1 (all); both wait for the flush commit here' },
  'duration-s': { default: '10', help: 'measured seconds' },
  'warmup-s': { default: '2', help: 'seconds sent before measuring' },
  count: { default: '0', help: 'send exactly this many requests instead (0 = use --duration-s)' },
  'rate-mb-s': { default: '0', help: 'throttle to this many MB/s of record values (0 = unthrottled)' },
  'scrape-ms': { default: '0', help: 'GET the broker /metrics every this many ms during the run, as Prometheus would (0 = never; needs --spawn or --http-port)' },
  label: { default: 'produce', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append the result as a JSON line to this file' },
});

async function main(): Promise<void> {
  const acks = Number(flags.acks);
  if (acks !== 1 && acks !== -1) throw new Error('--acks must be 1 or -1');
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  let broker: LaunchedBroker | undefined;
  let target = parseBootstrap(flags.bootstrap);
  if (flags.spawn === 'true') {
    const cpuProf = flags['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : [];
    broker = await launchBroker({ args: flags['broker-args'].split(' ').filter(Boolean), nodeArgs: cpuProf });
    target = { host: broker.host, port: broker.kafkaPort };
    console.log(`started broker pid ${broker.pid()} on ${broker.bootstrap}, data in ${broker.dataDir}`);
  }
  const pid = broker ? broker.pid() : flags['broker-pid'] ? intFlag(flags['broker-pid'], 'broker-pid', 1) : undefined;
  try {
    const topic = flags.topic || `bench-produce-${Date.now()}`;
    const admin = await KafkaConnection.connect(target.host, target.port, 'bench-admin');
    await ensureTopic(admin, topic, partitions);
    admin.close();

    const rss = pid ? new RssSampler(pid) : undefined;
    const brokerCpu = pid ? cpuMeter(pid) : undefined;
    const count = intFlag(flags.count, 'count');
    const opts = {
      host: target.host,
      port: target.port,
      topic,
      partitions,
      partitionsPerRequest: intFlag(flags['partitions-per-request'], 'partitions-per-request') || partitions,
      connections: intFlag(flags.connections, 'connections', 1),
      inflight: intFlag(flags.inflight, 'inflight', 1),
      recordSize: intFlag(flags['record-size'], 'record-size', 0),
      recordsPerBatch: intFlag(flags['records-per-batch'], 'records-per-batch', 1),
      acks: acks as 1 | -1,
      durationS: numFlag(flags['duration-s'], 'duration-s'),
      warmupS: numFlag(flags['warmup-s'], 'warmup-s'),
      rateMbS: numFlag(flags['rate-mb-s'], 'rate-mb-s'),
      ...(count > 0 ? { requests: count } : {}),
      onTick: (s: number, records: number) => process.stderr.write(`\r  ${s.toFixed(0)} s: ${fmt(records)} records acknowledged   `),
    };
    console.log(
      `producing to ${topic} (${partitions} partitions) on ${target.host}:${target.port}: ${opts.connections} connections x ${opts.inflight} in flight, ` +
        `${opts.recordsPerBatch} x ${opts.recordSize} B records per batch, ${opts.partitionsPerRequest} batches per request, acks=${acks}` +
        (opts.rateMbS > 0 ? `, throttled to ${opts.rateMbS} MB/s` : ''),
    );
    const httpPort = broker ? broker.httpPort : flags['http-port'] ? intFlag(flags['http-port'], 'http-port', 1) : undefined;
    const httpBase = httpPort ? `http://${target.host}:${httpPort}` : undefined;
    const scrapeMs = intFlag(flags['scrape-ms'], 'scrape-ms');
    if (scrapeMs > 0 && !httpBase) throw new Error('--scrape-ms needs --spawn true or --http-port');
    const before = httpBase ? await scrapeFlushMetrics(httpBase) : undefined;
    const scraper = scrapeMs > 0 && httpBase ? startScraper(httpBase, scrapeMs) : undefined;
    const wall0 = performance.now();
    const r = await runProduce(opts);
    const scrapes = await scraper?.stop();
    const after = httpBase ? await scrapeFlushMetrics(httpBase) : undefined;
    const flushLine = before && after ? describeFlushes(before, after, (performance.now() - wall0) / 1000) : undefined;
    process.stderr.write('\n');
    const cpu = brokerCpu?.();
    const mem = rss?.stop();
    const load = machineLoad();
    console.log(`  batch ${fmt(r.batchBytes)} B, request ${fmt(r.requestBytes)} B`);
    console.log(`  ${fmt(r.recordsPerSecond)} records/s, ${fmt(r.mbPerSecond, 1)} MB/s of values (${fmt(r.wireMbPerSecond, 1)} MB/s on the wire) over ${r.seconds.toFixed(1)} s`);
    console.log(`  latency ${formatLatency(r.latency)}`);
    console.log(`  errors: ${r.errorCount === 0 ? 'none' : JSON.stringify(r.errors)}`);
    if (flushLine) console.log(`  broker: ${flushLine}`);
    if (scrapes) console.log(`  /metrics scraped every ${scrapeMs} ms: ${scrapes.count} scrapes, ${scrapes.avgMs.toFixed(1)} ms (max ${scrapes.maxMs.toFixed(1)} ms) and ${fmt(scrapes.avgBytes)} B each, ${scrapes.failures} failed`);
    console.log(`  machine: ${describeLoad(load)}`);
    console.log(`  load generator CPU ${(r.clientCpu * 100).toFixed(0)}%${cpu !== undefined ? `, broker CPU ${(cpu * 100).toFixed(0)}%` : ''}${mem ? `, broker RSS peak ${mib(mem.peakBytes)} (start ${mib(mem.startBytes)})` : ''}`);
    appendResult(flags['json-out'], {
      script: 'produce-load',
      label: flags.label,
      target: broker ? 'broker(spawned)' : flags['broker-pid'] ? 'broker' : 'external',
      acks,
      partitions,
      connections: opts.connections,
      inflight: opts.inflight,
      recordSize: opts.recordSize,
      recordsPerBatch: opts.recordsPerBatch,
      rateMbS: opts.rateMbS,
      ...r,
      brokerCpu: cpu ?? null,
      brokerRssPeak: mem?.peakBytes ?? null,
      flushes: flushLine ?? null,
      scrapeMs,
      scrapes: scrapes ?? null,
      ...load,
    });
    if (r.errorCount > 0) process.exitCode = 1;
  } finally {
    await broker?.cleanup();
  }
}

interface ScrapeStats {
  readonly count: number;
  readonly failures: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly avgBytes: number;
}

/** GETs /metrics every `intervalMs` (never two at once) and reads the whole body, until stopped. */
function startScraper(httpBase: string, intervalMs: number): { stop(): Promise<ScrapeStats> } {
  let count = 0;
  let failures = 0;
  let totalMs = 0;
  let maxMs = 0;
  let totalBytes = 0;
  let running: Promise<void> | undefined;
  const once = async (): Promise<void> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${httpBase}/metrics`);
      const body = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const ms = performance.now() - t0;
      count++;
      totalMs += ms;
      maxMs = Math.max(maxMs, ms);
      totalBytes += Buffer.byteLength(body);
    } catch {
      failures++;
    }
  };
  const timer = setInterval(() => {
    if (!running) running = once().finally(() => (running = undefined));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
      return { count, failures, avgMs: count ? totalMs / count : 0, maxMs, avgBytes: count ? totalBytes / count : 0 };
    },
  };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
