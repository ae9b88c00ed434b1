import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import { errorInfo } from '../protocol/error-codes.js';

/**
 * Latency buckets (seconds) shared by the request histograms of the three doors and the
 * stores: 0.5 ms to 30 s.
 */
export const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * prom-client's default metrics that are gauges named `_total` (the sums of their
 * by-type siblings `nodejs_active_handles` etc., which stay): Prometheus reserves `_total`
 * for counters and `promtool check metrics` rejects them.
 */
const DEFAULT_GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Memoises one value per key: prom-client's label children, so a hot path does not hash label sets. */
function perKey<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = make(key)));
    return v;
  };
}

/**
 * Counts the non-zero `errorCode` fields of a Kafka response body: the top-level one and
 * those of every topic, partition, member or resource inside it (as Kafka's own
 * `ErrorsPerSec{request,error}` does). Walks plain objects and arrays only, so record
 * bytes (Buffers, ByteParts) are never looked into.
 */
export function forEachResponseError(body: unknown, found: (code: number) => void, depth = 0): void {
  if (depth > 6 || typeof body !== 'object' || body === null) return;
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) {
      const item: unknown = body[i];
      if (typeof item === 'object' && item !== null) forEachResponseError(item, found, depth + 1);
    }
    return;
  }
  if (Object.getPrototypeOf(body) !== Object.prototype) return;
  const o = body as Record<string, unknown>;
  const code = o.errorCode;
  if (typeof code === 'number' && code !== 0) found(code);
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) forEachResponseError(v, found, depth + 1);
}

/**
 * Agent-side Prometheus metrics of the three doors (docs/operations.md "Metrics"), all
 * prefixed `streamhouse_`; the core's own (flush, cache, leases, groups, stores) are
 * registered in the same registry by src/server/start-agent.ts.
 */
export class BrokerMetrics {
  readonly registry = new Registry();
  // Kafka door
  readonly requests: Counter<'api'>;
  readonly requestErrors: Counter<'api'>;
  readonly responseErrors: Counter<'api' | 'error'>;
  readonly requestDuration: Histogram<'api'>;
  readonly connections: Gauge;
  readonly protocolErrors: Counter;
  // gRPC door
  readonly grpcRequests: Counter<'service' | 'method' | 'code'>;
  readonly grpcRequestDuration: Histogram<'service' | 'method'>;
  readonly grpcActiveStreams: Gauge<'service' | 'method'>;
  // HTTP door
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestErrors: Counter<'method' | 'route' | 'error_code'>;
  readonly httpRequestDuration: Histogram<'method' | 'route'>;

  private readonly kafkaRequestsOf = perKey((api) => this.requests.labels({ api }));
  private readonly kafkaDurationOf = perKey((api) => this.requestDuration.labels({ api }));
  private readonly kafkaErrorOf = perKey((key) => {
    const [api, code] = key.split('\0') as [string, string];
    return this.responseErrors.labels({ api, error: errorInfo(Number(code)).name });
  });

  constructor() {
    // process_* and nodejs_* as prom-client names them, under our prefix
    collectDefaultMetrics({ register: this.registry, prefix: 'streamhouse_' });
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(`streamhouse_${name}`);
    const registers = [this.registry];

    this.requests = new Counter({ name: 'streamhouse_kafka_requests_total', help: 'Kafka requests handled (answered or failed), by API', labelNames: ['api'], registers });
    this.requestErrors = new Counter({ name: 'streamhouse_kafka_request_errors_total', help: 'Kafka requests that failed inside the broker (no answer, connection closed), by API', labelNames: ['api'], registers });
    this.responseErrors = new Counter({
      name: 'streamhouse_kafka_response_errors_total',
      help: 'Error codes in Kafka responses (top level and per topic, partition, member), by API and Kafka error name',
      labelNames: ['api', 'error'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'streamhouse_kafka_request_duration_seconds',
      help: 'Time from a Kafka request being read to its response being queued (a Fetch includes its wait), by API',
      labelNames: ['api'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    });
    this.connections = new Gauge({ name: 'streamhouse_kafka_connections', help: 'Open Kafka client connections', registers });
    this.protocolErrors = new Counter({ name: 'streamhouse_kafka_protocol_errors_total', help: 'Kafka connections closed because of malformed or unsupported frames', registers });

    this.grpcRequests = new Counter({
      name: 'streamhouse_grpc_requests_total',
      help: 'gRPC calls finished, by service, method and status code (OK included); a Subscribe stream counts when it ends',
      labelNames: ['service', 'method', 'code'],
      registers,
    });
    this.grpcRequestDuration = new Histogram({
      name: 'streamhouse_grpc_request_duration_seconds',
      help: 'Time from a unary gRPC call arriving to its answer, by service and method (streams are not timed)',
      labelNames: ['service', 'method'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    });
    this.grpcActiveStreams = new Gauge({ name: 'streamhouse_grpc_active_streams', help: 'gRPC server streams open now (Subscribe)', labelNames: ['service', 'method'], registers });

    this.httpRequests = new Counter({
      name: 'streamhouse_http_requests_total',
      help: 'HTTP requests answered, by method, route template (never the raw URL) and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpRequestErrors = new Counter({
      name: 'streamhouse_http_request_errors_total',
      help: 'HTTP requests answered with a JSON error, by method, route template and error_code of the answer',
      labelNames: ['method', 'route', 'error_code'],
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: 'streamhouse_http_request_duration_seconds',
      help: 'Time from an HTTP request arriving to its response being sent, by method and route template',
      labelNames: ['method', 'route'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    });
  }

  /** One Kafka request handled: counted, timed, and the error codes its response carries counted. */
  kafkaRequestDone(api: string, seconds: number, response: unknown): void {
    this.kafkaRequestsOf(api).inc();
    this.kafkaDurationOf(api).observe(seconds);
    if (response !== undefined) forEachResponseError(response, (code) => this.kafkaErrorOf(`${api}\0${code}`).inc());
  }

  /** One Kafka request whose handler failed (the connection is closed). */
  kafkaRequestFailed(api: string, seconds: number): void {
    this.kafkaRequestsOf(api).inc();
    this.kafkaDurationOf(api).observe(seconds);
    this.requestErrors.inc({ api });
  }
}
