// Clock skew (docs/architecture.md §8): an agent whose clock runs 30 s ahead (libfaketime) joins two others.
// Lease expiry is judged by PostgreSQL's clock, so it takes only what it is handed (no lease
// held by a live agent changes hands twice, nothing flaps), the leases it holds expire by the
// database clock within the TTL (not 30 s later), so after a kill -9 its partitions move as
// fast as anyone's, and no acknowledged write is lost.

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDurableProducer, type DurableProducer } from '../durability/python-clients.js';
import { HEARTBEAT_MS, LEASE_TTL_MS, checkTopic, createTopic, leaders, sleep, startCluster, waitForLeaders, type Cluster } from './support.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const SKEW_MS = 30_000;
const PARTITIONS = 12;

let cluster: Cluster;
let rdkafka: DurableProducer | undefined;

beforeAll(async () => {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} missing: apt-get install faketime (scripts/test-all.sh does)`);
  cluster = await startCluster('skew', 2);
}, 120_000);

afterAll(async () => {
  rdkafka?.kill();
  await cluster?.stop();
});

type Snapshot = Map<string, { owner: string; epoch: number }>;

async function snapshot(): Promise<Snapshot> {
  return new Map((await cluster.leases()).map((l) => [l.resource, { owner: l.owner, epoch: l.epoch }]));
}

describe('an agent whose clock is 30 s ahead', () => {
  it('neither steals nor keeps leases, and no acknowledged write is lost', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, 'skew', PARTITIONS);
    await waitForLeaders(brokers[0]!, 'skew', PARTITIONS);
    rdkafka = startDurableProducer({ bootstrap: brokers.join(','), topic: 'skew', partitions: PARTITIONS, rate: 300, messageTimeoutMs: 120_000 });
    await sleep(2000);
    const before = await snapshot();

    const skewed = await cluster.startAgent(2, { env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: `+${SKEW_MS / 1000}s` } });
    // the agent's own clock really is off: its HTTP Date header is ~30 s ahead of ours
    const res = await fetch(`http://127.0.0.1:${skewed.httpPort}/ready`);
    const skewSeen = Date.parse(res.headers.get('date')!) - Date.now();
    expect(Math.abs(skewSeen - SKEW_MS)).toBeLessThan(2000);

    await waitForLeaders(brokers[0]!, 'skew', PARTITIONS, (l) => l >= 1);
    await sleep(3 * HEARTBEAT_MS);
    const joined = await snapshot();
    await sleep(5 * HEARTBEAT_MS);
    const later = await snapshot();
    const heldBySkewed = await cluster.leases();
    const skewedLeases = heldBySkewed.filter((l) => l.owner === 'agent-2');

    // every resource changed hands at most once (epoch +1, to the newcomer) and then stayed put
    const changes: string[] = [];
    for (const [resource, now] of joined) {
      const was = before.get(resource);
      if (!was) changes.push(`${resource}: no lease before the join`);
      else if (now.owner === was.owner && now.epoch !== was.epoch) changes.push(`${resource}: ${was.owner} epoch ${was.epoch} -> ${now.epoch}`);
      else if (now.owner !== was.owner && (now.owner !== 'agent-2' || now.epoch !== was.epoch + 1)) changes.push(`${resource}: ${was.owner}@${was.epoch} -> ${now.owner}@${now.epoch}`);
    }
    expect(changes).toEqual([]);
    expect(Object.fromEntries(later)).toEqual(Object.fromEntries(joined));
    expect(joined.size).toBe(before.size);
    expect(skewedLeases.length).toBeGreaterThan(0);
    expect(skewedLeases.length).toBeLessThan(joined.size);
    // its leases run out by the database clock within the TTL, not 30 s later
    for (const l of skewedLeases) expect(l.remainingMs).toBeLessThanOrEqual(LEASE_TTL_MS);

    const skewedPartitions = [...(await leaders(brokers[0]!, 'skew'))].filter(([, l]) => l === 3).map(([p]) => p);
    expect(skewedPartitions.length).toBeGreaterThan(0);
    await skewed.kill('SIGKILL');
    const killAt = Date.now();
    await waitForLeaders(brokers[0]!, 'skew', PARTITIONS, (l) => l !== 3, 20_000);
    const movedAfterMs = Date.now() - killAt;
    await sleep(2000);
    const summary = await rdkafka.stop();
    const check = await checkTopic(brokers[0]!, 'skew', PARTITIONS, rdkafka.reports, summary.produced);
    console.log(JSON.stringify({ skewSeen, leasesBefore: before.size, skewedLeases: skewedLeases.length, skewedPartitions, movedAfterMs, produced: summary.produced, ...check.verdict, problems: check.verdict.problems.slice(0, 20) }, null, 1));

    expect(movedAfterMs).toBeLessThan(LEASE_TTL_MS + HEARTBEAT_MS + 1000);
    expect(check.verdict.problems).toEqual([]);
    expect(check.orderProblems).toEqual([]);
    expect([check.verdict.failed, check.verdict.acked, check.verdict.inLog]).toEqual([0, summary.produced, summary.produced]);
  });
});
