import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';

/** Agent-side Prometheus metrics (docs/architecture.md §12), all prefixed `streamhouse_`. */
export class BrokerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'api'>;
  readonly requestErrors: Counter<'api'>;
  readonly requestDuration: Histogram<'api'>;
  readonly connections: Gauge;
  readonly protocolErrors: Counter;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'streamhouse_process_' });
    this.requests = new Counter({ name: 'streamhouse_kafka_requests_total', help: 'Kafka requests handled, by API', labelNames: ['api'], registers: [this.registry] });
    this.requestErrors = new Counter({ name: 'streamhouse_kafka_request_errors_total', help: 'Kafka requests that failed inside the broker, by API', labelNames: ['api'], registers: [this.registry] });
    this.requestDuration = new Histogram({
      name: 'streamhouse_kafka_request_duration_seconds',
      help: 'Time from a request being read to its response being queued, by API',
      labelNames: ['api'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.connections = new Gauge({ name: 'streamhouse_kafka_connections', help: 'Open Kafka client connections', registers: [this.registry] });
    this.protocolErrors = new Counter({ name: 'streamhouse_kafka_protocol_errors_total', help: 'Connections closed because of malformed or unsupported frames', registers: [this.registry] });
  }
}
