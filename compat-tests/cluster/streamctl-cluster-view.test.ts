// streamctl sees the whole cluster through any agent (issue #12, fix 2): on a 2-agent cluster
// `streamctl agent list` and `streamctl topic describe` through either agent show both agents
// and every partition's leader, the same as Kafka Metadata (kafkajs admin) reports them.

import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand } from '../../test-kit/run-command.js';
import { createTopic, kafkaFor, startCluster, waitForLeaders, type Cluster } from './support.js';

const STREAMCTL = join(resolve(import.meta.dirname, '../..'), 'dist/cli/streamctl.js');
const TOPIC = 'view';
const PARTITIONS = 8;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('ctlview', 2);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function streamctl(agent: BrokerProcess, args: string[]): Promise<string> {
  const r = await runCommand(process.execPath, [STREAMCTL, '--addr', `http://127.0.0.1:${agent.grpcPort}`, ...args], { timeoutMs: 30_000 });
  expect({ code: r.code, stderr: r.stderr }, `streamctl ${args.join(' ')}`).toEqual({ code: 0, stderr: '' });
  return r.stdout;
}

interface AgentJson {
  agentId: string;
  nodeId: number;
  kafkaAddress: string;
  partitions: Array<{ topic: string; partition: number }>;
}

interface TopicJson {
  partitions: Array<{ partition: number; leaderAgentId: string; leaderNodeId: number }>;
}

/** Brokers and partition leaders as Kafka Metadata reports them through `bootstrap`. */
async function kafkaMetadata(bootstrap: string): Promise<{ brokers: Array<{ nodeId: number; address: string }>; leaders: Map<number, number> }> {
  const admin = kafkaFor([bootstrap], 2).admin();
  await admin.connect();
  try {
    const described = await admin.describeCluster();
    const md = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    return {
      brokers: described.brokers.map((b) => ({ nodeId: b.nodeId, address: `${b.host}:${b.port}` })).sort((a, b) => a.nodeId - b.nodeId),
      leaders: new Map(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader])),
    };
  } finally {
    await admin.disconnect();
  }
}

describe('streamctl agent list and topic describe on a 2-agent cluster', () => {
  it('show both agents and every leader through either agent, as Kafka Metadata does', async () => {
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    await waitForLeaders(brokers[0]!, TOPIC, PARTITIONS);
    await waitForLeaders(brokers[1]!, TOPIC, PARTITIONS);
    const nodes = new Set([...(await kafkaMetadata(brokers[0]!)).leaders.values()]);
    expect(nodes, 'both agents lead some partitions').toEqual(new Set([1, 2]));

    for (const agent of cluster.agents) {
      const kafka = await kafkaMetadata(agent.bootstrap);
      expect(kafka.brokers.map((b) => b.nodeId)).toEqual([1, 2]);

      const agents = JSON.parse(await streamctl(agent, ['agent', 'list', '--json'])) as AgentJson[];
      expect(agents.map((a) => [a.agentId, a.nodeId, a.kafkaAddress])).toEqual(kafka.brokers.map((b) => [`agent-${b.nodeId - 1}`, b.nodeId, b.address]));
      for (const a of agents) {
        const led = a.partitions.filter((p) => p.topic === TOPIC).map((p) => p.partition).sort((x, y) => x - y);
        expect(led, `partitions ${a.agentId} leads`).toEqual([...kafka.leaders].filter(([, l]) => l === a.nodeId).map(([p]) => p).sort((x, y) => x - y));
      }
      const table = (await streamctl(agent, ['agent', 'list'])).trim().split('\n');
      expect(table).toHaveLength(3);
      expect(table[1]).toMatch(/^agent-0 +1 /);
      expect(table[2]).toMatch(/^agent-1 +2 /);

      const topic = JSON.parse(await streamctl(agent, ['topic', 'describe', TOPIC, '--json'])) as TopicJson;
      expect(topic.partitions.map((p) => [p.partition, p.leaderNodeId, p.leaderAgentId])).toEqual(
        [...kafka.leaders].sort(([a], [b]) => a - b).map(([p, l]) => [p, l, `agent-${l - 1}`]),
      );
      const rows = (await streamctl(agent, ['topic', 'describe', TOPIC])).trim().split('\n').slice(3);
      expect(rows).toHaveLength(PARTITIONS);
      for (const row of rows) expect(row).toMatch(/ agent-[01]$/);
    }
  });
});
