/**
 * The production backends on this machine: a broker on PostgreSQL metadata and S3 storage
 * (s3rver behind a request-counting proxy), at the default S3 flush interval (100 ms).
 *   1. produce throughput and p50/p99 latency (unthrottled, then at a moderate fixed rate);
 *   2. S3 PUTs and metadata transactions per flush with 1, 100 and 1,000 partitions written
 *      in every flush (PUTs counted by the proxy, flushes by the broker's flush histogram,
 *      transactions by pg_stat_database.xact_commit, statements by pg_stat_statements);
 *   3. read throughput from the recent-write cache, then cold from S3 after a broker
 *      restart, then from the chunk cache.
 *   npx tsx bench/s3-postgres.ts
 *   npx tsx bench/s3-postgres.ts --phases sweep --partition-counts 1,100,1000
 */
import { startPostgres, type PostgresProcess } from '../test-kit/postgres-process.js';
import { startS3FaultProxy, type S3FaultProxy } from '../test-kit/s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../test-kit/s3rver-process.js';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { scrapeFlushMetrics, type FlushMetrics } from './lib/broker-metrics.js';
import { dropPageCache, fetchPass, highWatermarks, type FetchPassOptions } from './lib/fetch-runner.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { formatLatency } from './lib/latency-recorder.js';
import { brokerTransactions, PgActivityMonitor, shortStatement, statementDeltas, type PgActivitySnapshot } from './lib/pg-activity.js';
import { cpuMeter } from './lib/process-cpu.js';
import { runProduce, type ProduceRunOptions, type ProduceRunResult } from './lib/produce-runner.js';
import { appendResult, fmt } from './lib/results-file.js';
import { S3RequestLog, type S3RequestCounts } from './lib/s3-request-log.js';
import { stopBroker } from './lib/stop-broker.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('s3-postgres.ts', {
  phases: { default: 'produce,sweep,read', help: 'comma-separated: produce, sweep, read' },
  'broker-args': { default: '', help: 'extra `streamhouse start` flags (compaction and retention checks are off unless given here)' },
  'native-conditional-puts': { default: 'false', help: 'true: the proxy enforces If-None-Match like AWS S3, so the broker puts without a HEAD first' },
  partitions: { default: '8', help: 'produce phase: partitions' },
  connections: { default: '4', help: 'produce phase: connections' },
  inflight: { default: '8', help: 'produce phase: requests in flight per connection' },
  'record-size': { default: '100', help: 'record value bytes (all phases)' },
  'records-per-batch': { default: '1000', help: 'produce phase: records per batch (one batch per partition per request)' },
  'duration-s': { default: '10', help: 'measured seconds per produce run' },
  'warmup-s': { default: '2', help: 'produce phase: seconds before measuring' },
  'latency-rate-mb-s': { default: '2', help: 'produce phase: second run throttled to this many MB/s of values (0 skips it)' },
  'partition-counts': { default: '1,100,1000', help: 'sweep phase: partition counts; every request carries one batch for every partition' },
  'sweep-request-kb': { default: '400', help: 'sweep phase: KB (10^3) of record values per request, split over the partitions' },
  'sweep-connections': { default: '4', help: 'sweep phase: connections' },
  'sweep-inflight': { default: '2', help: 'sweep phase: requests in flight per connection' },
  'read-mb': { default: '48', help: 'read phase: MB of values produced, then read back (the recent-write cache holds 64 MiB)' },
  'read-partitions': { default: '8', help: 'read phase: partitions' },
  consumers: { default: '4', help: 'read phase: consumer connections' },
  'read-passes': { default: '2', help: 'read phase: passes from each cache' },
  'drop-page-cache': { default: 'true', help: 'read phase: drop the OS page cache before the cold pass (root only), so s3rver reads its disk' },
  'settle-ms': { default: '11500', help: 'quiet time before reading pg_stat_database (PostgreSQL publishes idle backends\' counters within 10 s)' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});

interface Window {
  readonly seconds: number;
  readonly flushes: number;
  readonly bytesWritten: number;
  readonly flushMs: number;
  readonly commitMs: number;
  readonly flushFailures: number;
  readonly s3: S3RequestCounts;
  readonly transactions: number | undefined;
  readonly rollbacks: number | undefined;
  /** Explicit BEGIN…COMMIT transactions (pg_stat_statements' COMMIT calls); undefined without the extension. */
  readonly explicitCommits: number | undefined;
  /** Autovacuum/autoanalyze runs in the window: background transactions that are not the broker's. */
  readonly maintenanceRuns: number;
  readonly statements: Array<{ query: string; calls: number }>;
  /** The quiet wait after the load, which the PostgreSQL counters also cover. */
  readonly settleSeconds: number;
  readonly chunkRows: number;
}

async function flushFailures(httpBase: string): Promise<number> {
  const text = await (await fetch(`${httpBase}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^streamhouse_flush_failures_total(?:\{[^}]*\})? ([0-9.e+-]+)$/gm)) n += Number(m[1]);
  return n;
}

/**
 * Brackets a piece of load with every counter: the broker's flush metrics, the proxy's
 * request log, PostgreSQL's transaction and statement counts and the chunk index size.
 * Snapshots of PostgreSQL are taken after `settleMs` of quiet and chained: one window's
 * closing snapshot opens the next, so each run costs one settle.
 */
class Meter {
  private pg: PgActivitySnapshot | undefined;
  private chunks = 0;

  constructor(
    private readonly httpBase: () => string,
    private readonly s3: S3RequestLog,
    private readonly monitor: PgActivityMonitor,
    private readonly settleMs: number,
  ) {}

  async start(): Promise<void> {
    this.chunks = await this.monitor.count('chunks');
    this.pg = await this.monitor.settledSnapshot(this.settleMs);
  }

  async measure(fn: () => Promise<void>): Promise<Window> {
    if (!this.pg) await this.start();
    const before: FlushMetrics = (await scrapeFlushMetrics(this.httpBase()))!;
    const failures0 = await flushFailures(this.httpBase());
    const mark = this.s3.mark();
    const t0 = performance.now();
    await fn();
    const seconds = (performance.now() - t0) / 1000;
    const after: FlushMetrics = (await scrapeFlushMetrics(this.httpBase()))!;
    const failures1 = await flushFailures(this.httpBase());
    const s3 = this.s3.since(mark);
    const chunks = await this.monitor.count('chunks');
    const pgAfter = await this.monitor.settledSnapshot(this.settleMs);
    const flushes = after.flushes - before.flushes;
    const statements = statementDeltas(this.pg!, pgAfter);
    const w: Window = {
      seconds,
      flushes,
      bytesWritten: after.bytesWritten - before.bytesWritten,
      flushMs: flushes > 0 ? ((after.flushSeconds - before.flushSeconds) / flushes) * 1000 : NaN,
      commitMs: flushes > 0 ? ((after.commitSeconds - before.commitSeconds) / flushes) * 1000 : NaN,
      flushFailures: failures1 - failures0,
      s3,
      transactions: brokerTransactions(this.pg!, pgAfter),
      rollbacks: pgAfter.xactRollback - this.pg!.xactRollback,
      maintenanceRuns: pgAfter.maintenanceRuns - this.pg!.maintenanceRuns,
      statements,
      explicitCommits: pgAfter.statements ? (statements.find((s) => s.query.trim().toUpperCase() === 'COMMIT')?.calls ?? 0) : undefined,
      chunkRows: chunks - this.chunks,
      settleSeconds: this.settleMs / 1000,
    };
    this.pg = pgAfter;
    this.chunks = chunks;
    return w;
  }
}

function perFlush(n: number, flushes: number): string {
  return flushes > 0 ? (n / flushes).toFixed(2) : '-';
}

function printWindow(w: Window): void {
  const f = w.flushes;
  console.log(
    `    flushes: ${fmt(f)} in ${w.seconds.toFixed(1)} s (${(f / w.seconds).toFixed(1)}/s), ${(w.bytesWritten / Math.max(1, f) / 1e6).toFixed(2)} MB per object on average; ` +
      `flush close→commit ${w.flushMs.toFixed(1)} ms, of which the metadata transaction ${w.commitMs.toFixed(1)} ms` +
      (w.flushFailures > 0 ? `; ${w.flushFailures} flush failures (retried)` : ''),
  );
  console.log(
    `    S3 requests: ${w.s3.put} PUT (${perFlush(w.s3.put, f)} per flush, ${(w.s3.put / w.seconds).toFixed(1)}/s), ${w.s3.head} HEAD (${perFlush(w.s3.head, f)} per flush), ` +
      `${w.s3.get} GET, ${w.s3.list} LIST, ${w.s3.delete} DELETE` + (w.s3.failed > 0 ? `, ${w.s3.failed} failed` : ''),
  );
  const total = w.transactions ?? 0;
  const window = w.seconds + w.settleSeconds;
  console.log(
    `    metadata: ${fmt(w.chunkRows)} chunk index rows written (${perFlush(w.chunkRows, f)} partitions per flush); ` +
      (w.explicitCommits !== undefined ? `${w.explicitCommits} BEGIN…COMMIT transactions (${perFlush(w.explicitCommits, f)} per flush); ` : '') +
      `${fmt(total)} transactions committed in all (${perFlush(total, f)} per flush, ${(total / window).toFixed(1)}/s over the ${window.toFixed(1)} s window with the settle wait), ${w.rollbacks} rolled back` +
      (w.maintenanceRuns > 0 ? `; autovacuum/autoanalyze ran ${w.maintenanceRuns} times meanwhile (counted in that total)` : ''),
  );
  if (w.statements.length > 0) {
    console.log(`    statements (pg_stat_statements), calls per flush and per second of the window:`);
    for (const s of w.statements.slice(0, 12)) console.log(`      ${perFlush(s.calls, f).padStart(8)} ${(s.calls / window).toFixed(1).padStart(7)}/s  ${shortStatement(s.query)}`);
  }
}

function printProduce(r: ProduceRunResult): void {
  console.log(`    ${fmt(r.recordsPerSecond)} records/s, ${fmt(r.mbPerSecond, 1)} MB/s of values over ${r.seconds.toFixed(1)} s measured; latency ${formatLatency(r.latency)}`);
  if (r.errorCount > 0) console.log(`    errors: ${JSON.stringify(r.errors)}`);
}

async function main(): Promise<void> {
  const phases = new Set(flags.phases.split(',').map((s) => s.trim()));
  const settleMs = intFlag(flags['settle-ms'], 'settle-ms');
  const recordSize = intFlag(flags['record-size'], 'record-size');
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const pg: PostgresProcess = await startPostgres({ settings: { shared_preload_libraries: 'pg_stat_statements' } }).catch(async (err: unknown) => {
      console.log(`PostgreSQL with pg_stat_statements failed to start (${(err as Error).message.split('\n')[0]}); without it`);
      return startPostgres();
    });
    cleanup.push(() => pg.stop());
    const s3: S3rverHandle = await startS3rver({ mode: 'child' });
    cleanup.push(() => s3.stop());
    const proxy: S3FaultProxy = await startS3FaultProxy({ upstream: s3.endpoint, enforceIfNoneMatch: flags['native-conditional-puts'] === 'true' });
    cleanup.push(() => proxy.close());
    // the broker inherits this environment
    Object.assign(process.env, s3.env, { S3_ENDPOINT: proxy.endpoint });
    const brokerArgs = [
      '--metadata', pg.url,
      '--storage', `s3://${s3.bucket}/bench`,
      '--compaction-interval-ms', '0',
      '--retention-check-interval-ms', '3600000',
      ...flags['broker-args'].split(' ').filter(Boolean),
    ];
    const broker: LaunchedBroker = await launchBroker({ args: brokerArgs });
    cleanup.push(() => stopBroker(broker));
    const httpBase = () => `http://127.0.0.1:${broker.httpPort}`;
    console.log(`broker pid ${broker.pid()} on ${broker.bootstrap}: metadata ${pg.url}, storage s3://${s3.bucket}/bench on s3rver ${s3.endpoint} through a counting proxy ${proxy.endpoint}`);
    console.log(`  flush interval: the S3 default (100 ms); compaction off, retention checks hourly; ${flags['native-conditional-puts'] === 'true' ? 'native If-None-Match (proxy enforces it)' : 'no-overwrite emulated with a HEAD before each PUT (s3rver ignores If-None-Match)'}`);

    const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
    cleanup.push(async () => admin.close());
    const stamp = Date.now();
    const produceTopic = `s3pg-produce-${stamp}`;
    const partitions = intFlag(flags.partitions, 'partitions', 1);
    const sweepCounts = flags['partition-counts'].split(',').filter(Boolean).map((x) => intFlag(x, 'partition-counts', 1));
    const readTopic = `s3pg-read-${stamp}`;
    const readPartitions = intFlag(flags['read-partitions'], 'read-partitions', 1);
    // every topic now, so the measured windows see no topic creation
    if (phases.has('produce')) await ensureTopic(admin, produceTopic, partitions);
    if (phases.has('sweep')) for (const n of sweepCounts) await ensureTopic(admin, `s3pg-sweep-${n}-${stamp}`, n);
    if (phases.has('read')) await ensureTopic(admin, readTopic, readPartitions);
    // one batch to every partition first: the broker loads a partition's state from the
    // metadata store on its first write, which is not part of the flush cost measured here
    const touch = async (topic: string, n: number) => {
      const r = await runProduce({
        host: broker.host, port: broker.kafkaPort, topic, partitions: n, partitionsPerRequest: n, connections: 1, inflight: 1,
        recordSize, recordsPerBatch: 1, acks: 1, durationS: 0, warmupS: 0, requests: 1, rateMbS: 0,
      });
      if (r.errorCount > 0) throw new Error(`first produce to ${topic} failed: ${JSON.stringify(r.errors)}`);
    };
    if (phases.has('produce')) await touch(produceTopic, partitions);
    if (phases.has('sweep')) for (const n of sweepCounts) await touch(`s3pg-sweep-${n}-${stamp}`, n);

    const monitor = await PgActivityMonitor.open(pg.urlFor('postgres'), pg.url);
    cleanup.push(() => monitor.close());
    if (!monitor.hasStatements) console.log('  (pg_stat_statements unavailable: no per-statement breakdown)');
    const meter = new Meter(httpBase, new S3RequestLog(proxy.requests), monitor, settleMs);
    await meter.start();

    const base = { host: broker.host, port: broker.kafkaPort, acks: 1 as const, recordSize };

    if (phases.has('produce')) {
      const opts: ProduceRunOptions = {
        ...base,
        topic: produceTopic,
        partitions,
        partitionsPerRequest: partitions,
        connections: intFlag(flags.connections, 'connections', 1),
        inflight: intFlag(flags.inflight, 'inflight', 1),
        recordsPerBatch: intFlag(flags['records-per-batch'], 'records-per-batch', 1),
        durationS: numFlag(flags['duration-s'], 'duration-s'),
        warmupS: numFlag(flags['warmup-s'], 'warmup-s'),
        rateMbS: 0,
      };
      const runs: Array<{ label: string; rate: number }> = [{ label: 'unthrottled', rate: 0 }];
      const rate = numFlag(flags['latency-rate-mb-s'], 'latency-rate-mb-s');
      if (rate > 0) runs.push({ label: `throttled to ${rate} MB/s`, rate });
      for (const run of runs) {
        console.log(
          `\nproduce, ${run.label}: ${partitions} partitions, ${opts.connections} connections x ${opts.inflight} in flight, ` +
            `${opts.recordsPerBatch} x ${recordSize} B records per batch, ${partitions} batches per request, acks=1`,
        );
        let result: ProduceRunResult | undefined;
        let brokerCpu: number | undefined;
        const w = await meter.measure(async () => {
          const cpu = cpuMeter(broker.pid());
          result = await runProduce({ ...opts, rateMbS: run.rate });
          brokerCpu = cpu();
        });
        printProduce(result!);
        printWindow(w);
        if (brokerCpu !== undefined) console.log(`    broker CPU ${(brokerCpu * 100).toFixed(0)}%, load generator and proxy (one process) CPU ${(result!.clientCpu * 100).toFixed(0)}%; s3rver and PostgreSQL not included`);
        appendResult(flags['json-out'], { script: 's3-postgres', phase: 'produce', label: run.label, partitions, ...result!, window: w });
      }
    }

    if (phases.has('sweep')) {
      const requestBytes = numFlag(flags['sweep-request-kb'], 'sweep-request-kb') * 1000;
      for (const n of sweepCounts) {
        const recordsPerBatch = Math.max(1, Math.round(requestBytes / (n * Math.max(1, recordSize))));
        const opts: ProduceRunOptions = {
          ...base,
          topic: `s3pg-sweep-${n}-${stamp}`,
          partitions: n,
          partitionsPerRequest: n,
          connections: intFlag(flags['sweep-connections'], 'sweep-connections', 1),
          inflight: intFlag(flags['sweep-inflight'], 'sweep-inflight', 1),
          recordsPerBatch,
          durationS: numFlag(flags['duration-s'], 'duration-s'),
          warmupS: 1,
          rateMbS: 0,
        };
        console.log(
          `\nsweep, ${n} partition${n === 1 ? '' : 's'}: every request carries one batch of ${recordsPerBatch} x ${recordSize} B for each partition; ` +
            `${opts.connections} connections x ${opts.inflight} in flight`,
        );
        let result: ProduceRunResult | undefined;
        const w = await meter.measure(async () => {
          result = await runProduce(opts);
        });
        printProduce(result!);
        printWindow(w);
        appendResult(flags['json-out'], { script: 's3-postgres', phase: 'sweep', partitions: n, recordsPerBatch, ...result!, window: w });
      }
    }

    if (phases.has('read')) {
      const recordsPerBatch = 500;
      const requestValueBytes = readPartitions * recordSize * recordsPerBatch;
      const requests = Math.max(1, Math.ceil((numFlag(flags['read-mb'], 'read-mb') * 1e6) / requestValueBytes));
      const produced = await runProduce({
        ...base, topic: readTopic, partitions: readPartitions, partitionsPerRequest: readPartitions,
        connections: 1, inflight: 4, recordsPerBatch, durationS: 0, warmupS: 0, requests, rateMbS: 0,
      });
      if (produced.errorCount > 0) throw new Error(`produce failed: ${JSON.stringify(produced.errors)}`);
      const hwms = await highWatermarks(admin, readTopic, readPartitions);
      admin.close();
      console.log(`\nread: produced ${fmt(produced.records)} records (${fmt(produced.valueBytes / 1e6, 1)} MB of values) to ${readTopic} (${readPartitions} partitions)`);
      const opts: FetchPassOptions = {
        host: broker.host, port: broker.kafkaPort, topic: readTopic, partitions: readPartitions,
        consumers: intFlag(flags.consumers, 'consumers', 1), mode: 'group', maxBytes: 52428800, partitionMaxBytes: 1048576,
      };
      const passes = intFlag(flags['read-passes'], 'read-passes', 1);
      const s3log = new S3RequestLog(proxy.requests);
      const pass = async (name: string, label: string) => {
        const mark = s3log.mark();
        const cpu = cpuMeter(broker.pid());
        const r = await fetchPass(opts, hwms);
        const brokerCpu = cpu();
        const s3 = s3log.since(mark);
        console.log(
          `  ${name}: ${fmt(r.bytes / 1e6, 1)} MB in ${r.seconds.toFixed(2)} s = ${fmt(r.mbPerSecond, 1)} MB/s, ${r.fetches} fetches, latency ${formatLatency(r.latency)}; ` +
            `${s3.get} S3 GETs${brokerCpu !== undefined ? `, broker CPU ${(brokerCpu * 100).toFixed(0)}%` : ''}` +
            (Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''),
        );
        appendResult(flags['json-out'], { script: 's3-postgres', phase: 'read', label, consumers: opts.consumers, ...r, s3 });
      };
      console.log(`  reading with ${opts.consumers} consumers, Kafka's default fetch sizes (fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB):`);
      for (let i = 1; i <= passes; i++) await pass(`recent-write cache, pass ${i}`, 'recent');
      await broker.restart();
      console.log(`  restarted the broker (pid ${broker.pid()}): its caches are empty`);
      const dropped = flags['drop-page-cache'] === 'true' && dropPageCache();
      console.log(dropped ? '  dropped the OS page cache (s3rver reads its files from disk)' : '  OS page cache NOT dropped: s3rver may serve its files from memory');
      await pass('cold (S3 GETs)', 'cold');
      for (let i = 1; i <= passes; i++) await pass(`chunk cache, pass ${i}`, 'chunk-cache');
    }
  } finally {
    for (const c of cleanup.reverse()) await c().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
