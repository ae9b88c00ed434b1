/**
 * Cluster numbers on this machine (one PostgreSQL, one s3rver, agents from dist/):
 * aggregate produce throughput with 1, 2 and 3 agents (pre-built batches, acks=all, each
 * single-partition topic driven at its leader), planned hand-over pause when an agent
 * joins and when one is stopped with SIGTERM (longest acknowledgement pause per moved
 * partition, as a paced kafkajs producer sees it), and failover time after kill -9 (kill ->
 * first acknowledged produce per moved partition). Heartbeat 1 s, lease TTL 3 s.
 *   npx tsx bench/cluster-failover.ts --duration-s 5
 */
import { partitionLeaseResource } from '../src/agent/cluster/lease-resources.js';
import { rendezvousOwner } from '../src/agent/cluster/rendezvous.js';
import { intFlag, parseFlags } from './lib/args.js';
import { runProduce } from './lib/produce-runner.js';
import { HEARTBEAT_MS, LEASE_TTL_MS, createTopic, leaders, longestAckGap, sleep, startCluster, startPacedKafkajsProducer, waitForLeaders, type Cluster } from '../compat-tests/cluster/support.js';

const flags = parseFlags('cluster-failover.ts', {
  'duration-s': { default: '5', help: 'measured seconds per throughput run' },
  topics: { default: '12', help: 'single-partition topics the load is spread over' },
  'record-size': { default: '100', help: 'record value bytes' },
  'records-per-batch': { default: '1000', help: 'records per batch' },
});

/** Polls the leases table every 10 ms, remembering who held each resource when. */
function watchLeases(cluster: Cluster, prefix: string): { gap(resource: string, from: number): [number, number] | null; stop(): void } {
  const seen: Array<{ at: number; owners: Map<string, string> }> = [];
  let running = true;
  void (async () => {
    while (running) {
      const rows = await cluster.leases(prefix).catch(() => undefined);
      if (rows) seen.push({ at: Date.now(), owners: new Map(rows.map((r) => [r.resource, r.owner])) });
      await sleep(10);
    }
  })();
  return {
    /** [ms from `from` to the last sighting of the owner at `from`, ms from then to the first sighting of the next owner]. */
    gap(resource, from) {
      const i = seen.findIndex((s) => s.at >= from);
      const first = seen[i]?.owners.get(resource);
      if (i < 0 || first === undefined) return null;
      let last = seen[i]!.at;
      for (let j = i + 1; j < seen.length; j++) {
        const owner = seen[j]!.owners.get(resource);
        if (owner === first) last = seen[j]!.at;
        else if (owner !== undefined) return [last - from, seen[j]!.at - last];
      }
      return null;
    },
    stop() {
      running = false;
    },
  };
}

async function main(): Promise<void> {
  const durationS = intFlag(flags['duration-s'], 'duration-s', 1);
  const topicCount = intFlag(flags.topics, 'topics', 1);
  const cluster = await startCluster(`bench${Date.now()}`, 1);
  const out: Record<string, unknown> = { heartbeatMs: HEARTBEAT_MS, leaseTtlMs: LEASE_TTL_MS };
  try {
    const topics = Array.from({ length: topicCount }, (_, i) => `tp-${i}`);
    for (const t of topics) await createTopic(cluster.bootstraps(), t, 1);
    const throughput: Record<number, number> = {};
    for (let n = 1; n <= 3; n++) {
      if (n > 1) await cluster.startAgent(n - 1);
      // settled: every agent leads something and nobody else does
      const leaderOf = new Map<string, number>();
      for (let attempt = 0; ; attempt++) {
        leaderOf.clear();
        for (const t of topics) leaderOf.set(t, (await leaders(cluster.agents[0]!.bootstrap, t).catch(() => new Map<number, number>())).get(0) ?? -1);
        const nodes = new Set(leaderOf.values());
        if ([...nodes].every((l) => l >= 1 && l <= n) && nodes.size === n) {
          // and still the same a moment later (no hand-over under way)
          await sleep(1000);
          const again = await Promise.all(topics.map(async (t) => (await leaders(cluster.agents[0]!.bootstrap, t).catch(() => new Map<number, number>())).get(0) ?? -1));
          if (again.every((l, i) => l === leaderOf.get(topics[i]!))) break;
        }
        if (attempt > 100) throw new Error(`leaders did not settle over ${n} agents: ${JSON.stringify([...leaderOf])}`);
        await sleep(200);
      }
      const runs = await Promise.all(
        topics.map((topic) => {
          const agent = cluster.agents[leaderOf.get(topic)! - 1]!;
          return runProduce({ host: '127.0.0.1', port: agent.kafkaPort, topic, partitions: 1, partitionsPerRequest: 1, connections: 1, inflight: 4, recordSize: Number(flags['record-size']), recordsPerBatch: Number(flags['records-per-batch']), acks: -1, durationS, warmupS: 1, rateMbS: 0 });
        }),
      );
      throughput[n] = runs.reduce((s, r) => s + r.recordsPerSecond, 0);
      const errors = runs.reduce((s, r) => s + r.errorCount, 0);
      console.log(`${n} agent(s): ${Math.round(throughput[n]!)} records/s, ${(throughput[n]! * Number(flags['record-size']) / 1e6).toFixed(1)} MB/s of values, ${errors} errors`);
    }
    out.recordsPerSecond = throughput;

    // planned hand-over: a fourth agent joins while a paced producer writes every partition
    const brokers = cluster.bootstraps();
    const HANDOVER_PARTITIONS = 16;
    // placement is a hash of names: pick a topic of which the joining agent wins a fair share
    const wins = (name: string) =>
      Array.from({ length: HANDOVER_PARTITIONS }, (_, p) => rendezvousOwner(partitionLeaseResource(name, p), ['agent-0', 'agent-1', 'agent-2', 'agent-3'])).filter((o) => o === 'agent-3').length;
    let handover = 'handover';
    for (let i = 0; wins(handover) < HANDOVER_PARTITIONS / 4; i++) handover = `handover-${i}`;
    await createTopic(brokers, handover, HANDOVER_PARTITIONS);
    await waitForLeaders(brokers[0]!, handover, HANDOVER_PARTITIONS);
    const before = await leaders(brokers[0]!, handover);
    const paced = await startPacedKafkajsProducer(brokers, handover, HANDOVER_PARTITIONS, 10);
    const watch = watchLeases(cluster, `partition/${handover}/`);
    await sleep(2000);
    const joinAt = Date.now();
    await cluster.startAgent(3);
    // the new agent registers just before it reports ready; the rest is its process start
    out.joinAgentReadyMs = Date.now() - joinAt;
    await sleep(4000);
    const after = await leaders(brokers[0]!, handover);
    const moved = [...after].filter(([p, l]) => l === 4 && before.get(p) !== 4).map(([p]) => p);
    const still = [...after].filter(([p, l]) => l === before.get(p)).map(([p]) => p);
    out.joinHandOverMs = Object.fromEntries(moved.map((p) => [p, longestAckGap(paced.reports, p, joinAt, joinAt + 8000)]));
    out.joinUnmovedMaxGapMs = Object.fromEntries(still.map((p) => [p, longestAckGap(paced.reports, p, joinAt, joinAt + 8000)]));
    out.joinLeaseGapMs = Object.fromEntries(moved.map((p) => [p, watch.gap(`partition/${handover}/${p}`, joinAt)]));
    console.log(`join hand-over (longest ack pause per moved partition, ms): ${JSON.stringify(out.joinHandOverMs)}; unmoved: ${JSON.stringify(out.joinUnmovedMaxGapMs)}`);
    console.log(`the joining agent was ready (registered) ${out.joinAgentReadyMs} ms after its start`);
    console.log(`join hand-over in the leases table (ms from the join to the old owner's last sighting, and from it to the new owner's first; 10 ms polls): ${JSON.stringify(out.joinLeaseGapMs)}`);

    // planned hand-over on SIGTERM of the agent leading the most partitions
    const busiest = (m: Map<number, number>, nodes: number[]) => {
      const counts = nodes.map((n) => [...m.values()].filter((l) => l === n).length);
      return nodes[counts.indexOf(Math.max(...counts))]!;
    };
    const leavingNode = busiest(after, [1, 2, 3, 4]);
    const leavingParts = [...after].filter(([, l]) => l === leavingNode).map(([p]) => p);
    const termAt = Date.now();
    await cluster.agents[leavingNode - 1]!.stop();
    out.sigtermExitMs = Date.now() - termAt;
    await sleep(4000);
    out.sigtermHandOverMs = Object.fromEntries(leavingParts.map((p) => [p, longestAckGap(paced.reports, p, termAt, termAt + 8000)]));
    const stayed = [...after].filter(([, l]) => l !== leavingNode).map(([p]) => p);
    out.sigtermUnmovedMaxGapMs = Object.fromEntries(stayed.map((p) => [p, longestAckGap(paced.reports, p, termAt, termAt + 8000)]));
    out.sigtermLeaseGapMs = Object.fromEntries(leavingParts.map((p) => [p, watch.gap(`partition/${handover}/${p}`, termAt)]));
    watch.stop();
    console.log(`SIGTERM of node ${leavingNode} (exited after ${out.sigtermExitMs} ms) hand-over (longest ack pause per moved partition, ms): ${JSON.stringify(out.sigtermHandOverMs)}; unmoved: ${JSON.stringify(out.sigtermUnmovedMaxGapMs)}`);
    console.log(`SIGTERM hand-over in the leases table: ${JSON.stringify(out.sigtermLeaseGapMs)}`);

    // failover: kill -9 the leader of the most partitions; first ack after the kill per moved partition
    const alive = [1, 2, 3, 4].filter((n) => n !== leavingNode);
    const survivor = cluster.agents[alive[0]! - 1]!.bootstrap;
    const afterStop = await leaders(survivor, handover);
    const victimNode = busiest(afterStop, alive);
    const victimParts = [...afterStop].filter(([, l]) => l === victimNode).map(([p]) => p);
    await cluster.agents[victimNode - 1]!.kill('SIGKILL');
    const killAt = Date.now();
    const deadline = killAt + 30_000;
    const first = (p: number) => paced.reports.find((r) => r.p === p && r.e === null && r.sentAt >= killAt)?.at;
    while (victimParts.some((p) => first(p) === undefined) && Date.now() < deadline) await sleep(50);
    out.failoverMs = Object.fromEntries(victimParts.map((p) => [p, (first(p) ?? Number.NaN) - killAt]));
    console.log(`failover after kill -9 of node ${victimNode} (first ack of a send issued after the kill, ms): ${JSON.stringify(out.failoverMs)}`);
    const stuck = paced.waiting().filter((w) => w.ms > 5000);
    if (stuck.length > 0) console.log(`kafkajs sends waiting over 5 s: ${JSON.stringify(stuck)}`);
    out.stuckSends = stuck;
    await Promise.race([paced.stop(), sleep(40_000)]);
    const failed = paced.reports.filter((r) => r.e !== null).length;
    out.pacedFailures = failed;
    console.log(JSON.stringify(out));
  } finally {
    await cluster.stop();
  }
}

await main();
process.exit(0);
