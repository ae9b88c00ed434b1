// Client-side Prometheus metrics of the typed gRPC client: `streamhouse_producer_*` and
// `streamhouse_consumer_*`, labelled by client_id (and topic, partition where they are about
// one). An application passes the prom-client Registry it exposes (ProducerOptions.registry,
// ConsumerOptions.registry), or exposes `defaultClientRegistry`, where clients register
// without one. Clients sharing a registry share the metric families; their series differ by
// client_id. Gauges are read from the live clients at scrape time, so a closed client's
// gauges disappear.

import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

/** Where clients created without a `registry` option put their metrics; expose it with `await defaultClientRegistry.metrics()`. */
export const defaultClientRegistry = new Registry();

export interface ClientMetricsOptions {
  /** The prom-client Registry for this client's metrics (default: `defaultClientRegistry`). */
  readonly registry?: Registry;
  /** The client_id label of this client's series (default producer-<n>, consumer-<n>, subscription-<n>). */
  readonly clientId?: string;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RECORD_COUNT_BUCKETS = [1, 5, 10, 50, 100, 500, 1000, 5000, 10000];
const BYTE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

let clientSequence = 0;

/** A client id of its own for a client that was given none. */
export function defaultClientId(kind: 'producer' | 'consumer' | 'subscription'): string {
  return `${kind}-${++clientSequence}`;
}

/** The metric of this name already in the registry (another client made it), or a new one. */
function family<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Memoised label children per key (the hot paths do not hash label sets). */
function perKey<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = make(key)));
    return v;
  };
}

/** What the `pending_records` gauge reads from a live producer. */
export interface PendingSource {
  readonly clientId: string;
  pendingRecords(): number;
}

/** What the consumer gauges read from a live consumer, per partition. */
export interface PositionSource {
  readonly clientId: string;
  positions(): ReadonlyArray<{
    readonly topic: string;
    readonly partition: number;
    readonly position: bigint | undefined;
    readonly highWatermark: bigint | undefined;
    readonly committed: bigint | undefined;
    /** Timestamp (ms) of the oldest record not yet handed out, or of the last one handed out. */
    readonly nextTimestampMs: number | undefined;
  }>;
}

interface ProducerFamilies {
  readonly recordsSent: Counter<'client_id' | 'topic'>;
  readonly bytesSent: Counter<'client_id' | 'topic'>;
  readonly sendErrors: Counter<'client_id' | 'topic'>;
  readonly sendDuration: Histogram<'client_id' | 'topic'>;
  readonly batchFlushDuration: Histogram<'client_id' | 'topic'>;
  readonly batchSizeRecords: Histogram<'client_id' | 'topic'>;
  readonly batchSizeBytes: Histogram<'client_id' | 'topic'>;
  readonly live: Set<PendingSource>;
}

interface ConsumerFamilies {
  readonly recordsConsumed: Counter<'client_id' | 'topic'>;
  readonly bytesConsumed: Counter<'client_id' | 'topic'>;
  readonly fetchErrors: Counter<'client_id' | 'topic'>;
  readonly pollDuration: Histogram<'client_id'>;
  readonly live: Set<PositionSource>;
}

const producerFamilies = new WeakMap<Registry, ProducerFamilies>();
const consumerFamilies = new WeakMap<Registry, ConsumerFamilies>();

function producerFamiliesOf(registry: Registry): ProducerFamilies {
  let f = producerFamilies.get(registry);
  if (f) return f;
  const registers = [registry];
  const labelNames = ['client_id', 'topic'] as const;
  const live = new Set<PendingSource>();
  const histogram = (name: string, help: string, buckets: number[]) => family(registry, name, () => new Histogram({ name, help, labelNames, buckets, registers }));
  f = {
    recordsSent: family(registry, 'streamhouse_producer_records_sent_total', () => new Counter({ name: 'streamhouse_producer_records_sent_total', help: 'Records the broker acknowledged, by client and topic', labelNames, registers })),
    bytesSent: family(registry, 'streamhouse_producer_bytes_sent_total', () =>
      new Counter({ name: 'streamhouse_producer_bytes_sent_total', help: 'Record batch bytes the broker acknowledged (as the log stores them), by client and topic', labelNames, registers }),
    ),
    sendErrors: family(registry, 'streamhouse_producer_send_errors_total', () =>
      new Counter({ name: 'streamhouse_producer_send_errors_total', help: 'Records whose send failed after its retries, by client and topic', labelNames, registers }),
    ),
    sendDuration: histogram('streamhouse_producer_send_duration_seconds', 'Time from send() to the broker acknowledging the record, by client and topic', LATENCY_BUCKETS),
    batchFlushDuration: histogram('streamhouse_producer_batch_flush_duration_seconds', 'Time of one batch round trip to the broker, retries included, by client and topic', LATENCY_BUCKETS),
    batchSizeRecords: histogram('streamhouse_producer_batch_size_records', 'Records per batch sent, by client and topic', RECORD_COUNT_BUCKETS),
    batchSizeBytes: histogram('streamhouse_producer_batch_size_bytes', 'Bytes per record batch sent (after compression), by client and topic', BYTE_BUCKETS),
    live,
  };
  family(registry, 'streamhouse_producer_pending_records', () =>
    new Gauge({
      name: 'streamhouse_producer_pending_records',
      help: 'Records given to send() and not yet answered, by client',
      labelNames: ['client_id'],
      registers,
      collect() {
        this.reset();
        for (const p of live) this.set({ client_id: p.clientId }, p.pendingRecords());
      },
    }),
  );
  producerFamilies.set(registry, f);
  return f;
}

function consumerFamiliesOf(registry: Registry): ConsumerFamilies {
  let f = consumerFamilies.get(registry);
  if (f) return f;
  const registers = [registry];
  const labelNames = ['client_id', 'topic'] as const;
  const live = new Set<PositionSource>();
  f = {
    recordsConsumed: family(registry, 'streamhouse_consumer_records_consumed_total', () =>
      new Counter({ name: 'streamhouse_consumer_records_consumed_total', help: 'Records handed to the application, by client and topic', labelNames, registers }),
    ),
    bytesConsumed: family(registry, 'streamhouse_consumer_bytes_consumed_total', () =>
      new Counter({ name: 'streamhouse_consumer_bytes_consumed_total', help: 'Key, value and header bytes of the records handed to the application, by client and topic', labelNames, registers }),
    ),
    fetchErrors: family(registry, 'streamhouse_consumer_fetch_errors_total', () =>
      new Counter({ name: 'streamhouse_consumer_fetch_errors_total', help: 'Fetches (Consume calls) that failed, by client and topic', labelNames, registers }),
    ),
    pollDuration: family(registry, 'streamhouse_consumer_poll_duration_seconds', () =>
      new Histogram({ name: 'streamhouse_consumer_poll_duration_seconds', help: 'Time of one poll() call, its wait included, by client', labelNames: ['client_id'], buckets: LATENCY_BUCKETS, registers }),
    ),
    live,
  };
  const perPartition = ['client_id', 'topic', 'partition'] as const;
  const gauge = (name: string, help: string, value: (p: ReturnType<PositionSource['positions']>[number], now: number) => number | undefined) =>
    family(registry, name, () =>
      new Gauge({
        name,
        help,
        labelNames: perPartition,
        registers,
        collect() {
          this.reset();
          const now = Date.now();
          for (const c of live) {
            for (const p of c.positions()) {
              const v = value(p, now);
              if (v !== undefined) this.set({ client_id: c.clientId, topic: p.topic, partition: String(p.partition) }, v);
            }
          }
        },
      }),
    );
  gauge('streamhouse_consumer_lag_records', 'Records between the position and the high watermark last seen, by client and partition', (p) =>
    p.position === undefined || p.highWatermark === undefined ? undefined : Math.max(0, Number(p.highWatermark - p.position)),
  );
  gauge('streamhouse_consumer_lag_seconds', 'Age of the oldest record not yet handed out (0 when caught up), by client and partition', (p, now) => {
    if (p.position === undefined || p.highWatermark === undefined) return undefined;
    if (p.position >= p.highWatermark) return 0;
    return p.nextTimestampMs === undefined ? undefined : Math.max(0, (now - p.nextTimestampMs) / 1000);
  });
  gauge('streamhouse_consumer_current_offset', 'Offset of the next record poll() hands out, by client and partition', (p) => (p.position === undefined ? undefined : Number(p.position)));
  gauge('streamhouse_consumer_last_committed_offset', 'Offset this client last committed for its group, by client and partition', (p) => (p.committed === undefined ? undefined : Number(p.committed)));
  consumerFamilies.set(registry, f);
  return f;
}

/** The producer's instruments, children per topic memoised. */
export class ProducerMetrics {
  readonly clientId: string;
  private readonly f: ProducerFamilies;
  private readonly of = perKey((topic) => {
    const labels = { client_id: this.clientId, topic };
    return {
      records: this.f.recordsSent.labels(labels),
      bytes: this.f.bytesSent.labels(labels),
      errors: this.f.sendErrors.labels(labels),
      send: this.f.sendDuration.labels(labels),
      flush: this.f.batchFlushDuration.labels(labels),
      batchRecords: this.f.batchSizeRecords.labels(labels),
      batchBytes: this.f.batchSizeBytes.labels(labels),
    };
  });

  private readonly registered: PendingSource;

  constructor(options: ClientMetricsOptions, pendingRecords: () => number) {
    this.clientId = options.clientId ?? defaultClientId('producer');
    this.f = producerFamiliesOf(options.registry ?? defaultClientRegistry);
    this.registered = { clientId: this.clientId, pendingRecords };
    this.f.live.add(this.registered);
  }

  /** A batch was acknowledged: its records, its bytes, its round trip and each record's wait since send(). */
  batchSent(topic: string, records: number, bytes: number, flushSeconds: number, sendStartedAt: readonly number[], now: number, batch: boolean): void {
    const m = this.of(topic);
    m.records.inc(records);
    m.bytes.inc(bytes);
    m.flush.observe(flushSeconds);
    if (batch) {
      m.batchRecords.observe(records);
      m.batchBytes.observe(bytes);
    }
    for (const at of sendStartedAt) m.send.observe((now - at) / 1000);
  }

  sendFailed(topic: string, records: number): void {
    this.of(topic).errors.inc(records);
  }

  close(): void {
    this.f.live.delete(this.registered);
  }
}

/** The consumer's (or a subscription's) instruments. */
export class ConsumerMetrics {
  readonly clientId: string;
  private readonly f: ConsumerFamilies;
  private readonly poll: ReturnType<Histogram<'client_id'>['labels']>;
  private readonly of = perKey((topic) => {
    const labels = { client_id: this.clientId, topic };
    return { records: this.f.recordsConsumed.labels(labels), bytes: this.f.bytesConsumed.labels(labels), errors: this.f.fetchErrors.labels(labels) };
  });
  private readonly registered: PositionSource | undefined;

  constructor(options: ClientMetricsOptions, kind: 'consumer' | 'subscription', positions?: PositionSource['positions']) {
    this.clientId = options.clientId ?? defaultClientId(kind);
    this.f = consumerFamiliesOf(options.registry ?? defaultClientRegistry);
    this.poll = this.f.pollDuration.labels({ client_id: this.clientId });
    if (positions) {
      this.registered = { clientId: this.clientId, positions };
      this.f.live.add(this.registered);
    }
  }

  consumed(topic: string, records: number, bytes: number): void {
    const m = this.of(topic);
    m.records.inc(records);
    m.bytes.inc(bytes);
  }

  fetchFailed(topic: string): void {
    this.of(topic).errors.inc();
  }

  polled(seconds: number): void {
    this.poll.observe(seconds);
  }

  close(): void {
    if (this.registered) this.f.live.delete(this.registered);
  }
}
