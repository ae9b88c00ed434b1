// gRPC consumer groups on a 3-agent cluster: two members served by the two agents that do
// not coordinate the group (their joins, heartbeats and commits go to the coordinator over
// its Kafka listener) share the partitions and each reads its own once; when one leaves, the
// other takes everything and reads on from the committed offsets, each record once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, type ConsumerRecord } from '../../src/grpc/client/index.js';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopic, groupCoordinatedBy, kafkaFor, sleep, startCluster, waitForLeaders, type Cluster } from './support.js';

const TOPIC = 'grpc-groups';
const PARTITIONS = 6;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('grpcgroups', 3, () => ({ env: { STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } }));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const until = (what: string, check: () => boolean | Promise<boolean>) => waitUntil(what, check, 40_000);

async function produce(brokers: string[], tag: string, perPartition: number): Promise<string[]> {
  const producer = kafkaFor(brokers).producer();
  await producer.connect();
  const values: string[] = [];
  const messages = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < perPartition; i++) {
      values.push(`${tag}-${p}-${i}`);
      messages.push({ partition: p, value: `${tag}-${p}-${i}` });
    }
  }
  await producer.send({ topic: TOPIC, messages });
  await producer.disconnect();
  return values;
}

describe('gRPC consumer groups on a cluster', () => {
  it('members on two non-coordinating agents share the partitions; when one leaves the other takes all', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    await waitForLeaders(brokers[0]!, TOPIC, PARTITIONS);
    const group = await groupCoordinatedBy(cluster, 'agent-0', 'grpc-members');
    const [, one, two] = cluster.agents as [BrokerProcess, BrokerProcess, BrokerProcess];
    const member = (agent: BrokerProcess) =>
      new Consumer({ address: `http://127.0.0.1:${agent.grpcPort}`, topics: [TOPIC], groupId: group, offsetReset: 'earliest', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, autoCommitIntervalMs: 200 });
    const a = member(one);
    const b = member(two);
    const seen = new Map<Consumer, ConsumerRecord[]>([
      [a, []],
      [b, []],
    ]);
    let stop = false;
    const loops = [a, b].map(async (c) => {
      while (!stop) seen.get(c)!.push(...(await c.poll(200)));
    });
    try {
      // both may land in the group's first generation, or b's join may start a second one
      await until('both members in one generation', () => a.generationId > 0 && a.generationId === b.generationId);
      const first = await produce(brokers, 'first', 10);
      const total = () => [...seen.values()].reduce((n, r) => n + r.length, 0);
      await until('the first records to be read', () => total() >= first.length);
      const pa = (await a.assignment()).map((t) => t.partition);
      const pb = (await b.assignment()).map((t) => t.partition);
      expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(pa).toHaveLength(3);
      expect(new Set(seen.get(a)!.map((r) => r.partition))).toEqual(new Set(pa));
      expect(new Set(seen.get(b)!.map((r) => r.partition))).toEqual(new Set(pb));
      expect([...seen.values()].flat().map((r) => r.value!.toString()).sort()).toEqual([...first].sort());
      await sleep(600); // an auto-commit of everything read

      // b leaves (committing first): a, on another agent, ends up with all six partitions and
      // reads exactly the records that come next
      stop = true;
      await Promise.all(loops);
      await b.close();
      const after: ConsumerRecord[] = [];
      const second = await produce(brokers, 'second', 5);
      await until('a to read the second round', async () => {
        after.push(...(await a.poll(200)));
        return after.length >= second.length;
      });
      await sleep(300);
      after.push(...(await a.poll(200)));
      expect((await a.assignment()).map((t) => t.partition)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(after.map((r) => r.value!.toString()).sort()).toEqual([...second].sort());
    } finally {
      stop = true;
      await Promise.allSettled(loops);
      await Promise.allSettled([a.close(), b.close()]);
    }
  });
});
