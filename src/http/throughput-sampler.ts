// Live throughput and latency for the console, from the agent's own Prometheus metrics:
// every interval the counters and the Kafka request-duration histogram are read, and the
// difference to the last reading becomes one sample (rates per second, p99 in ms). Five
// minutes are kept.

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PeriodicTask } from '../agent/periodic-task.js';

export interface ThroughputSample {
  readonly time_ms: number;
  readonly records_in_per_sec: number;
  readonly bytes_in_per_sec: number;
  readonly bytes_out_per_sec: number;
  readonly produce_p99_ms: number | null;
  readonly fetch_p99_ms: number | null;
}

interface Reading {
  readonly at: number;
  readonly recordsIn: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Cumulative bucket counts by upper bound (seconds), per API. */
  readonly buckets: Map<string, Array<[number, number]>>;
}

const KEEP_MS = 5 * 60_000;

async function sumOf(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

async function bucketsOf(registry: Registry, name: string, apis: readonly string[]): Promise<Map<string, Array<[number, number]>>> {
  const out = new Map<string, Array<[number, number]>>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const api = v.labels.api;
    const metricName = 'metricName' in v ? v.metricName : undefined;
    if (metricName !== `${name}_bucket` || typeof api !== 'string' || !apis.includes(api)) continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    let list = out.get(api);
    if (!list) out.set(api, (list = []));
    list.push([le, v.value]);
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

/** The 99th percentile (ms) of what was observed between two readings of a histogram; null when nothing was. */
export function p99Between(before: Array<[number, number]> | undefined, after: Array<[number, number]> | undefined): number | null {
  if (!after || after.length === 0) return null;
  const earlier = new Map(before ?? []);
  const deltas = after.map(([le, count]) => [le, count - (earlier.get(le) ?? 0)] as const);
  const total = deltas[deltas.length - 1]![1];
  if (total <= 0) return null;
  const rank = total * 0.99;
  for (const [le, count] of deltas) {
    // the bucket's upper bound (the largest finite one for the +Inf bucket)
    if (count >= rank) return (Number.isFinite(le) ? le : (deltas[deltas.length - 2]?.[0] ?? 0)) * 1000;
  }
  return null;
}

export class ThroughputSampler {
  private readonly samples: ThroughputSample[] = [];
  private last: Reading | undefined;
  private readonly task: PeriodicTask<void>;

  constructor(
    private readonly registry: Registry,
    readonly intervalMs: number,
    logger: Logger,
  ) {
    this.task = new PeriodicTask({ run: () => this.sample(), intervalMs, firstDelayMs: 0, logger, failureMessage: 'throughput sample failed' });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  history(): readonly ThroughputSample[] {
    return this.samples;
  }

  private async sample(): Promise<void> {
    const reading: Reading = {
      at: Date.now(),
      recordsIn: await sumOf(this.registry, 'streamhouse_topic_records_in_total'),
      bytesIn: await sumOf(this.registry, 'streamhouse_topic_bytes_in_total'),
      bytesOut: await sumOf(this.registry, 'streamhouse_topic_bytes_out_total'),
      buckets: await bucketsOf(this.registry, 'streamhouse_kafka_request_duration_seconds', ['Produce', 'Fetch']),
    };
    const last = this.last;
    this.last = reading;
    if (!last) return;
    const seconds = (reading.at - last.at) / 1000;
    if (seconds <= 0) return;
    const rate = (now: number, then: number): number => Math.max(0, (now - then) / seconds);
    this.samples.push({
      time_ms: reading.at,
      records_in_per_sec: rate(reading.recordsIn, last.recordsIn),
      bytes_in_per_sec: rate(reading.bytesIn, last.bytesIn),
      bytes_out_per_sec: rate(reading.bytesOut, last.bytesOut),
      produce_p99_ms: p99Between(last.buckets.get('Produce'), reading.buckets.get('Produce')),
      fetch_p99_ms: p99Between(last.buckets.get('Fetch'), reading.buckets.get('Fetch')),
    });
    while (this.samples.length > 0 && this.samples[0]!.time_ms < reading.at - KEEP_MS) this.samples.shift();
  }
}
