// The agent's /metrics: names follow Prometheus conventions, and the series of each door,
// the stores, the caches and the log count what really happened.

import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../test-kit/kafka-connection.js';
import { AdminClient } from '../grpc/client/admin-client.js';
import { Consumer } from '../grpc/client/consumer.js';
import { Producer } from '../grpc/client/producer.js';
import { startGrpcTestBroker, type GrpcTestBroker } from '../grpc/test-support/grpc-broker.js';
import { StreamHouseError } from '../grpc/client/streamhouse-error.js';

/** Units a histogram or gauge of ours may end in. */
const UNITS = ['seconds', 'bytes', 'records'];

/**
 * Breaches of the naming rules (https://prometheus.io/docs/practices/naming/) in a registry:
 * snake_case under the streamhouse_ prefix with help text; `_total` on counters and only on
 * counters; histograms end in a unit; durations, lags and ages in `_seconds`; sizes in
 * `_bytes`; no abbreviated or non-base units.
 */
async function namingBreaches(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  for (const m of (await registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>) {
    const name = m.name;
    const type = String(m.type);
    const base = name.replace(/_total$/, '');
    if (!/^streamhouse_[a-z][a-z0-9_]*$/.test(name)) out.push(`${name}: not snake_case under streamhouse_`);
    if (!m.help) out.push(`${name}: no help`);
    if (type === 'counter' && !name.endsWith('_total')) out.push(`${name}: counter without _total`);
    if (type !== 'counter' && name.endsWith('_total')) out.push(`${name}: ${type} named _total`);
    if (type === 'histogram' && !UNITS.some((u) => name.endsWith(`_${u}`))) out.push(`${name}: histogram without a unit suffix`);
    if (/(duration|latency|lag_seconds|_age(_|$)|_time)/.test(base) && !base.endsWith('_seconds')) out.push(`${name}: a time not in _seconds`);
    // bytes are the unit: `_bytes`, or for counters the project's `_bytes_<direction>_total` (bytes_in, bytes_sent: SPEC names)
    if (/bytes/.test(base) && !base.endsWith('_bytes') && !(type === 'counter' && /_bytes_(in|out|sent|consumed|written|read)$/.test(base))) out.push(`${name}: bytes not as the unit`);
    if (/_size/.test(base) && !/_(bytes|records)$/.test(base)) out.push(`${name}: a size without its unit`);
    if (/_(ms|millis|milliseconds|us|microseconds|sec|secs|kb|kib|mb|mib|percent|ratio)(_|$)/.test(base)) out.push(`${name}: abbreviated or non-base unit`);
  }
  return out;
}

/** Every sample of the exposition text: `name{labels}` -> value. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

let b: GrpcTestBroker;
let admin: AdminClient;
let http: string;
const clientRegistry = new Registry();

beforeAll(async () => {
  b = await startGrpcTestBroker();
  admin = new AdminClient({ address: b.address });
  http = `http://127.0.0.1:${b.broker.httpPort}`;
  // traffic through every door, so that every labelled family has series
  await admin.createTopic('am-orders', { partitions: 2 });
  const producer = new Producer({ address: b.address, registry: clientRegistry, clientId: 'am-p' });
  await Promise.all([...Array(30).keys()].map((i) => producer.send({ topic: 'am-orders', partition: i % 2, value: `v${i}` })));
  await producer.close();
  const consumer = new Consumer({ address: b.address, registry: clientRegistry, clientId: 'am-c', topics: ['am-orders'], groupId: 'am-g', offsetReset: 'earliest' });
  let n = 0;
  while (n < 30) n += (await consumer.poll(1000)).length;
  await consumer.close();
  await fetch(`${http}/api/v1/topics/am-orders`);
  await fetch(`${http}/api/v1/topics/am-missing`);
  await fetch(`${http}/no/such/route?x=1`);
});

afterAll(async () => {
  admin.close();
  await b?.close();
});

describe('agent metrics', () => {
  it('naming rules catch what promtool and the Prometheus guide reject', async () => {
    const bad = new Registry();
    const registers = [bad];
    new Gauge({ name: 'streamhouse_things_total', help: 'h', registers });
    new Counter({ name: 'streamhouse_things', help: 'h', registers });
    new Histogram({ name: 'streamhouse_flush_duration', help: 'h', registers });
    new Gauge({ name: 'streamhouse_lag_ms', help: 'h', registers });
    new Histogram({ name: 'streamhouse_batch_size', help: 'h', registers });
    new Gauge({ name: 'streamhouse_hit_ratio', help: 'h', registers });
    expect(await namingBreaches(bad)).toEqual([
      'streamhouse_things_total: gauge named _total',
      'streamhouse_things: counter without _total',
      'streamhouse_flush_duration: histogram without a unit suffix',
      'streamhouse_flush_duration: a time not in _seconds',
      'streamhouse_lag_ms: abbreviated or non-base unit',
      'streamhouse_batch_size: histogram without a unit suffix',
      'streamhouse_batch_size: a size without its unit',
      'streamhouse_hit_ratio: abbreviated or non-base unit',
    ]);
  });

  it('follow the Prometheus naming conventions (agent and client registries)', async () => {
    expect(await namingBreaches(b.broker.services.metrics.registry)).toEqual([]);
    expect(await namingBreaches(clientRegistry)).toEqual([]);
    const names = (await b.broker.services.metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    // prom-client's process metrics under the prefix once, not streamhouse_process_process_
    expect(names).toContain('streamhouse_process_cpu_seconds_total');
    expect(names).toContain('streamhouse_nodejs_heap_size_used_bytes');
    expect(names.filter((n) => n.includes('process_process'))).toEqual([]);
    expect(names).not.toContain('streamhouse_cache_hit_ratio');
  });

  it('count per-topic records and bytes in and out exactly', async () => {
    const s = await samples(b.broker.services.metrics.registry);
    expect(s.get('streamhouse_topic_records_in_total{topic="am-orders"}')).toBe(30);
    expect(s.get('streamhouse_topic_records_out_total{topic="am-orders"}')).toBe(30);
    expect(s.get('streamhouse_topic_bytes_out_total{topic="am-orders"}')).toBe(s.get('streamhouse_topic_bytes_in_total{topic="am-orders"}'));
  });

  it('label HTTP requests by route template, never the raw URL, with the JSON error code', async () => {
    const s = await samples(b.broker.services.metrics.registry);
    expect(s.get('streamhouse_http_requests_total{method="GET",route="/api/v1/topics/:topic",status="200"}')).toBe(1);
    expect(s.get('streamhouse_http_requests_total{method="GET",route="/api/v1/topics/:topic",status="404"}')).toBe(1);
    expect(s.get('streamhouse_http_request_errors_total{method="GET",route="/api/v1/topics/:topic",error_code="UNKNOWN_TOPIC_OR_PARTITION"}')).toBe(1);
    expect(s.get('streamhouse_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(s.get('streamhouse_http_request_errors_total{method="GET",route="unmatched",error_code="NOT_FOUND"}')).toBe(1);
    expect(s.get('streamhouse_http_request_duration_seconds_count{method="GET",route="/api/v1/topics/:topic"}')).toBe(2);
    expect([...s.keys()].filter((k) => k.includes('am-orders') && k.startsWith('streamhouse_http') || k.includes('no/such'))).toEqual([]);
  });

  it('count gRPC calls by method and status code', async () => {
    await expect(admin.describeTopic('am-nothing')).rejects.toBeInstanceOf(StreamHouseError);
    const s = await samples(b.broker.services.metrics.registry);
    expect(s.get('streamhouse_grpc_requests_total{service="streamhouse.v1.AdminService",method="DescribeTopic",code="NOT_FOUND"}')).toBe(1);
    expect(s.get('streamhouse_grpc_requests_total{service="streamhouse.v1.AdminService",method="CreateTopic",code="OK"}')).toBe(1);
    expect(s.get('streamhouse_grpc_request_duration_seconds_count{service="streamhouse.v1.AdminService",method="CreateTopic"}')).toBe(1);
  });

  it('count the error codes Kafka responses carry, per API and error', async () => {
    const kafka = await KafkaConnection.connect('127.0.0.1', b.broker.kafka.port);
    try {
      const before = await samples(b.broker.services.metrics.registry);
      const fetchRequest = (partitions: number[]) => ({
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'am-orders', partitions: partitions.map((partition) => ({ partition, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 })) }],
        forgottenTopicsData: [],
        rackId: '',
      });
      // partitions 0 and 1 exist, 5 and 6 do not: two partition errors in one response
      const res = await kafka.request(1, 11, fetchRequest([0, 5, 1, 6]));
      expect(res.responses[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 3, 0, 3]);
      const s = await samples(b.broker.services.metrics.registry);
      const key = 'streamhouse_kafka_response_errors_total{api="Fetch",error="UNKNOWN_TOPIC_OR_PARTITION"}';
      expect((s.get(key) ?? 0) - (before.get(key) ?? 0)).toBe(2);
      expect((s.get('streamhouse_kafka_requests_total{api="Fetch"}') ?? 0) - (before.get('streamhouse_kafka_requests_total{api="Fetch"}') ?? 0)).toBe(1);
      expect(s.get('streamhouse_kafka_response_errors_total{api="Fetch",error="NONE"}')).toBeUndefined();
    } finally {
      kafka.close();
    }
  });

  it('meter both stores by operation and the agent state', async () => {
    const s = await samples(b.broker.services.metrics.registry);
    const flushes = s.get('streamhouse_flush_duration_seconds_count')!;
    expect(flushes).toBeGreaterThan(0);
    expect(s.get('streamhouse_flush_size_bytes_count')).toBe(flushes);
    expect(s.get('streamhouse_flush_size_bytes_sum')).toBe(s.get('streamhouse_object_bytes_written_total'));
    // one object PUT and one metadata commit per flush
    expect(s.get('streamhouse_object_store_requests_total{operation="put"}')).toBe(flushes);
    expect(s.get('streamhouse_metadata_store_requests_total{operation="partitions.commitFlush"}')).toBe(flushes);
    expect(s.get('streamhouse_object_store_bytes_total{operation="put"}')).toBeGreaterThanOrEqual(s.get('streamhouse_object_bytes_written_total')!);
    expect(s.get('streamhouse_metadata_store_request_duration_seconds_count{operation="partitions.commitFlush"}')).toBe(flushes);
    expect(s.get('streamhouse_active_partitions')).toBe(2);
    expect(s.get('streamhouse_coordinator_shards')).toBe(50);
    // tailing consumers read from the recent-write cache
    expect(s.get('streamhouse_cache_hits_total{cache="recent_writes"}')).toBeGreaterThan(0);
    expect(s.has('streamhouse_cache_misses_total{cache="chunks"}')).toBe(true);
    expect(s.get('streamhouse_consumer_group_lag_records{group="am-g",topic="am-orders",partition="0"}')).toBe(0);
    expect(s.get('streamhouse_consumer_group_lag_seconds{group="am-g",topic="am-orders",partition="0"}')).toBe(0);
    expect(s.get('streamhouse_consumer_group_members{group="am-g"}')).toBe(0);
    expect(s.get('streamhouse_consumer_groups{state="Empty"}')).toBe(1);
    // ready (as GET /ready says), alone so nothing without a leader; in-memory stores: no local disk
    const ready = await fetch(`${http}/ready`);
    expect(ready.status).toBe(200);
    expect(s.get('streamhouse_agent_ready')).toBe(1);
    expect(s.get('streamhouse_leaderless_partitions')).toBe(0);
    expect(s.get('streamhouse_leaderless_coordinator_shards')).toBe(0);
    expect([...s.keys()].filter((k) => k.startsWith('streamhouse_disk_'))).toEqual([]);
    const totals = await b.broker.services.metadata.objects.totals();
    expect(totals.objects).toBeGreaterThan(0);
    expect(s.get('streamhouse_stored_object_bytes')).toBe(totals.bytes);
    expect(s.get('streamhouse_stored_objects')).toBe(totals.objects);
  });

  it('drop a deleted topic’s series', async () => {
    await admin.createTopic('am-doomed', { partitions: 1 });
    const producer = new Producer({ address: b.address, registry: clientRegistry });
    await producer.send({ topic: 'am-doomed', value: 'x' });
    await producer.close();
    expect((await samples(b.broker.services.metrics.registry)).get('streamhouse_topic_records_in_total{topic="am-doomed"}')).toBe(1);
    await admin.deleteTopic('am-doomed');
    expect([...(await samples(b.broker.services.metrics.registry)).keys()].filter((k) => k.includes('am-doomed'))).toEqual([]);
  });
});
