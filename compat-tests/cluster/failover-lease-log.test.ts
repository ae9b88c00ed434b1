// A failover is visible (issue #12, fix 4): after kill -9 of one agent of two, the survivor
// logs the leases it took over (one info line per batch, naming the partitions and coordinator
// shards) and counts them in streamhouse_lease_acquisitions_total{kind="partition"|"coordinator"}.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import { createTopic, sleep, startCluster, waitForLeaders, type Cluster } from './support.js';

const TOPIC = 'lease-log';
const PARTITIONS = 6;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('leaselog', 2);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

interface LogLine {
  msg?: string;
  partitions?: string[];
  coordinatorShards?: number[];
}

function logLines(agent: BrokerProcess): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of agent.output().split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

/** streamhouse_lease_acquisitions_total by kind, from /metrics. */
async function acquisitions(agent: BrokerProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^streamhouse_lease_acquisitions_total\{kind="(\w+)"\} (\d+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('lease acquisitions after a failover', () => {
  it('are logged in one line naming the partitions and shards taken over, and counted', async () => {
    const [survivor, victim] = cluster.agents as [BrokerProcess, BrokerProcess];
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    const leaders = await waitForLeaders(survivor.bootstrap, TOPIC, PARTITIONS);
    const moved = [...leaders].filter(([, l]) => l === 2).map(([p]) => `${TOPIC}-${p}`).sort();
    expect(moved.length).toBeGreaterThan(0);
    const victimShards = (await cluster.leases('group-shard/')).filter((l) => l.owner === 'agent-1').map((l) => Number(l.resource.slice('group-shard/'.length)));
    expect(victimShards.length).toBeGreaterThan(0);
    const before = await acquisitions(survivor);
    const linesBefore = logLines(survivor).length;

    await victim.kill('SIGKILL');
    await waitForLeaders(survivor.bootstrap, TOPIC, PARTITIONS, (l) => l === 1, 30_000);
    // the shards move in the same heartbeat; give the log a moment
    const deadline = Date.now() + 10_000;
    let taken: LogLine[] = [];
    for (;;) {
      taken = logLines(survivor).slice(linesBefore).filter((l) => l.msg === 'acquired leases');
      const partitions = new Set(taken.flatMap((l) => l.partitions ?? []));
      const shards = new Set(taken.flatMap((l) => l.coordinatorShards ?? []));
      if (moved.every((p) => partitions.has(p)) && victimShards.every((s) => shards.has(s))) break;
      if (Date.now() > deadline) throw new Error(`no 'acquired leases' line for ${moved.join(',')} / shards ${victimShards.join(',')}: ${JSON.stringify(taken)}\n${survivor.output().slice(-4000)}`);
      await sleep(200);
    }
    // one line per batch, not one per partition
    expect(taken.length).toBeLessThan(moved.length + victimShards.length);

    const after = await acquisitions(survivor);
    expect((after.get('partition') ?? 0) - (before.get('partition') ?? 0)).toBeGreaterThanOrEqual(moved.length);
    expect((after.get('coordinator') ?? 0) - (before.get('coordinator') ?? 0)).toBeGreaterThanOrEqual(victimShards.length);
  });
});
