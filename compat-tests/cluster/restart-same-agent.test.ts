// An agent restarted with the same agent id after kill -9 (docs/architecture.md §8): it keeps its node id,
// takes back the partitions it should own at once, long before their leases would expire,
// with a new epoch (which would fence its previous run, were it still alive), and every
// acknowledged record is there exactly once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWholeTopic } from '../durability/python-clients.js';
import { createTopic, kafkaFor, leaders, sleep, startCluster, waitForLeaders, type Cluster } from './support.js';

const PARTITIONS = 8;
/** Far longer than the restart takes: a take-over that waited for expiry would show. */
const TTL_MS = 30_000;
const TOPIC = 'restart-same-agent';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('restartsame', 2, () => ({ leaseTtlMs: TTL_MS }));
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function produceRound(brokers: string[], round: number): Promise<void> {
  const producer = kafkaFor(brokers).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: p, key: `k${p}`, value: `r${round}-p${p}` }] });
    }
  } finally {
    await producer.disconnect();
  }
}

describe('an agent restarted with the same agent id after kill -9', () => {
  it('takes its partitions back at once with new epochs, and loses nothing', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    const before = await waitForLeaders(brokers[0]!, TOPIC, PARTITIONS);
    const onNode2 = [...before].filter(([, l]) => l === 2).map(([p]) => p);
    expect(onNode2.length).toBeGreaterThan(0);
    await produceRound(brokers, 1);
    const leasesBefore = new Map((await cluster.leases(`partition/${TOPIC}/`)).map((l) => [l.resource, l]));

    await cluster.agents[1]!.kill('SIGKILL');
    const killedAt = Date.now();
    const restarted = await cluster.startAgent(1, { leaseTtlMs: TTL_MS });
    // the same node id leads the same partitions again, well inside the old leases' TTL
    await waitForLeaders(restarted.bootstrap, TOPIC, PARTITIONS, (l, p) => l === before.get(p), 15_000);
    const tookMs = Date.now() - killedAt;
    const leasesAfter = await cluster.leases(`partition/${TOPIC}/`);
    console.log(JSON.stringify({ tookMs, onNode2, leasesBefore: [...leasesBefore.values()], leasesAfter }, null, 1));
    expect(tookMs).toBeLessThan(TTL_MS / 2);
    for (const l of leasesAfter) {
      const old = leasesBefore.get(l.resource)!;
      expect(l.owner).toBe(old.owner);
      // agent-1's partitions changed tenure; agent-0's did not
      if (l.owner === 'agent-1') expect(l.epoch).toBeGreaterThan(old.epoch);
      else expect(l.epoch).toBe(old.epoch);
    }
    expect(await leaders(brokers[0]!, TOPIC)).toEqual(before);

    await produceRound([cluster.agents[0]!.bootstrap, restarted.bootstrap], 2);
    await sleep(100);
    const log = await readWholeTopic(brokers[0]!, TOPIC, PARTITIONS);
    expect(log.map((part) => part.records.map(([offset, key, value]) => [offset, key, value]))).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => [
        [0, `k${p}`, `r1-p${p}`],
        [1, `k${p}`, `r2-p${p}`],
      ]),
    );
  });
});
