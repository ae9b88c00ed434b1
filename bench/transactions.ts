/**
 * Transactions: confluent-kafka (librdkafka) transactional produce throughput at a target of
 * 10 and 100 commits/s, next to the idempotent producer in the same run (same record size,
 * same partitions, same broker), plus commit_transaction latency. "flush" runs are the
 * idempotent producer stopping to flush at the same rate: the barrier a commit imposes,
 * without AddPartitionsToTxn, EndTxn and the markers. Commit latency is flush() +
 * commit_transaction() at the end of each slot (the latter's part reported on its own as
 * "endTxn"). See bench/transactions-bench.py.
 *   npx tsx bench/transactions.ts
 *   npx tsx bench/transactions.ts --rates 10,100 --seconds 10 --record-size 1024 --partitions 8
 *   STREAMHOUSE_TEST_BACKEND=postgres-s3 npx tsx bench/transactions.ts    (PostgreSQL + s3rver)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON } from '../test-kit/run-command.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { intFlag, parseFlags } from './lib/args.js';
import { launchBroker } from './lib/broker-launcher.js';
import { LatencyRecorder } from './lib/latency-recorder.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { cpuMeter } from './lib/process-cpu.js';
import { appendResult, fmt } from './lib/results-file.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('transactions.ts', {
  rates: { default: '10,100', help: 'target commits per second of the transactional (and flush) runs' },
  seconds: { default: '10', help: 'measured seconds per run' },
  'record-size': { default: '1024', help: 'record value bytes' },
  partitions: { default: '8', help: 'partitions of each run\'s topic (records round-robin)' },
  'linger-ms': { default: '5', help: 'producer linger.ms' },
  'max-queued': { default: '2000', help: 'records waiting in the client at most (queue.buffering.max.messages), every mode' },
  parallel: { default: '10', help: 'the highest rate once more as this many transactional producers in parallel (and as many idempotent ones); 1: skip' },
  'paced-mbps': { default: '10', help: 'the parallel runs once more at this offered load in total (MB/s); 0: skip' },
  flush: { default: 'true', help: 'false: skip the idempotent-with-flush runs' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});

interface PyResult {
  mode: string;
  commitsPerSecondTarget: number | null;
  seconds: number;
  produced: number;
  delivered: number;
  failed: number;
  undelivered: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  commits: number;
  commitMs: number[];
  endTxnMs: number[];
  errors: Record<string, number>;
  clientCpuSeconds: number;
}

function runPython(config: object): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(import.meta.dirname, 'transactions-bench.py'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{"mode"')) reject(new Error(`transactions-bench.py exited with ${code}\n${out.slice(-2000)}\n${err}`));
      else resolve(JSON.parse(line) as PyResult);
    });
  });
}

/** streamhouse_kafka_request_duration_seconds sum and count by API, from /metrics. */
async function requestDurations(httpPort: number): Promise<Map<string, { sum: number; count: number }>> {
  const out = new Map<string, { sum: number; count: number }>();
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    for (const m of text.matchAll(/^streamhouse_kafka_request_duration_seconds_(sum|count)\{[^}]*api="([A-Za-z]+)"[^}]*\} ([0-9.e+-]+)$/gm)) {
      const e = out.get(m[2]!) ?? { sum: 0, count: 0 };
      e[m[1] as 'sum' | 'count'] += Number(m[3]);
      out.set(m[2]!, e);
    }
  } catch {
    // no metrics: the row goes without the broker's view
  }
  return out;
}

/** Mean broker-side duration (ms) and count of these APIs' requests between two scrapes. */
function apiMeans(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>, apis: string[]): Record<string, { meanMs: number; count: number }> {
  const out: Record<string, { meanMs: number; count: number }> = {};
  for (const api of apis) {
    const a = after.get(api);
    const b = before.get(api) ?? { sum: 0, count: 0 };
    if (!a || a.count - b.count <= 0) continue;
    out[api] = { meanMs: Number((((a.sum - b.sum) / (a.count - b.count)) * 1000).toFixed(1)), count: a.count - b.count };
  }
  return out;
}

async function main(): Promise<void> {
  const rates = flags.rates.split(',').map((r) => intFlag(r, 'rates', 1));
  const seconds = intFlag(flags.seconds, 'seconds', 1);
  const recordSize = intFlag(flags['record-size'], 'record-size', 1);
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  const backend = process.env.STREAMHOUSE_TEST_BACKEND || 'embedded';
  const broker = await launchBroker();
  console.log(`broker pid ${broker.pid()} on ${broker.bootstrap} (${backend}), ${fmt(recordSize)} B records, ${partitions} partitions, ${seconds} s per run, linger.ms ${flags['linger-ms']}, at most ${flags['max-queued']} records queued in the client; ${describeLoad(machineLoad())}`);
  // the idempotent producer twice: with librdkafka's default queue (its own ceiling) and
  // with the queue bound every other run has. One producer commits at most about
  // 1 / (flush + EndTxn) times a second, so the highest rate is also run as
  // --parallel producers committing rate/parallel times a second each (next to as many
  // idempotent producers).
  const parallel = intFlag(flags.parallel, 'parallel', 1);
  const topRate = Math.max(...rates);
  type Run = { mode: 'idempotent' | 'flush' | 'transactional'; rate?: number; maxQueued?: number; producers: number; recordsPerSecond?: number };
  const runs: Run[] = [{ mode: 'idempotent', maxQueued: 100_000, producers: 1 }, { mode: 'idempotent', producers: 1 }];
  for (const rate of rates) {
    if (flags.flush !== 'false') runs.push({ mode: 'flush', rate, producers: 1 });
    runs.push({ mode: 'transactional', rate, producers: 1 });
  }
  if (parallel > 1) {
    runs.push({ mode: 'idempotent', producers: parallel });
    runs.push({ mode: 'transactional', rate: topRate / parallel, producers: parallel });
    // the same at an offered load each commit can keep up with: commit latency at the rate
    const paced = Math.round((Number(flags['paced-mbps']) * 1e6) / recordSize / parallel);
    if (paced > 0) {
      runs.push({ mode: 'idempotent', producers: parallel, recordsPerSecond: paced });
      runs.push({ mode: 'transactional', rate: topRate / parallel, producers: parallel, recordsPerSecond: paced });
    }
  }
  const rows: Array<Record<string, unknown>> = [];
  let failures = 0;
  try {
    const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
    for (const [i, run] of runs.entries()) {
      const topic = `bench-txn-${i}-${Date.now()}`;
      await ensureTopic(admin, topic, partitions);
      const cpu = cpuMeter(broker.pid());
      const durationsBefore = await requestDurations(broker.httpPort);
      const results = await Promise.all(
        Array.from({ length: run.producers }, (_, j) =>
          runPython({
            bootstrap: broker.bootstrap,
            topic,
            partitions,
            record_size: recordSize,
            seconds,
            mode: run.mode,
            commits_per_s: run.rate ?? null,
            transactional_id: `bench-txn-${i}-${j}`,
            linger_ms: Number(flags['linger-ms']),
            max_queued: run.maxQueued ?? intFlag(flags['max-queued'], 'max-queued', 1),
            ...(run.recordsPerSecond !== undefined ? { records_per_s: run.recordsPerSecond } : {}),
          }),
        ),
      );
      // the producers together: records and commits summed over the longest producer's time
      const r: PyResult = {
        ...results[0]!,
        seconds: Math.max(...results.map((x) => x.seconds)),
        delivered: results.reduce((a, x) => a + x.delivered, 0),
        failed: results.reduce((a, x) => a + x.failed, 0),
        undelivered: results.reduce((a, x) => a + x.undelivered, 0),
        commits: results.reduce((a, x) => a + x.commits, 0),
        commitMs: results.flatMap((x) => x.commitMs),
        endTxnMs: results.flatMap((x) => x.endTxnMs),
        clientCpuSeconds: results.reduce((a, x) => a + x.clientCpuSeconds, 0),
        errors: {},
      };
      for (const x of results) for (const [k, v] of Object.entries(x.errors)) r.errors[k] = (r.errors[k] ?? 0) + v;
      r.recordsPerSecond = r.delivered / r.seconds;
      r.mbPerSecond = (r.delivered * recordSize) / r.seconds / 1e6;
      const brokerCpu = cpu();
      const brokerSide = apiMeans(durationsBefore, await requestDurations(broker.httpPort), ['Produce', 'AddPartitionsToTxn', 'EndTxn']);
      const load = machineLoad();
      const lat = new LatencyRecorder();
      for (const ms of r.commitMs) lat.record(ms);
      const s = lat.summary();
      const endLat = new LatencyRecorder();
      for (const ms of r.endTxnMs) endLat.record(ms);
      const e = endLat.summary();
      const offered = run.recordsPerSecond !== undefined ? `, offered ${fmt((run.recordsPerSecond * run.producers * recordSize) / 1e6)} MB/s` : '';
      const each = run.producers > 1 ? ` (${run.producers} producers${run.rate !== undefined ? ` x ${run.rate}/s` : ''}${offered})` : '';
      const label = run.mode === 'idempotent' ? (run.maxQueued !== undefined ? 'idempotent, queue 100k' : `idempotent${each}`) : `${run.mode} ${run.rate! * run.producers}/s${each}`;
      const row = {
        run: label,
        recordsPerSecond: Math.round(r.recordsPerSecond),
        mbPerSecond: Number(r.mbPerSecond.toFixed(1)),
        commitsPerSecond: run.mode === 'idempotent' ? null : Number((r.commits / r.seconds).toFixed(1)),
        recordsPerCommit: run.mode === 'idempotent' || r.commits === 0 ? null : Math.round(r.delivered / r.commits),
        commitP50Ms: run.mode === 'idempotent' ? null : Number(s.p50.toFixed(1)),
        commitP99Ms: run.mode === 'idempotent' ? null : Number(s.p99.toFixed(1)),
        commitMaxMs: run.mode === 'idempotent' ? null : Number(s.max.toFixed(1)),
        endTxnP50Ms: run.mode === 'transactional' ? Number(e.p50.toFixed(1)) : null,
        endTxnP99Ms: run.mode === 'transactional' ? Number(e.p99.toFixed(1)) : null,
        brokerCpuPct: brokerCpu === undefined ? null : Math.round(brokerCpu * 100),
        clientCpuPct: Math.round((r.clientCpuSeconds / r.seconds) * 100),
        brokerMeanMs: Object.fromEntries(Object.entries(brokerSide).map(([api, v]) => [api, v.meanMs])),
        errors: r.failed + r.undelivered + Object.values(r.errors).reduce((a, b) => a + b, 0),
        ...load,
      };
      if (row.errors > 0) {
        failures++;
        console.log(`  ${label}: errors ${JSON.stringify(r.errors)}, failed ${r.failed}, undelivered ${r.undelivered}`);
      }
      rows.push(row);
      console.log(
        `${label.padEnd(58)} ${fmt(row.recordsPerSecond).padStart(9)} rec/s ${fmt(row.mbPerSecond, 1).padStart(7)} MB/s` +
          (row.commitsPerSecond === null ? '' : `  ${row.commitsPerSecond} commits/s, ${fmt(row.recordsPerCommit ?? 0)} rec/commit, ${run.mode === 'flush' ? 'flush' : 'commit'} p50/p99/max ${row.commitP50Ms}/${row.commitP99Ms}/${row.commitMaxMs} ms${run.mode === 'transactional' ? ` (commit_transaction after the flush p50/p99 ${row.endTxnP50Ms}/${row.endTxnP99Ms} ms)` : ''}`) +
          `  broker CPU ${row.brokerCpuPct}%, client CPU ${row.clientCpuPct}%; broker-side mean ${Object.entries(brokerSide).map(([api, v]) => `${api} ${v.meanMs} ms (${fmt(v.count)})`).join(', ')}; ${describeLoad(load)}`,
      );
      appendResult(flags['json-out'], { script: 'transactions', label: `${label} ${recordSize} B`, backend, recordSize, partitions, ...row });
    }
    admin.close();
  } finally {
    await broker.cleanup();
    if (backend === 'postgres-s3') {
      const { stopSharedPostgresS3 } = await import('../compat-tests/backends/test-backend.js');
      await stopSharedPostgresS3();
    }
  }
  console.log(JSON.stringify({ backend, recordSize, partitions, seconds, runs: rows }, null, 1));
  if (failures > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
