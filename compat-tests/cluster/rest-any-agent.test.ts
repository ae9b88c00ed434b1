/**
 * The REST API in a 2-agent cluster: any agent answers for the whole cluster. Records produced
 * through one agent land on every partition, whichever agent leads it (forwarded to the leader
 * and answered after its commit); reads through the other agent return the same records at the
 * same offsets, long-polls included; both agents list both agents with the partitions and
 * coordinator shards each leads, exactly as Kafka Metadata reports the leaders.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { RestApiClient } from '../http/rest-api-client.js';
import { startCluster, waitForLeaders, type Cluster } from './support.js';

const TOPIC = 'rest-any-agent';
const PARTITIONS = 6;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('restany', 2);
});

afterAll(async () => {
  await cluster?.stop();
});

interface RecordsAnswer {
  high_watermark: number;
  records: Array<{ offset: number; key: string | null; value: string | null }>;
}

describe('REST through either agent of a cluster', () => {
  it('writes to partitions led by the other agent and reads them back through it', async () => {
    const [a, b] = cluster.agents as [(typeof cluster.agents)[0], (typeof cluster.agents)[0]];
    const viaA = new RestApiClient(`http://127.0.0.1:${a.httpPort}`);
    const viaB = new RestApiClient(`http://127.0.0.1:${b.httpPort}`);
    expect((await viaA.call('POST', '/topics', { body: { name: TOPIC, partitions: PARTITIONS } })).status).toBe(201);
    const leaders = await waitForLeaders(a.bootstrap, TOPIC, PARTITIONS);
    // both agents lead some partitions, so half the writes below are forwarded
    expect(new Set(leaders.values()).size).toBe(2);

    const records = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const produced = await viaA.call('POST', '/produce', { body: { topic: TOPIC, records } });
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);
    const offsets = (produced.body as { offsets: Array<{ partition: number; offset: number }> }).offsets;
    const next = new Map<number, number>();
    expect(offsets).toEqual(
      records.map((r) => {
        const partition = partitionForKey(Buffer.from(r.key), PARTITIONS);
        const offset = next.get(partition) ?? 0;
        next.set(partition, offset + 1);
        return { partition, offset };
      }),
    );

    for (let p = 0; p < PARTITIONS; p++) {
      const expected = records.filter((_, i) => offsets[i]!.partition === p).map((r, j) => ({ offset: j, key: r.key, value: r.value }));
      for (const api of [viaA, viaB]) {
        const read = await api.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic: TOPIC, partition: p }, query: { from: 'earliest' } });
        expect(read.status, JSON.stringify(read.body)).toBe(200);
        const answer = read.body as RecordsAnswer;
        expect(answer.high_watermark).toBe(expected.length);
        expect(answer.records.map((r) => ({ offset: r.offset, key: r.key, value: r.value }))).toEqual(expected);
      }
    }

    // a Kafka client sees the same records
    const kafka = new Kafka({ clientId: 'rest-any-agent', brokers: cluster.bootstraps(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(TOPIC);
      expect(ends.map((e) => [e.partition, Number(e.high)]).sort((x, y) => x[0]! - y[0]!)).toEqual([...Array(PARTITIONS).keys()].map((p) => [p, next.get(p) ?? 0]));
    } finally {
      await admin.disconnect();
    }

    // a long-poll through B on a partition A leads wakes up when A commits
    const ledByA = [...leaders].find(([, node]) => node === 1)![0];
    const end = next.get(ledByA) ?? 0;
    const started = Date.now();
    const pending = viaB.call('GET', '/topics/{topic}/partitions/{partition}/records', { params: { topic: TOPIC, partition: ledByA }, query: { offset: end, wait_ms: 4000 } });
    await new Promise((r) => setTimeout(r, 400));
    expect((await viaA.call('POST', '/produce', { body: { topic: TOPIC, partition: ledByA, value: 'late' } })).status).toBe(200);
    const woke = (await pending).body as RecordsAnswer;
    expect(woke.records.map((r) => [r.offset, r.value])).toEqual([[end, 'late']]);
    expect(Date.now() - started).toBeLessThan(3500);
  });

  it('lists both agents with the partitions and coordinator shards each leads, on either agent', async () => {
    const [a, b] = cluster.agents as [(typeof cluster.agents)[0], (typeof cluster.agents)[0]];
    const leaders = await waitForLeaders(a.bootstrap, TOPIC, PARTITIONS);
    for (const agent of [a, b]) {
      const api = new RestApiClient(`http://127.0.0.1:${agent.httpPort}`);
      const answer = (await api.call('GET', '/agents')).body as { agents: Array<{ node_id: number; self: boolean; port: number; heartbeat_age_ms: number; partitions: Array<{ topic: string; partition: number }>; coordinator_shards: number[] }> };
      expect(answer.agents.map((x) => [x.node_id, x.port, x.self])).toEqual([
        [1, a.kafkaPort, agent === a],
        [2, b.kafkaPort, agent === b],
      ]);
      for (const x of answer.agents) {
        expect(x.heartbeat_age_ms).toBeGreaterThanOrEqual(0);
        expect(x.heartbeat_age_ms).toBeLessThan(15000);
        const mine = x.partitions.filter((p) => p.topic === TOPIC).map((p) => p.partition).sort((m, n) => m - n);
        expect(mine).toEqual([...leaders].filter(([, node]) => node === x.node_id).map(([p]) => p).sort((m, n) => m - n));
      }
      const shards = answer.agents.flatMap((x) => x.coordinator_shards).sort((m, n) => m - n);
      expect(shards).toEqual([...Array(50).keys()]);
      expect(answer.agents.every((x) => x.coordinator_shards.length > 0)).toBe(true);
    }
  });
});
