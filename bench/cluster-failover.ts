/**
 * Cluster numbers on this machine (one PostgreSQL, one s3rver, agents from dist/):
 * aggregate produce throughput with 1, 2 and 3 agents (pre-built batches, acks=all, each
 * single-partition topic driven at its leader), planned hand-over pause when an agent
 * joins and when one is stopped with SIGTERM (longest acknowledgement pause per moved
 * partition, as a paced kafkajs producer sees it), and failover time after kill -9 (kill ->
 * first acknowledged produce per moved partition). Heartbeat 1 s, lease TTL 3 s.
 *   npx tsx bench/cluster-failover.ts --duration-s 5
 */
import { intFlag, parseFlags } from './lib/args.js';
import { runProduce } from './lib/produce-runner.js';
import { HEARTBEAT_MS, LEASE_TTL_MS, createTopic, leaders, longestAckGap, sleep, startCluster, startPacedKafkajsProducer, waitForLeaders } from '../compat-tests/cluster/support.js';

const flags = parseFlags('cluster-failover.ts', {
  'duration-s': { default: '5', help: 'measured seconds per throughput run' },
  topics: { default: '12', help: 'single-partition topics the load is spread over' },
  'record-size': { default: '100', help: 'record value bytes' },
  'records-per-batch': { default: '1000', help: 'records per batch' },
});

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
    await createTopic(brokers, 'handover', HANDOVER_PARTITIONS);
    await waitForLeaders(brokers[0]!, 'handover', HANDOVER_PARTITIONS);
    const before = await leaders(brokers[0]!, 'handover');
    const paced = await startPacedKafkajsProducer(brokers, 'handover', HANDOVER_PARTITIONS, 10);
    await sleep(2000);
    const joinAt = Date.now();
    await cluster.startAgent(3);
    await sleep(4000);
    const after = await leaders(brokers[0]!, 'handover');
    const moved = [...after].filter(([p, l]) => l === 4 && before.get(p) !== 4).map(([p]) => p);
    const still = [...after].filter(([p, l]) => l === before.get(p)).map(([p]) => p);
    out.joinHandOverMs = Object.fromEntries(moved.map((p) => [p, longestAckGap(paced.reports, p, joinAt, joinAt + 8000)]));
    out.joinUnmovedMaxGapMs = Object.fromEntries(still.map((p) => [p, longestAckGap(paced.reports, p, joinAt, joinAt + 8000)]));
    console.log(`join hand-over (longest ack pause per moved partition, ms): ${JSON.stringify(out.joinHandOverMs)}; unmoved: ${JSON.stringify(out.joinUnmovedMaxGapMs)}`);

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
    console.log(`SIGTERM of node ${leavingNode} (exited after ${out.sigtermExitMs} ms) hand-over (longest ack pause per moved partition, ms): ${JSON.stringify(out.sigtermHandOverMs)}; unmoved: ${JSON.stringify(out.sigtermUnmovedMaxGapMs)}`);

    // failover: kill -9 the leader of the most partitions; first ack after the kill per moved partition
    const alive = [1, 2, 3, 4].filter((n) => n !== leavingNode);
    const survivor = cluster.agents[alive[0]! - 1]!.bootstrap;
    const afterStop = await leaders(survivor, 'handover');
    const victimNode = busiest(afterStop, alive);
    const victimParts = [...afterStop].filter(([, l]) => l === victimNode).map(([p]) => p);
    await cluster.agents[victimNode - 1]!.kill('SIGKILL');
    const killAt = Date.now();
    const deadline = killAt + 30_000;
    const first = (p: number) => paced.reports.find((r) => r.p === p && r.e === null && r.sentAt >= killAt)?.at;
    while (victimParts.some((p) => first(p) === undefined) && Date.now() < deadline) await sleep(50);
    out.failoverMs = Object.fromEntries(victimParts.map((p) => [p, (first(p) ?? Number.NaN) - killAt]));
    console.log(`failover after kill -9 of node ${victimNode} (first ack of a send issued after the kill, ms): ${JSON.stringify(out.failoverMs)}`);
    await paced.stop();
    const failed = paced.reports.filter((r) => r.e !== null).length;
    out.pacedFailures = failed;
    console.log(JSON.stringify(out));
  } finally {
    await cluster.stop();
  }
}

await main();
process.exit(0);
