import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGrpcTestBroker, type GrpcTestBroker } from '../test-support/grpc-broker.js';
import { AdminClient } from './admin-client.js';
import { Consumer } from './consumer.js';
import { Producer } from './producer.js';

let b: GrpcTestBroker;
let admin: AdminClient;

beforeAll(async () => {
  b = await startGrpcTestBroker();
  admin = new AdminClient({ address: b.address });
});

afterAll(async () => {
  admin.close();
  await b.close();
});

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

const N = 250;
const valueOf = (i: number) => `value-${i}`;
const keyOf = (i: number) => `key-${i % 7}`;
/** Key and value bytes of records 0..n-1 (no headers). */
const payloadBytes = (from: number, to: number) => {
  let n = 0;
  for (let i = from; i < to; i++) n += Buffer.byteLength(valueOf(i)) + Buffer.byteLength(keyOf(i));
  return n;
};

describe('client metrics (streamhouse_producer_*, streamhouse_consumer_*)', () => {
  it('count exactly what a producer sent and a group consumer read, in the registry the application passed', async () => {
    const topic = 'cm-exact';
    await admin.createTopic(topic, { partitions: 2 });
    const registry = new Registry();
    const producer = new Producer({ address: b.address, registry, clientId: 'p1', lingerMs: 2 });
    const createdAt = Date.now() - 60_000;
    await Promise.all([...Array(N).keys()].map((i) => producer.send({ topic, key: keyOf(i), value: valueOf(i), timestamp: createdAt })));
    // a record for a partition that does not exist fails: one send error
    await expect(producer.send({ topic, partition: 9, value: 'x' })).rejects.toThrow();

    let s = await samples(registry);
    const p = (name: string) => s.get(`streamhouse_producer_${name}{client_id="p1",topic="${topic}"}`);
    expect(p('records_sent_total')).toBe(N);
    expect(p('send_errors_total')).toBe(1);
    expect(p('send_duration_seconds_count')).toBe(N);
    expect(p('batch_size_records_sum')).toBe(N);
    // the batches as sent are what the broker stored: its bytes-in counter agrees to the byte
    const server = await samples(b.broker.services.metrics.registry);
    expect(p('bytes_sent_total')).toBe(server.get(`streamhouse_topic_bytes_in_total{topic="${topic}"}`));
    expect(p('batch_size_bytes_sum')).toBe(p('bytes_sent_total'));
    const batches = p('batch_size_records_count')!;
    expect(p('batch_flush_duration_seconds_count')).toBe(batches);
    expect(server.get(`streamhouse_grpc_requests_total{service="streamhouse.v1.ProducerService",method="ProduceBatch",code="OK"}`)).toBe(batches);
    expect(server.get(`streamhouse_topic_records_in_total{topic="${topic}"}`)).toBe(N);
    expect(s.get('streamhouse_producer_pending_records{client_id="p1"}')).toBe(0);
    await producer.close();
    s = await samples(registry);
    expect(s.has('streamhouse_producer_pending_records{client_id="p1"}')).toBe(false);

    const consumer = new Consumer({ address: b.address, registry, clientId: 'c1', topics: [topic], groupId: 'cm-group', offsetReset: 'earliest', autoCommit: false });
    const got: string[] = [];
    const deadline = Date.now() + 15_000;
    while (got.length < N && Date.now() < deadline) for (const r of await consumer.poll(500)) got.push(r.value!.toString());
    expect(got.length).toBe(N);
    await consumer.commit();
    while (!consumer.caughtUp()) await consumer.poll(0);

    s = await samples(registry);
    const c = (name: string) => s.get(`streamhouse_consumer_${name}{client_id="c1",topic="${topic}"}`);
    expect(c('records_consumed_total')).toBe(N);
    expect(c('bytes_consumed_total')).toBe(payloadBytes(0, N));
    expect(s.get('streamhouse_consumer_poll_duration_seconds_count{client_id="c1"}')).toBeGreaterThan(0);
    const hwms = await Promise.all([0, 1].map(async (partition) => Number((await b.broker.services.log.offsets(topic, partition)).highWatermark)));
    expect(hwms[0]! + hwms[1]!).toBe(N);
    for (const partition of [0, 1]) {
      const at = (name: string) => s.get(`streamhouse_consumer_${name}{client_id="c1",topic="${topic}",partition="${partition}"}`);
      expect(at('lag_records')).toBe(0);
      expect(at('lag_seconds')).toBe(0);
      expect(at('current_offset')).toBe(hwms[partition]);
      expect(at('last_committed_offset')).toBe(hwms[partition]);
    }
    await consumer.close();
    s = await samples(registry);
    expect([...s.keys()].filter((k) => k.startsWith('streamhouse_consumer_lag_records{'))).toEqual([]);
    // nothing of these clients went to the default registry
    const { defaultClientRegistry } = await import('./client-metrics.js');
    expect((await samples(defaultClientRegistry)).get(`streamhouse_producer_records_sent_total{client_id="p1",topic="${topic}"}`)).toBeUndefined();
  });

  it('reports lag in records and seconds while a consumer is behind', async () => {
    const topic = 'cm-lag';
    await admin.createTopic(topic, { partitions: 1 });
    const registry = new Registry();
    const producer = new Producer({ address: b.address, registry, clientId: 'p2' });
    const createdAt = Date.now() - 60_000;
    await Promise.all([...Array(100).keys()].map((i) => producer.send({ topic, partition: 0, value: valueOf(i), timestamp: createdAt + i })));
    await producer.close();

    const consumer = new Consumer({ address: b.address, registry, clientId: 'c2', assignment: [{ topic, partition: 0 }], offsetReset: 'earliest', maxPollRecords: 40 });
    let first: number[] = [];
    while (first.length === 0) first = (await consumer.poll(1000)).map((r) => Number(r.offset));
    expect(first).toEqual([...Array(40).keys()]);
    const s = await samples(registry);
    const at = (name: string) => s.get(`streamhouse_consumer_${name}{client_id="c2",topic="${topic}",partition="0"}`);
    expect(at('lag_records')).toBe(60);
    expect(at('current_offset')).toBe(40);
    // the next record handed out (offset 40) was created 60 s ago
    expect(at('lag_seconds')).toBeGreaterThanOrEqual(59.9);
    expect(at('lag_seconds')).toBeLessThan(90);
    expect(at('last_committed_offset')).toBeUndefined();
    expect(s.get(`streamhouse_consumer_records_consumed_total{client_id="c2",topic="${topic}"}`)).toBe(40);
    await consumer.close();
  });
});
