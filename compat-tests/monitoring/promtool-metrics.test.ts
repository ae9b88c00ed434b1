// The live /metrics of a broker process after traffic through its three doors passes
// `promtool check metrics` (Prometheus's own lint: counters end in _total and nothing else
// does, base units, help texts), and its series count what the clients did.
// promtool comes from Debian's `prometheus` package (scripts/test-all.sh installs it).

import { spawnSync } from 'node:child_process';
import { Kafka, logLevel, type EachMessagePayload } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/grpc/client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

const TOPIC = 'promtool-orders';
const GROUP = 'promtool-group';
const N = 120;

let broker: BrokerProcess;
let http: string;

/** Every sample of the exposition text: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${http}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '100'] });
  http = `http://127.0.0.1:${broker.httpPort}`;
});

afterAll(async () => {
  await broker?.cleanup();
});

describe('GET /metrics of a broker process', () => {
  it('passes promtool check metrics after Kafka, gRPC and REST traffic, and counts that traffic', async () => {
    const kafka = new Kafka({ clientId: 'promtool-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const kadmin = kafka.admin();
    await kadmin.connect();
    await kadmin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < N; i += 20) {
      await producer.send({ topic: TOPIC, acks: -1, messages: [...Array(20).keys()].map((j) => ({ key: `k${(i + j) % 5}`, value: `value-${i + j}` })) });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let consumed = 0;
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommitThreshold: 1,
        eachMessage: async (_p: EachMessagePayload) => {
          if (++consumed === N) resolve();
        },
      });
    });
    await all;
    // the group's commits reach the coordinator: lag 0 on both partitions
    const deadline = Date.now() + 15_000;
    for (;;) {
      const offsets = await kadmin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      if (offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0) === N) break;
      if (Date.now() > deadline) throw new Error(`group did not commit ${N} records: ${JSON.stringify(offsets)}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // one gRPC call and one REST call
    const grpc = new AdminClient({ address: `http://127.0.0.1:${broker.grpcPort}` });
    try {
      expect((await grpc.describeTopic(TOPIC)).partitions).toHaveLength(2);
    } finally {
      grpc.close();
    }
    expect((await fetch(`${http}/api/v1/topics/${TOPIC}`)).status).toBe(200);

    const text = await scrape();
    const clusterView = (await (await fetch(`${http}/api/v1/cluster`)).json()) as { storage_bytes: number; objects: number };
    await consumer.disconnect();
    await kadmin.disconnect();

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });

    const s = samples(text);
    expect(s.get(`streamhouse_topic_records_in_total{topic="${TOPIC}"}`)).toBe(N);
    expect(s.get(`streamhouse_topic_records_out_total{topic="${TOPIC}"}`)).toBeGreaterThanOrEqual(N);
    expect(s.get(`streamhouse_topic_bytes_out_total{topic="${TOPIC}"}`)).toBeGreaterThanOrEqual(s.get(`streamhouse_topic_bytes_in_total{topic="${TOPIC}"}`)!);
    expect(s.get('streamhouse_kafka_requests_total{api="Produce"}')).toBe(N / 20);
    expect(s.get('streamhouse_kafka_request_duration_seconds_count{api="Produce"}')).toBe(N / 20);
    expect(s.get('streamhouse_kafka_requests_total{api="Fetch"}')).toBeGreaterThan(0);
    expect(s.get('streamhouse_grpc_requests_total{service="streamhouse.v1.AdminService",method="DescribeTopic",code="OK"}')).toBe(1);
    expect(s.get('streamhouse_http_requests_total{method="GET",route="/api/v1/topics/:topic",status="200"}')).toBe(1);
    for (const partition of [0, 1]) {
      expect(s.get(`streamhouse_consumer_group_lag_records{group="${GROUP}",topic="${TOPIC}",partition="${partition}"}`)).toBe(0);
      expect(s.get(`streamhouse_consumer_group_lag_seconds{group="${GROUP}",topic="${TOPIC}",partition="${partition}"}`)).toBe(0);
    }
    expect(s.get(`streamhouse_consumer_group_members{group="${GROUP}"}`)).toBe(1);
    expect(s.get(`streamhouse_consumer_group_rebalances_total{group="${GROUP}"}`)).toBeGreaterThanOrEqual(1);
    // one object PUT and one metadata commit per flush; every flushed byte in a flush-size sample
    const flushes = s.get('streamhouse_flush_duration_seconds_count')!;
    expect(flushes).toBeGreaterThan(0);
    expect(s.get('streamhouse_object_store_requests_total{operation="put"}')).toBe(flushes);
    expect(s.get('streamhouse_metadata_store_requests_total{operation="partitions.commitFlush"}')).toBe(flushes);
    expect(s.get('streamhouse_flush_size_bytes_sum')).toBe(s.get('streamhouse_object_bytes_written_total'));
    // a fresh broker with one topic of two partitions, alone: it leads both and every coordinator shard
    expect(s.get('streamhouse_active_partitions')).toBe(2);
    expect(s.get('streamhouse_coordinator_shards')).toBe(50);
    // ready, every partition and shard led (alone, or a one-agent cluster on PostgreSQL)
    expect(s.get('streamhouse_agent_ready')).toBe(1);
    expect(s.get('streamhouse_leaderless_partitions')).toBe(0);
    expect(s.get('streamhouse_leaderless_coordinator_shards')).toBe(0);
    // the bytes the REST API reports as stored, from the same totals
    expect(clusterView.objects).toBeGreaterThan(0);
    expect(s.get('streamhouse_stored_object_bytes')).toBe(clusterView.storage_bytes);
    expect(s.get('streamhouse_stored_objects')).toBe(clusterView.objects);
    // free space of the local directories it writes (none on S3 / PostgreSQL)
    const local = [
      ...(broker.storageUrl === `file://${broker.dataDir}/objects` ? [`{store="objects",path="${broker.dataDir}/objects"}`] : []),
      ...(broker.metadataUrl === `sqlite://${broker.dataDir}/metadata.db` ? [`{store="metadata",path="${broker.dataDir}"}`] : []),
    ];
    const disk = (name: string) => [...s.keys()].filter((k) => k.startsWith(`${name}{`)).sort();
    expect(disk('streamhouse_disk_free_bytes')).toEqual(local.map((l) => `streamhouse_disk_free_bytes${l}`).sort());
    expect(disk('streamhouse_disk_size_bytes')).toEqual(local.map((l) => `streamhouse_disk_size_bytes${l}`).sort());
    for (const l of local) {
      expect(s.get(`streamhouse_disk_size_bytes${l}`)).toBeGreaterThan(0);
      expect(s.get(`streamhouse_disk_free_bytes${l}`)).toBeLessThanOrEqual(s.get(`streamhouse_disk_size_bytes${l}`)!);
    }
    expect(s.get('streamhouse_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect([...s.keys()].filter((k) => k.includes('process_process'))).toEqual([]);
  });
});
