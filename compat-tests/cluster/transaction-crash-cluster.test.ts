/**
 * transaction-crash.test.ts on a 3-agent cluster (PostgreSQL + S3, leases of 3 s): the same
 * transactional consume-transform-produce pipeline and continuous read_committed reader
 * (librdkafka 2.0.2), while the agent coordinating the pipeline's transactional id is
 * SIGKILLed twice: once it stays down past its leases (another agent takes the coordinator
 * shard over, finishes or aborts the open transaction and answers the producer), once it
 * comes back at once with the same agent id (takes its shards back before the leases
 * expire). Restarts keep the agent's ports and data directory. The output partitions are led by all three agents, so markers travel between
 * agents. Same fates and checks as the single-broker test (see crash-pipeline.ts and the
 * comment at the top of transaction-crash.test.ts).
 *
 * It found that an agent not leading a partition answered read_committed Fetch with the last
 * stable offset at the high watermark and no aborted transactions (3a53b7a fixed it;
 * non-leader-read-committed.test.ts): after the failover and the agent's return, librdkafka's
 * reader kept fetching from the agent that had led the output partition meanwhile, and got
 * records of aborted and open transactions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { leaders, LEASE_TTL_MS, startCluster, type Cluster } from './support.js';
import { seedFromEnv } from '../durability/seeded-random.js';
import { OUTPUT, runCrashPipeline, TRANSACTIONAL_ID } from '../transactions/crash-pipeline.js';

const AGENTS = 3;
const PARTITIONS = 3;
const RECORDS = 2000;
const SEED = seedFromEnv(0x7c4a_5e02);
const AGENT_ARGS = ['--group-initial-rebalance-delay-ms', '0'];

/** The node FindCoordinator names for the transactional id, asked of `bootstrap`. */
async function transactionCoordinator(bootstrap: string): Promise<number> {
  const client = await RawKafkaClient.connect(bootstrap);
  try {
    const res = await client.request(10, 4, { keyType: 1, coordinatorKeys: [TRANSACTIONAL_ID] });
    const c = res.coordinators[0]!;
    if (c.errorCode !== 0) throw new Error(`FindCoordinator ${TRANSACTIONAL_ID}: error ${c.errorCode}`);
    return c.nodeId;
  } finally {
    client.close();
  }
}

describe('SIGKILL of the transaction coordinator agent during a transactional pipeline (3-agent cluster, librdkafka 2.0.2)', () => {
  let cluster: Cluster | undefined;
  let cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
    await cluster?.stop();
  });

  it(`read_committed never sees an aborted transaction and the output holds every input record exactly once (seed ${SEED})`, async () => {
    const c = await startCluster('txncrashcluster', AGENTS, () => ({ args: AGENT_ARGS }));
    cluster = c;
    /** The live agent of each index (a restart starts a new process on new ports). */
    const live = [...c.agents];
    const liveBootstraps = () => live.map((a) => a.bootstrap);

    const report = await runCrashPipeline({
      bootstraps: liveBootstraps,
      partitions: PARTITIONS,
      records: RECORDS,
      seed: SEED,
      cleanups,
      faults: async (pipeline) => {
        const schedule: string[] = [`output partition leaders: ${JSON.stringify([...(await leaders(liveBootstraps()[0]!, OUTPUT))].sort())}`];
        const kills = [
          { runMs: 2500, downMs: LEASE_TTL_MS + 1500 },
          { runMs: 2500, downMs: 0 },
        ];
        for (const [i, kill] of kills.entries()) {
          await sleep(kill.runMs);
          const node = await transactionCoordinator(liveBootstraps()[0]!);
          const index = node - 1;
          const before = { commits: pipeline.commits(), progress: pipeline.progress() };
          await live[index]!.kill('SIGKILL');
          const others = live.filter((_, j) => j !== index).map((a) => a.bootstrap);
          let takenOver: number | undefined;
          if (kill.downMs > 0) {
            await sleep(kill.downMs);
            // another agent coordinates the transactional id now
            await waitUntil('another agent to take the transaction coordinator over', async () => {
              takenOver = await transactionCoordinator(others[0]!).catch(() => undefined);
              return takenOver !== undefined && takenOver !== node;
            }, 15_000);
          }
          // on the same ports and data directory, as a restarted broker keeps its listeners
          // (librdkafka 2.0.2 keeps its TxnCoordinator connection on the old address of a
          // node whose address changed: a restart on new ports would stall the producer)
          live[index] = await live[index]!.restart();
          c.agents.push(live[index]!);
          const after = await transactionCoordinator(others[0]!).catch(() => -1);
          schedule.push(`#${i + 1}: after ${kill.runMs} ms at ${before.commits} commits (${before.progress}/${RECORDS} input records) killed node ${node} (transaction coordinator), down ${kill.downMs} ms${takenOver !== undefined ? `, node ${takenOver} took over` : ''}, restarted; coordinator now node ${after}`);
          expect(before.progress).toBeLessThan(RECORDS);
          await pipeline.waitForCommitAfter(before.commits, `a commit after kill #${i + 1}`, 60_000);
        }
        return { schedule, heldCommits: [] };
      },
    });
    expect(report.problemCount).toBe(0);
  });
});
