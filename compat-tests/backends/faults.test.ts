import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { readBatches, type BatchHeader } from '../durability/batch-headers.js';
import { checkCrashLog, type CrashLogVerdict } from '../durability/crash-log-check.js';
import { readWholeTopic, startDurableProducer, type DurableProducer, type ReadPartition } from '../durability/python-clients.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { startS3FaultProxy, type FaultAction, type FaultRuleHandle, type S3FaultProxy } from '../../test-kit/s3-fault-proxy.js';
import { createTopicsWithLeaders } from './create-topics.js';
import { inspectObjects } from './object-inspector.js';
import { sharedPostgresS3, type AllocatedStorage } from './test-backend.js';

// PostgreSQL + S3 (always: this is about those two stores) under faults, with librdkafka's
// idempotent producer (confluent-kafka, acks=all, message.timeout.ms longer than any
// outage) sending continuously. The broker reaches s3rver only through a fault-injecting
// HTTP proxy. Each fault phase runs for a while under load, then the faults stop and the
// producer must get acknowledgements again without anyone touching the broker; /health is
// polled throughout and must always answer. Afterwards every acknowledged record is in the
// log exactly once at its acknowledged offset, offsets are contiguous, and per producer
// epoch the batch sequences run without gaps or repeats (checkCrashLog).

const PARTITIONS = 3;
const RATE = 400;


async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Polls /health every 200 ms; counts answers and failures (no answer or not 200). */
function watchHealth(broker: BrokerProcess): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let ok = 0;
  const failed: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await fetch(`http://127.0.0.1:${broker.httpPort}/health`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.status === 200) ok++;
        else failed.push(`HTTP ${res.status} at ${new Date().toISOString()}`);
      } catch (err) {
        failed.push(`${(err as Error).message} at ${new Date().toISOString()}`);
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

/** streamhouse_flush_failures_total by stage (upload, commit), from /metrics. */
async function flushFailures(broker: BrokerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^streamhouse_flush_failures_total\{stage="([^"]+)"\} (\d+(?:\.\d+)?)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** The broker's warn/error log lines (pino JSON), counted by message. */
function brokerWarnings(output: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      const key = `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message.split('\n')[0]}` : ''}`;
      out[key] = (out[key] ?? 0) + 1;
    } catch {
      // not a log line
    }
  }
  return out;
}

/** librdkafka's debug log (msg context): each failed ProduceRequest for a partition, by error. */
function produceErrorsSeenByClient(producerLog: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of producerLog.matchAll(/MessageSet with \d+ message\(s\) \([^)]*\) encountered error: ([^(\n]+?) \(actions/g)) {
    const key = m[1]!.trim();
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

interface ProbeResult {
  /** Offsets of acknowledged sends, by value. */
  acked: Map<string, number>;
  failed: string[];
  /** kafkajs's "Failed to send messages: …" log lines (each a failed attempt it retried), by message. */
  retriedErrors: Record<string, number>;
}

/**
 * A second client with a short request timeout: an idempotent kafkajs producer sending one
 * record at a time (acks=all, timeout 2 s, so an S3 outage longer than that reaches it as
 * an error it retries) to its own one-partition topic.
 */
function startProbe(bootstrap: string, topic: string): { stop(): Promise<ProbeResult> } {
  const retriedErrors: Record<string, number> = {};
  const logCreator = () => (entry: LogEntry) => {
    const m = /^Failed to send messages: (.*)$/.exec(entry.log.message);
    if (m) retriedErrors[m[1]!] = (retriedErrors[m[1]!] ?? 0) + 1;
  };
  const kafka = new Kafka({ clientId: 'faults-probe', brokers: [bootstrap], logLevel: logLevel.ERROR, logCreator, retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 2000 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const acked = new Map<string, number>();
  const failed: string[] = [];
  let running = true;
  const loop = (async () => {
    await producer.connect();
    for (let n = 0; running; n++) {
      const value = `p-${n}`;
      try {
        const [md] = await producer.send({ topic, acks: -1, timeout: 2000, messages: [{ partition: 0, value }] });
        acked.set(value, Number(md!.baseOffset));
      } catch {
        failed.push(value);
      }
      await sleep(100);
    }
    await producer.disconnect();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { acked, failed, retriedErrors };
    },
  };
}

interface Harness {
  broker: BrokerProcess;
  producer: DurableProducer;
  topic: string;
  bootstrap: string;
  probeTopic: string;
}

describe('faults on PostgreSQL + S3 under a continuous idempotent producer (confluent-kafka)', () => {
  let cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });

  async function startHarness(storage: AllocatedStorage, s3Endpoint: string, label: string): Promise<Harness> {
    const broker = await startBrokerProcess({
      // single agents without leases: the second one only reads; lease hand-over is the cluster tests' subject
      args: ['--metadata', storage.metadataUrl, '--storage', storage.storageUrl, '--cluster', 'false'],
      // shorter per-attempt deadline so a stalled request is retried within the phase
      env: { ...storage.env, S3_ENDPOINT: s3Endpoint, S3_REQUEST_TIMEOUT_MS: '5000' },
    });
    cleanups.push(() => broker.cleanup());
    const topic = `faults-${label}-${randomUUID().slice(0, 8)}`;
    const admin = new Kafka({ clientId: 'faults-admin', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const probeTopic = `${topic}-probe`;
    expect(await createTopicsWithLeaders(admin, [{ topic, numPartitions: PARTITIONS }, { topic: probeTopic, numPartitions: 1 }])).toBe(true);
    await admin.disconnect();
    const producer = startDurableProducer({ bootstrap: broker.bootstrap, topic, partitions: PARTITIONS, rate: RATE, messageTimeoutMs: 300_000, debug: 'msg' });
    cleanups.push(() => producer.kill());
    await waitFor(() => producer.acked() > 0, 20_000, 'the first acknowledgement');
    return { broker, producer, topic, bootstrap: broker.bootstrap, probeTopic };
  }

  /** Waits for acknowledgements to move on after a fault phase, without help. */
  async function expectRecovery(h: Harness, phase: string): Promise<number> {
    const before = h.producer.acked();
    const started = Date.now();
    await waitFor(() => h.producer.acked() >= before + RATE / 2, 60_000, `acknowledgements after ${phase}`);
    expect(h.broker.process.exitCode).toBeNull();
    const res = await fetch(`http://127.0.0.1:${h.broker.httpPort}/health`);
    expect(res.status).toBe(200);
    return Date.now() - started;
  }

  /** The probe's log holds each acknowledged value once, at its acknowledged offset, and nothing else. */
  async function checkProbe(h: Harness, probe: ProbeResult): Promise<string[]> {
    const [part] = await readWholeTopic(h.bootstrap, h.probeTopic, 1);
    const problems: string[] = [];
    if (part!.low !== 0 || part!.records.length !== part!.high) problems.push(`probe log ${part!.low}..${part!.high} holds ${part!.records.length} records`);
    const seen = new Set<string>();
    part!.records.forEach(([offset, , value], i) => {
      if (offset !== i) problems.push(`probe record #${i} at offset ${offset}`);
      if (seen.has(value!)) problems.push(`probe value ${value} twice`);
      seen.add(value!);
      const at = probe.acked.get(value!);
      if (at === undefined && !probe.failed.includes(value!)) problems.push(`probe value ${value} was never sent`);
      else if (at !== undefined && at !== offset) problems.push(`probe value ${value} acknowledged at ${at}, found at ${offset}`);
    });
    for (const value of probe.acked.keys()) if (!seen.has(value)) problems.push(`probe value ${value} acknowledged but missing`);
    return problems;
  }

  /** Stops the producer, reads the whole log and checks it against the delivery reports. */
  async function finish(h: Harness): Promise<{ verdict: CrashLogVerdict; produced: number; log: ReadPartition[] }> {
    await sleep(500);
    const summary = await h.producer.stop();
    expect(summary.outstanding).toBe(0);
    const log = await readWholeTopic(h.bootstrap, h.topic, PARTITIONS);
    const batches: BatchHeader[][] = [];
    for (let p = 0; p < PARTITIONS; p++) batches.push((await readBatches(h.bootstrap, h.topic, p)).map(({ bytes: _, ...header }) => header));
    const verdict = checkCrashLog(h.producer.reports, summary.produced, log, { batches });
    return { verdict, produced: summary.produced, log };
  }

  it('S3 answering 500/503, slowly, dropping connections and losing responses of stored objects', async () => {
    const backend = await sharedPostgresS3();
    const storage = await backend.allocate('s3faults');
    const proxy: S3FaultProxy = await startS3FaultProxy({ upstream: backend.s3.endpoint });
    cleanups.push(() => proxy.close());
    const h = await startHarness(storage, proxy.endpoint, 's3');
    const health = watchHealth(h.broker);
    cleanups.push(async () => void (await health.stop()));
    const probe = startProbe(h.bootstrap, h.probeTopic);
    cleanups.push(async () => void (await probe.stop()));

    const phases: Array<{ name: string; rules: () => FaultRuleHandle[]; windowMs: number }> = [
      { name: 'burst of HTTP 500 on PUT', windowMs: 3000, rules: () => [proxy.addRule({ method: 'PUT', times: 12, action: { kind: 'error', status: 500, code: 'InternalError' } })] },
      { name: 'HTTP 503 SlowDown on everything for 2 s', windowMs: 2000, rules: () => [proxy.addRule({ action: { kind: 'error', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } })] },
      { name: '800 ms added latency for 3 s', windowMs: 3000, rules: () => [proxy.addRule({ action: { kind: 'delay', ms: 800 } })] },
      { name: 'dropped connections on PUT', windowMs: 3000, rules: () => [proxy.addRule({ method: 'PUT', times: 10, action: { kind: 'drop' } })] },
      { name: 'PUT stored but the response lost', windowMs: 3000, rules: () => [proxy.addRule({ method: 'PUT', times: 10, action: { kind: 'lose-response' } })] },
      { name: 'S3 unavailable (every request 503) for 6 s', windowMs: 6000, rules: () => [proxy.addRule({ action: { kind: 'error', status: 503, code: 'ServiceUnavailable' } })] },
      {
        name: 'all of the above, interleaved',
        windowMs: 4000,
        rules: () =>
          (
            [
              { kind: 'error', status: 500, code: 'InternalError' },
              { kind: 'lose-response' },
              { kind: 'error', status: 503, code: 'SlowDown' },
              { kind: 'drop' },
              { kind: 'delay', ms: 1500 },
            ] satisfies FaultAction[]
          ).flatMap((action) => [proxy.addRule({ method: 'PUT', times: 3, action })]),
      },
    ];
    const report: Array<{ phase: string; faults: number; recoveredMs: number }> = [];
    for (const phase of phases) {
      await sleep(1500);
      const handles = phase.rules();
      await sleep(phase.windowMs);
      for (const r of handles) r.remove();
      const faults = handles.reduce((n, r) => n + r.hits, 0);
      // each phase really hit the broker's requests
      expect(faults, phase.name).toBeGreaterThan(0);
      report.push({ phase: phase.name, faults, recoveredMs: await expectRecovery(h, phase.name) });
    }
    const brokerFailures = await flushFailures(h.broker);
    const probed = await probe.stop();
    const { verdict, produced, log } = await finish(h);
    const { ok, failed } = await health.stop();
    const clientErrors = produceErrorsSeenByClient(h.producer.stderr());
    const probeProblems = await checkProbe(h, probed);

    // reads through faults: a new broker (empty caches) on the same stores reads every object
    // back while the first GET of each object fails in some way; the store retries each
    const keys = await (async () => {
      const objects = inspectObjects({ storageUrl: storage.storageUrl, storageEnv: storage.env });
      try {
        return (await objects.keys()).filter((k) => k.endsWith('.seg'));
      } finally {
        objects.close();
      }
    })();
    await h.broker.stop();
    const readActions: FaultAction[] = [
      { kind: 'error', status: 500, code: 'InternalError' },
      { kind: 'error', status: 503, code: 'SlowDown' },
      { kind: 'drop' },
      { kind: 'truncate', bytes: 7 },
      { kind: 'lose-response' },
      { kind: 'delay', ms: 300 },
    ];
    const readRules = keys.map((key, i) => proxy.addRule({ method: 'GET', path: `/${storage.bucket}/${storage.prefix}/${key}`, times: 1, action: readActions[i % readActions.length]! }));
    const reader = await startBrokerProcess({
      // single agents without leases: the second one only reads; lease hand-over is the cluster tests' subject
      args: ['--metadata', storage.metadataUrl, '--storage', storage.storageUrl, '--cluster', 'false'],
      env: { ...storage.env, S3_ENDPOINT: proxy.endpoint, S3_REQUEST_TIMEOUT_MS: '5000' },
    });
    cleanups.push(() => reader.cleanup());
    const reread = await readWholeTopic(reader.bootstrap, h.topic, PARTITIONS);
    const readFaults = readRules.reduce((n, r) => n + r.hits, 0);

    console.log(
      JSON.stringify(
        {
          scenario: 's3-faults',
          produced,
          hwms: log.map((p) => p.high),
          phases: report,
          brokerFlushFailures: brokerFailures,
          librdkafkaProduceErrors: clientErrors,
          probe: { acked: probed.acked.size, failed: probed.failed.length, retriedErrors: probed.retriedErrors, problems: probeProblems.slice(0, 20) },
          health: { ok, failed: failed.length },
          readFaults,
          objects: keys.length,
          ...verdict,
          problems: verdict.problems.slice(0, 20),
        },
        null,
        1,
      ),
    );
    expect(verdict.problems).toEqual([]);
    // message.timeout.ms outlasts every fault: nothing may fail, everything is in the log once
    expect(verdict.failed).toBe(0);
    expect(verdict.acked).toBe(produced);
    expect(verdict.inLog).toBe(produced);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    // the broker saw failed uploads and retried them
    expect(brokerFailures.upload ?? 0).toBeGreaterThan(0);
    expect(reread).toEqual(log);
    expect(readFaults).toBeGreaterThan(0);
    // the short-timeout client saw the outage as errors, retried, and lost or doubled nothing
    expect(probeProblems).toEqual([]);
    expect(probed.failed).toEqual([]);
    expect(Object.values(probed.retriedErrors).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('PostgreSQL restarted with pg_ctl restart -m immediate, twice, mid-load', async () => {
    const backend = await sharedPostgresS3();
    const storage = await backend.allocate('pgrestart');
    const h = await startHarness(storage, backend.s3.endpoint, 'pg');
    const health = watchHealth(h.broker);
    cleanups.push(async () => void (await health.stop()));
    const probe = startProbe(h.bootstrap, h.probeTopic);
    cleanups.push(async () => void (await probe.stop()));

    const report: Array<{ restart: number; restartMs: number; recoveredMs: number; transactionsCut: number; commitFailures: number }> = [];
    for (let i = 1; i <= 2; i++) {
      await sleep(3000);
      const failuresBefore = (await flushFailures(h.broker)).commit ?? 0;
      // A restart on an idle moment can fall between two commits and hurt nobody. Hold the
      // partitions table so the broker's next commits wait inside open transactions, then
      // crash the server under them: their outcome is unknown to the broker.
      const blocker = new pg.Client({ connectionString: storage.metadataUrl });
      blocker.on('error', () => {});
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE partitions IN ACCESS EXCLUSIVE MODE');
      await sleep(400);
      // the broker's transactions now waiting on that lock: the crash cuts them mid-flight
      const watcher = new pg.Client({ connectionString: storage.metadataUrl });
      await watcher.connect();
      const waiting = Number(
        (await watcher.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n,
      );
      await watcher.end();
      const started = Date.now();
      await backend.postgres.restartImmediate();
      const restartMs = Date.now() - started;
      await blocker.end().catch(() => {});
      const recoveredMs = await expectRecovery(h, `PostgreSQL restart #${i}`);
      const commitFailures = ((await flushFailures(h.broker)).commit ?? 0) - failuresBefore;
      report.push({ restart: i, restartMs, recoveredMs, transactionsCut: waiting, commitFailures });
      // The crash really cut broker transactions in flight. Whether the flush sees a failure
      // depends on where it was cut: the store reruns a transaction whose COMMIT was not
      // sent yet by itself, only an unknown outcome reaches the flush (reported, not asserted).
      expect(waiting, `broker transactions in flight at restart #${i}`).toBeGreaterThan(0);
    }
    const brokerFailures = await flushFailures(h.broker);
    const probed = await probe.stop();
    const { verdict, produced, log } = await finish(h);
    const { ok, failed } = await health.stop();
    const clientErrors = produceErrorsSeenByClient(h.producer.stderr());
    const probeProblems = await checkProbe(h, probed);
    console.log(
      JSON.stringify({ scenario: 'postgres-restart', produced, hwms: log.map((p) => p.high), restarts: report, brokerFlushFailures: brokerFailures, librdkafkaProduceErrors: clientErrors, brokerWarnings: brokerWarnings(h.broker.output()), probe: { acked: probed.acked.size, failed: probed.failed.length, retriedErrors: probed.retriedErrors, problems: probeProblems.slice(0, 20) }, health: { ok, failed: failed.length }, ...verdict, problems: verdict.problems.slice(0, 20) }, null, 1),
    );
    expect(verdict.problems).toEqual([]);
    expect(verdict.failed).toBe(0);
    expect(verdict.acked).toBe(produced);
    expect(verdict.inLog).toBe(produced);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    // whether a client sees an error depends on whether the database is back within its
    // request's deadline (the broker retries the commit until then): reported, not asserted
    expect(probeProblems).toEqual([]);
    expect(probed.failed).toEqual([]);
  });
});
