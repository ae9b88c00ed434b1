// Planned scaling (docs/architecture.md §8): with librdkafka and kafkajs idempotent producers (acks=all)
// running, a fourth agent joins (partitions rebalance to it) and then one agent is stopped
// with SIGTERM. Producers see nothing worse than a retry, nothing is lost or duplicated, and
// each moved partition pauses only briefly (the hand-over time, printed per partition).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDurableProducer, type DurableProducer } from '../durability/python-clients.js';
import {
  checkTopic,
  createTopic,
  leaders,
  LEASE_TTL_MS,
  longestAckGap,
  sleep,
  stampArrivals,
  startCluster,
  startPacedKafkajsProducer,
  waitForLeaders,
  type Cluster,
  type TimedReport,
} from './support.js';

const PARTITIONS = 8;
const TOPICS = ['ps-rdkafka', 'ps-kafkajs'] as const;
const t0 = Date.now();
const step = (what: string) => console.error(`[${Date.now() - t0} ms] ${what}`);

let cluster: Cluster;
let rdkafka: DurableProducer | undefined;

beforeAll(async () => {
  cluster = await startCluster('scaling', 3);
}, 120_000);

afterAll(async () => {
  rdkafka?.kill();
  await cluster?.stop();
});

async function leaderMap(bootstrap: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const topic of TOPICS) for (const [p, l] of await leaders(bootstrap, topic)) out.set(`${topic}/${p}`, l);
  return out;
}

/** Polls until no partition is leaderless and `done` holds; returns the last map. */
async function waitForMap(bootstrap: string, done: (m: Map<string, number>) => boolean, timeoutMs: number): Promise<Map<string, number>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await leaderMap(bootstrap).catch(() => new Map<string, number>());
    if (m.size === TOPICS.length * PARTITIONS && [...m.values()].every((l) => l >= 0) && done(m)) return m;
    if (Date.now() > until) throw new Error(`leaders not settled: ${JSON.stringify([...m])}`);
    await sleep(100);
  }
}

describe('planned scaling: join a fourth agent, then SIGTERM one', () => {
  it('moves partitions with no produce error and nothing lost, and reports the hand-over pause per partition', async () => {
    const brokers = cluster.bootstraps();
    for (const t of TOPICS) await createTopic(brokers, t, PARTITIONS);
    for (const t of TOPICS) await waitForLeaders(brokers[0]!, t, PARTITIONS);
    const initial = await leaderMap(brokers[0]!);

    // the fourth agent's address is not in the clients' bootstrap lists: they learn it from Metadata
    rdkafka = startDurableProducer({ bootstrap: brokers.join(','), topic: 'ps-rdkafka', partitions: PARTITIONS, rate: 400, messageTimeoutMs: 120_000 });
    const arrivals = stampArrivals(rdkafka);
    const js = await startPacedKafkajsProducer(brokers, 'ps-kafkajs', PARTITIONS, 10);
    try {
      const deadline = Date.now() + 30_000;
      while (rdkafka.acked() < 200 || js.reports.length < 50) {
        if (Date.now() > deadline) throw new Error('producers did not get going');
        await sleep(50);
      }
      await sleep(1500);

      step('joining a fourth agent');
      const joinAt = Date.now();
      const fourth = await cluster.startAgent(3);
      const afterJoin = await waitForMap(fourth.bootstrap, (m) => [...m.values()].includes(4), 15_000);
      const joinedSettledMs = Date.now() - joinAt;
      const movedToFourth = [...afterJoin].filter(([k, l]) => l === 4 && initial.get(k) !== 4).map(([k]) => k);
      await sleep(2000);

      // stop the original agent leading the most partitions
      const byNode = [1, 2, 3].map((n) => [...afterJoin.values()].filter((l) => l === n).length);
      const leavingNode = byNode.indexOf(Math.max(...byNode)) + 1;
      const leaving = cluster.agents[leavingNode - 1]!;
      const movedOnStop = [...afterJoin].filter(([, l]) => l === leavingNode).map(([k]) => k);
      step(`SIGTERM node ${leavingNode}`);
      const termAt = Date.now();
      // a stopping agent must not wait for its clients to hang up (they never do on their own)
      const exitCode = await Promise.race([leaving.stop(), sleep(15_000).then(() => 'still running 15 s after SIGTERM' as const)]);
      if (exitCode === 'still running 15 s after SIGTERM') {
        await leaving.kill('SIGKILL');
        throw new Error(`node ${leavingNode} ${exitCode}; its output ends with:\n${leaving.output().slice(-3000)}`);
      }
      const stopExitMs = Date.now() - termAt;
      step('stopped');
      await waitForMap(fourth.bootstrap, (m) => ![...m.values()].includes(leavingNode), 15_000);
      const stopSettledMs = Date.now() - termAt;
      await sleep(2000);

      step('stopping producers');
      const summary = await rdkafka.stop();
      arrivals.stop();
      const jsSummary = await js.stop();
      const rdTimed: TimedReport[] = rdkafka.reports.map((r, i) => ({ ...r, sentAt: 0, at: arrivals.times[i] ?? Number.POSITIVE_INFINITY }));
      const pause = (keys: string[], from: number) =>
        Object.fromEntries(
          keys.map((k) => {
            const [topic, p] = k.split('/') as [string, string];
            return [k, longestAckGap(topic === 'ps-kafkajs' ? js.reports : rdTimed, Number(p), from, from + 10_000)];
          }),
        );
      // what a partition that did not move pauses at most in the same windows (the baseline)
      const still = [...afterJoin.keys()].filter((k) => !movedToFourth.includes(k) && !movedOnStop.includes(k));
      const handOver = { join: pause(movedToFourth, joinAt), sigterm: pause(movedOnStop, termAt), unmovedJoin: pause(still, joinAt), unmovedSigterm: pause(still, termAt) };

      step('checking logs');
      const survivor = fourth.bootstrap;
      const rd = await checkTopic(survivor, 'ps-rdkafka', PARTITIONS, rdkafka.reports, summary.produced);
      const kj = await checkTopic(survivor, 'ps-kafkajs', PARTITIONS, js.reports, jsSummary.produced);
      const clientErrors = rdkafka
        .stderr()
        .split('\n')
        .filter((l) => l.includes('client_error'))
        .map((l) => (JSON.parse(l) as { client_error: { name: string } }).client_error.name);
      console.log(
        JSON.stringify(
          {
            movedToFourth,
            joinedSettledMs,
            leavingNode,
            exitCode,
            stopExitMs,
            movedOnStop,
            stopSettledMs,
            longestAckGapMs: handOver,
            rdkafkaClientErrors: clientErrors,
            rdkafka: { produced: summary.produced, ...rd.verdict, problems: rd.verdict.problems.slice(0, 20) },
            kafkajs: { produced: jsSummary.produced, ...kj.verdict, problems: kj.verdict.problems.slice(0, 20) },
          },
          null,
          1,
        ),
      );

      expect(movedToFourth.length).toBeGreaterThan(0);
      expect(movedOnStop.length).toBeGreaterThan(0);
      expect(exitCode).toBe(0);
      expect(rd.verdict.problems).toEqual([]);
      expect(kj.verdict.problems).toEqual([]);
      expect(rd.orderProblems).toEqual([]);
      expect(kj.orderProblems).toEqual([]);
      // no send failed: whatever the clients met on the way was retried
      expect([rd.verdict.failed, rd.verdict.acked, rd.verdict.inLog]).toEqual([0, summary.produced, summary.produced]);
      expect([kj.verdict.failed, kj.verdict.acked, kj.verdict.inLog]).toEqual([0, jsSummary.produced, jsSummary.produced]);
      // a planned move is no failover: a failover waits out the lease TTL, a hand-over does not
      // (locally 0.5-1.8 s including the clients' retry backoff; CI machines are slower)
      for (const ms of [...Object.values(handOver.join), ...Object.values(handOver.sigterm)]) expect(ms).toBeLessThan(LEASE_TTL_MS);
    } finally {
      rdkafka.kill();
      await js.stop().catch(() => {});
    }
  });
});
