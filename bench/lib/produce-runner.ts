import { randomBytes } from 'node:crypto';
import { errorInfo } from '../../src/protocol/error-codes.js';
import { decodeResponse } from '../../src/protocol/api-codec.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { KafkaConnection, prebuildRequest, type PrebuiltRequest, type SecureConnectOptions } from '../../test-kit/kafka-connection.js';
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';

const PRODUCE_VERSION = 9;

export interface ProduceRunOptions {
  readonly host: string;
  readonly port: number;
  readonly topic: string;
  readonly partitions: number;
  /** Partitions per request (each with one batch); the requests cycle over the partitions. */
  readonly partitionsPerRequest: number;
  readonly connections: number;
  /** Requests in flight per connection. */
  readonly inflight: number;
  readonly recordSize: number;
  readonly recordsPerBatch: number;
  readonly acks: 1 | -1;
  /** Measured seconds (after the warm-up); ignored when `requests` is set. */
  readonly durationS: number;
  readonly warmupS: number;
  /** Stop after this many requests in total (no warm-up, everything is measured). */
  readonly requests?: number;
  /** Throttle: record-value MB (10^6 bytes) per second over all connections; 0 = as fast as possible. */
  readonly rateMbS: number;
  readonly timeoutMs?: number;
  /** TLS and/or a SASL login for every connection (a listener that is not PLAINTEXT). */
  readonly secure?: SecureConnectOptions;
  /** Called once per second with the acknowledged records so far (progress output). */
  readonly onTick?: (seconds: number, records: number) => void;
}

export interface ProduceRunResult {
  readonly seconds: number;
  readonly requests: number;
  readonly records: number;
  /** Record values acknowledged, in bytes. */
  readonly valueBytes: number;
  /** Whole request frames sent, in bytes. */
  readonly wireBytes: number;
  readonly recordsPerSecond: number;
  /** Record-value MB (10^6 bytes) per second. */
  readonly mbPerSecond: number;
  readonly wireMbPerSecond: number;
  readonly latency: LatencySummary;
  /** Partition-level error codes by name, plus transport failures. */
  readonly errors: Record<string, number>;
  readonly errorCount: number;
  readonly requestBytes: number;
  readonly batchBytes: number;
  readonly clientCpu: number;
}

/** The same pre-built batch (baseOffset 0, no producer id, uncompressed) for every partition. */
export function buildBenchBatch(recordSize: number, recordsPerBatch: number): Buffer {
  const value = randomBytes(recordSize);
  const now = BigInt(Date.now());
  const records = Array.from({ length: recordsPerBatch }, () => ({ key: null, value, timestamp: now }));
  return buildRecordBatch({ baseOffset: 0n, records });
}

/**
 * Drives Produce requests over several connections with a window of requests in flight on
 * each. Throttled runs send on a fixed schedule and measure latency from the scheduled send
 * time, so a full window shows up as latency instead of silently lowering the load.
 */
export async function runProduce(opts: ProduceRunOptions): Promise<ProduceRunResult> {
  const batch = buildBenchBatch(opts.recordSize, opts.recordsPerBatch);
  const perRequest = Math.max(1, Math.min(opts.partitionsPerRequest, opts.partitions));
  const groups: number[][] = [];
  for (let p = 0; p < opts.partitions; p += perRequest) groups.push(Array.from({ length: Math.min(perRequest, opts.partitions - p) }, (_, i) => p + i));
  const prebuilt: PrebuiltRequest[] = groups.map((g) =>
    prebuildRequest(0, PRODUCE_VERSION, {
      transactionalId: null,
      acks: opts.acks,
      timeoutMs: opts.timeoutMs ?? 30000,
      topicData: [{ name: opts.topic, partitionData: g.map((index) => ({ index, records: batch })) }],
    }),
  );

  const conns = await Promise.all(Array.from({ length: opts.connections }, (_, i) => KafkaConnection.connect(opts.host, opts.port, `bench-produce-${i}`, opts.secure)));
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let errorCount = 0;
  let requests = 0;
  let records = 0;
  let wireBytes = 0;
  let totalAcked = 0;
  let sent = 0;
  let stopping = false;
  let fatal: Error | null = null;

  const t0 = performance.now();
  const countMode = opts.requests !== undefined && opts.requests > 0;
  const measureFrom = countMode ? t0 : t0 + opts.warmupS * 1000;
  const measureTo = countMode ? Number.POSITIVE_INFINITY : measureFrom + opts.durationS * 1000;
  const cpu0 = process.cpuUsage();
  let cpuAtMeasure: NodeJS.CpuUsage | null = countMode ? cpu0 : null;
  let measuredStart = countMode ? t0 : 0;

  // Throttle: requests per second for all connections, then each connection's own interval.
  const meanRequestValueBytes = (opts.partitions * opts.recordsPerBatch * opts.recordSize) / groups.length;
  const intervalMs = opts.rateMbS > 0 ? (opts.connections * meanRequestValueBytes) / (opts.rateMbS * 1e6) * 1000 : 0;

  let finishedResolve!: () => void;
  const finished = new Promise<void>((r) => (finishedResolve = r));
  let openConnections = conns.length;
  const idleChecks: Array<() => void> = [];

  conns.forEach((conn, ci) => {
    let nextGroup = ci % groups.length;
    let nextDue = t0 + (intervalMs * ci) / opts.connections;
    let timer: NodeJS.Timeout | undefined;
    let done = false;

    const finishIfIdle = () => {
      if (!done && stopping && conn.inFlight === 0) {
        done = true;
        if (timer) clearTimeout(timer);
        if (--openConnections === 0) finishedResolve();
      }
    };

    const sendOne = (dueAt: number) => {
      const g = nextGroup;
      nextGroup = (nextGroup + 1) % groups.length;
      const req = prebuilt[g]!;
      sent++;
      if (countMode && sent >= opts.requests!) stopping = true;
      conn.sendPrebuilt(req, (err, frame) => {
        const now = performance.now();
        if (err) {
          if (!stopping) fatal ??= err;
          stopping = true;
          errors.TRANSPORT = (errors.TRANSPORT ?? 0) + 1;
          errorCount++;
          finishIfIdle();
          return;
        }
        let ok = 0;
        const body = decodeResponse(0, PRODUCE_VERSION, frame!).body;
        for (const t of body.responses) {
          for (const p of t.partitionResponses) {
            if (p.errorCode === 0) ok++;
            else {
              const name = errorInfo(p.errorCode).name;
              errors[name] = (errors[name] ?? 0) + 1;
              errorCount++;
            }
          }
        }
        const acked = ok * opts.recordsPerBatch;
        totalAcked += acked;
        if (now >= measureFrom && now <= measureTo) {
          if (cpuAtMeasure === null) {
            cpuAtMeasure = process.cpuUsage();
            measuredStart = now;
          }
          requests++;
          records += acked;
          wireBytes += req.bytes;
          latency.record(now - dueAt);
        }
        if (now > measureTo) stopping = true;
        pump();
        finishIfIdle();
      });
    };

    const pump = () => {
      if (performance.now() > measureTo) stopping = true;
      if (stopping || done) return;
      if (intervalMs === 0) {
        while (!stopping && conn.inFlight < opts.inflight) sendOne(performance.now());
        return;
      }
      const now = performance.now();
      while (!stopping && conn.inFlight < opts.inflight && nextDue <= now) {
        sendOne(nextDue);
        nextDue += intervalMs;
      }
      if (!stopping && conn.inFlight < opts.inflight && !timer) {
        timer = setTimeout(() => {
          timer = undefined;
          pump();
          finishIfIdle();
        }, Math.max(0, nextDue - performance.now()));
      }
    };
    idleChecks.push(finishIfIdle);
    pump();
  });

  // stop sending at the end even if no response arrives any more
  const ticker = setInterval(() => {
    const now = performance.now();
    opts.onTick?.((now - t0) / 1000, totalAcked);
    if (now > measureTo) stopping = true;
    for (const check of idleChecks) check();
  }, 1000);
  // a broker that stops answering must not hang the run forever
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise((r) => (giveUp = setTimeout(r, (countMode ? 3600 : opts.warmupS + opts.durationS + 60) * 1000)))]);
  clearTimeout(giveUp);
  clearInterval(ticker);
  const end = Math.min(performance.now(), measureTo);
  const cpu = process.cpuUsage(cpuAtMeasure ?? cpu0);
  for (const c of conns) c.close();
  if (fatal) throw fatal;

  const seconds = Math.max(1e-9, (end - measuredStart) / 1000);
  const valueBytes = records * opts.recordSize;
  return {
    seconds,
    requests,
    records,
    valueBytes,
    wireBytes,
    recordsPerSecond: records / seconds,
    mbPerSecond: valueBytes / 1e6 / seconds,
    wireMbPerSecond: wireBytes / 1e6 / seconds,
    latency: latency.summary(),
    errors,
    errorCount,
    requestBytes: prebuilt[0]!.bytes,
    batchBytes: batch.length,
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}
