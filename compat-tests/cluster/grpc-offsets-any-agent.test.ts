// gRPC offset writes go through the group's coordinator from any agent (issue #12, fix 1).
// On a 2-agent cluster, ResetGroupOffsets and CommitOffset sent to the agent that does NOT
// coordinate the group are refused while a kafkajs group member is active (as a Kafka commit
// without membership is) and change nothing; once the member left they are applied, and
// kafkajs admin fetchOffsets sees exactly what they wrote.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer as KafkajsConsumer } from 'kafkajs';
import { AdminClient } from '../../src/grpc/client/index.js';
import { RpcChannel } from '../../src/grpc/client/rpc-channel.js';
import type { BrokerProcess } from '../../test-kit/broker-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { committedOffsets, createTopic, groupCoordinatedBy, kafkaFor, startCluster, waitForLeaders, type Cluster } from './support.js';

const TOPIC = 'grpc-offsets';
const PARTITIONS = 2;

let cluster: Cluster;
const channels: RpcChannel[] = [];
const admins: AdminClient[] = [];

beforeAll(async () => {
  cluster = await startCluster('grpcoffsets', 2, () => ({ env: { STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } }));
}, 120_000);

afterAll(async () => {
  for (const c of channels) c.close();
  for (const a of admins) a.close();
  await cluster?.stop();
});

const until = (what: string, check: () => boolean | Promise<boolean>) => waitUntil(what, check, 30_000);

function sameOffsets(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

function grpcTo(agent: BrokerProcess): { rpc: RpcChannel; admin: AdminClient } {
  const address = `http://127.0.0.1:${agent.grpcPort}`;
  const rpc = new RpcChannel({ address, timeoutMs: 20_000 });
  const admin = new AdminClient({ address });
  channels.push(rpc);
  admins.push(admin);
  return { rpc, admin };
}

describe('gRPC offset writes through the agent that does not coordinate the group', () => {
  it('are refused while a kafkajs member is active and applied once it left, like Kafka commits', async () => {
    const [coordinator, other] = cluster.agents as [BrokerProcess, BrokerProcess];
    const brokers = cluster.bootstraps();
    await createTopic(brokers, TOPIC, PARTITIONS);
    await waitForLeaders(brokers[0]!, TOPIC, PARTITIONS);
    const group = await groupCoordinatedBy(cluster, 'agent-0', 'reset-me');
    const { rpc, admin } = grpcTo(other);

    const producer = kafkaFor(brokers).producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % PARTITIONS, value: `v${i}` })) });
    await producer.disconnect();

    const seen: string[] = [];
    const member: KafkajsConsumer = kafkaFor(brokers).consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await member.connect();
    await member.subscribe({ topic: TOPIC, fromBeginning: true });
    await member.run({ autoCommitInterval: 100, eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const committedAll = new Map([[`${TOPIC}/0`, 5], [`${TOPIC}/1`, 5]]);
    await until('kafkajs to read and commit everything', async () => seen.length === 10 && sameOffsets(await committedOffsets(brokers, group, [TOPIC]), committedAll));

    // the member is active: neither write may move its offsets
    await expect(admin.resetGroupOffsets(group, TOPIC, { to: 'earliest' })).rejects.toMatchObject({ codeName: 'FAILED_PRECONDITION' });
    await expect(admin.resetGroupOffsets(group, TOPIC, { to: 'earliest' }, { dryRun: true })).rejects.toMatchObject({ codeName: 'FAILED_PRECONDITION' });
    await expect(rpc.call('CommitOffset', { group, topic: TOPIC, partition: 0, offset: '1', metadata: '' })).rejects.toMatchObject({ codeName: 'FAILED_PRECONDITION' });
    // the same through the coordinator itself
    await expect(grpcTo(coordinator).rpc.call('CommitOffset', { group, topic: TOPIC, partition: 1, offset: '2', metadata: '' })).rejects.toMatchObject({ codeName: 'FAILED_PRECONDITION' });
    expect(await committedOffsets(brokers, group, [TOPIC])).toEqual(committedAll);

    await member.disconnect();
    await until('the group to be empty', async () => {
      const kafkaAdmin = kafkaFor(brokers).admin();
      await kafkaAdmin.connect();
      try {
        const { groups } = await kafkaAdmin.describeGroups([group]);
        return groups[0]?.state === 'Empty';
      } finally {
        await kafkaAdmin.disconnect();
      }
    });

    const reset = await admin.resetGroupOffsets(group, TOPIC, { to: 'earliest' });
    expect(reset.map((o) => [o.partition, o.committedOffset])).toEqual([[0, 0n], [1, 0n]]);
    expect(await committedOffsets(brokers, group, [TOPIC])).toEqual(new Map([[`${TOPIC}/0`, 0], [`${TOPIC}/1`, 0]]));

    await rpc.call('CommitOffset', { group, topic: TOPIC, partition: 1, offset: '3', metadata: 'from gRPC' });
    expect(await committedOffsets(brokers, group, [TOPIC])).toEqual(new Map([[`${TOPIC}/0`, 0], [`${TOPIC}/1`, 3]]));

    // a new member resumes from what gRPC wrote
    const again: string[] = [];
    const second = kafkaFor(brokers).consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
    await second.connect();
    await second.subscribe({ topic: TOPIC, fromBeginning: true });
    await second.run({ eachMessage: async ({ partition, message }) => void again.push(`${partition}/${message.offset}`) });
    await until('the new member to read from the reset offsets', async () => again.length === 7);
    await second.disconnect();
    expect(again.filter((k) => k.startsWith('1/')).sort()).toEqual(['1/3', '1/4']);
    expect(again.filter((k) => k.startsWith('0/')).length).toBe(5);
  });
});
