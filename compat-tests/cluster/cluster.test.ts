// Three agents on this machine sharing one PostgreSQL and one S3 (s3rver): clients see a
// three-broker cluster, partitions are spread over the agents, and a SIGSTOPped owner is
// fenced once its lease has moved (docs/architecture.md §8).

import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { startPostgres, type PostgresProcess } from '../../test-kit/postgres-process.js';
import { startS3rver, type S3rverHandle } from '../../test-kit/s3rver-process.js';

const HEARTBEAT_MS = 1000;
const LEASE_TTL_MS = 3000;

let pgServer: PostgresProcess;
let s3: S3rverHandle;
const agents: BrokerProcess[] = [];

function kafkaFor(agent: BrokerProcess, retries = 8): Kafka {
  return new Kafka({ clientId: 'cluster-test', brokers: [agent.bootstrap], logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function leaders(agent: BrokerProcess, topic: string): Promise<Map<number, number>> {
  const admin = kafkaFor(agent).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(agent: BrokerProcess, topic: string, partitions: number, timeoutMs = 15_000): Promise<Map<number, number>> {
  const until = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    const map = await leaders(agent, topic).catch((err: unknown) => { lastError = String(err); return new Map<number, number>(); });
    if (map.size === partitions && [...map.values()].every((l) => l >= 0)) return map;
    if (Date.now() > until) throw new Error(`partitions of ${topic} have no leaders: ${JSON.stringify([...map])} ${lastError}`);
    await sleep(200);
  }
}

async function readAll(agent: BrokerProcess, topic: string, expected: number): Promise<Array<{ partition: number; offset: string; value: string }>> {
  const consumer = kafkaFor(agent).consumer({ groupId: `g-${topic}-${Date.now()}`, maxWaitTimeInMs: 200 });
  const seen: Array<{ partition: number; offset: string; value: string }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${expected}`)), 60_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, offset: message.offset, value: message.value!.toString() });
        if (seen.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

beforeAll(async () => {
  pgServer = await startPostgres();
  s3 = await startS3rver();
  const metadata = await pgServer.createDatabase('cluster');
  for (let i = 0; i < 3; i++) {
    agents.push(
      await startBrokerProcess({
        args: [
          '--metadata', metadata,
          '--storage', `s3://${s3.bucket}/cluster`,
          '--agent-id', `agent-${i}`,
          '--node-id', String(i + 1),
          '--heartbeat-interval-ms', String(HEARTBEAT_MS),
          '--lease-ttl-ms', String(LEASE_TTL_MS),
          '--flush-interval-ms', '20',
        ],
        env: s3.env,
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.cleanup().catch(() => {});
  await s3?.stop();
  await pgServer?.stop();
});

describe('a cluster of three agents', () => {
  it('shows every agent as a broker to a client bootstrapped from any one, spreads partitions, and serves produce/consume across them', async () => {
    const expected = agents.map((x, i) => [i + 1, x.kafkaPort]).sort();
    for (const a of agents) {
      // an agent sees a newcomer within its view refresh (half a second)
      let brokers: number[][] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        const admin = kafkaFor(a).admin();
        await admin.connect();
        brokers = (await admin.describeCluster()).brokers.map((b) => [b.nodeId, b.port]).sort();
        await admin.disconnect();
        if (JSON.stringify(brokers) === JSON.stringify(expected)) break;
        await sleep(250);
      }
      expect(brokers).toEqual(expected);
    }
    const admin = kafkaFor(agents[0]!).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 12 }] });
    await admin.disconnect();
    const map = await waitForLeaders(agents[2]!, 'spread', 12);
    expect(new Set(map.values())).toEqual(new Set([1, 2, 3]));

    const producer = kafkaFor(agents[1]!).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let p = 0; p < 12; p++) {
      await producer.send({ topic: 'spread', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: p, value: `p${p}-${i}` })) });
    }
    await producer.disconnect();
    const seen = await readAll(agents[2]!, 'spread', 120);
    expect(seen).toHaveLength(120);
    for (let p = 0; p < 12; p++) {
      expect(seen.filter((s) => s.partition === p).map((s) => [s.offset, s.value])).toEqual(Array.from({ length: 10 }, (_, i) => [String(i), `p${p}-${i}`]));
    }
  });

  it('fences a SIGSTOPped owner: another agent takes the partition over and its pending write never commits', async () => {
    const admin = kafkaFor(agents[0]!).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'zombie', numPartitions: 1 }] });
    await admin.disconnect();
    const leader = (await waitForLeaders(agents[0]!, 'zombie', 1)).get(0)!;
    const zombie = agents[leader - 1]!;
    const other = agents.find((a) => a !== zombie)!;

    const first = kafkaFor(other).producer({ idempotent: true, maxInFlightRequests: 1 });
    await first.connect();
    await first.send({ topic: 'zombie', acks: -1, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `before-${i}` })) });
    await first.disconnect();

    // a producer connected to the owner, without retries, whose request waits in the stopped process
    const stale: Producer = kafkaFor(zombie, 0).producer({ allowAutoTopicCreation: false });
    await stale.connect();
    await stale.send({ topic: 'zombie', acks: -1, messages: [{ partition: 0, value: 'warmup-ignored' }] }).catch(() => {});
    zombie.process.kill('SIGSTOP');
    const pending = stale.send({ topic: 'zombie', acks: -1, timeout: 30_000, messages: [{ partition: 0, value: 'zombie-write' }] }).then(
      () => 'acknowledged',
      () => 'failed',
    );
    try {
      await sleep(LEASE_TTL_MS + 2 * HEARTBEAT_MS);
      const newLeader = (await waitForLeaders(other, 'zombie', 1)).get(0)!;
      expect(newLeader).not.toBe(leader);
      const after = kafkaFor(other).producer({ idempotent: true, maxInFlightRequests: 1 });
      await after.connect();
      await after.send({ topic: 'zombie', acks: -1, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `after-${i}` })) });
      await after.disconnect();
    } finally {
      zombie.process.kill('SIGCONT');
    }
    expect(await pending).toBe('failed');
    await stale.disconnect().catch(() => {});
    await sleep(1000);
    const seen = await readAll(other, 'zombie', 7);
    const values = seen.map((s) => s.value);
    expect(values).not.toContain('zombie-write');
    // offsets are consecutive and unique: nothing was written twice
    expect(seen.map((s) => s.offset)).toEqual(seen.map((_, i) => String(i)));
    expect(values.filter((v) => v.startsWith('before-') || v.startsWith('after-'))).toEqual(['before-0', 'before-1', 'before-2', 'after-0', 'after-1', 'after-2']);
  });
});
