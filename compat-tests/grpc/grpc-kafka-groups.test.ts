import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Consumer as KafkajsConsumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, Consumer, Producer } from '../../src/grpc/client/index.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

let broker: BrokerProcess;
let address: string;
let admin: AdminClient;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false', '--group-initial-rebalance-delay-ms', '0'] });
  address = `http://127.0.0.1:${broker.grpcPort}`;
  admin = new AdminClient({ address });
});

afterAll(async () => {
  admin?.close();
  await broker?.cleanup();
});


/** A kafkajs group member that records the values it is handed. */
async function kafkajsMember(group: string, topic: string, seen: string[]): Promise<KafkajsConsumer> {
  const kafka = new Kafka({ clientId: 'grpc-groups', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommitInterval: 100, eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  return consumer;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('consumer groups shared by Kafka clients and gRPC', () => {
  it('shows a kafkajs group with members and lag, resets it once it is empty, and both sides resume from the same offsets', async () => {
    await admin.createTopic('shared', { partitions: 2 });
    const producer = new Producer({ address });
    await Promise.all([...Array(10).keys()].map((i) => producer.send({ topic: 'shared', partition: i % 2, value: `v${i}` })));

    const seen: string[] = [];
    const member = await kafkajsMember('mixed', 'shared', seen);
    await until('kafkajs to read 10 records', () => seen.length === 10);
    await until('kafkajs to commit', async () => (await admin.describeGroup('mixed')).totalLag === 0n && (await admin.describeGroup('mixed')).offsets.length === 2);
    const live = await admin.describeGroup('mixed');
    expect(live.state).toBe('Stable');
    expect(live.members).toHaveLength(1);
    expect(live.members[0]!.clientId).toBe('grpc-groups');
    expect(live.offsets.map((o) => [o.topic, o.partition, o.committedOffset, o.highWatermark, o.lag])).toEqual([
      ['shared', 0, 5n, 5n, 0n],
      ['shared', 1, 5n, 5n, 0n],
    ]);
    const listed = (await admin.listGroups()).find((g) => g.groupId === 'mixed');
    expect(listed).toMatchObject({ state: 'Stable', memberCount: 1, partitionCount: 2, totalLag: 0n });
    // a group with live members is not reset under their feet
    await expect(admin.resetGroupOffsets('mixed', 'shared', { to: 'earliest' })).rejects.toMatchObject({ codeName: 'FAILED_PRECONDITION' });

    await producer.send({ topic: 'shared', partition: 0, value: 'v10' });
    await producer.flush();
    await until('kafkajs to read the new record', () => seen.length === 11);
    await member.disconnect();
    await until('the group to empty', async () => (await admin.describeGroup('mixed')).members.length === 0);

    // gRPC resumes where kafkajs committed: nothing left
    const grpc = new Consumer({ address, topics: ['shared'], groupId: 'mixed', autoCommit: false });
    expect(await grpc.poll(500)).toEqual([]);
    await grpc.close();

    // reset through gRPC; kafkajs starts over from the new committed offsets
    await admin.resetGroupOffsets('mixed', 'shared', { offset: 3n }, { partitions: [0] });
    const again: string[] = [];
    const second = await kafkajsMember('mixed', 'shared', again);
    await until('kafkajs to re-read partition 0 from offset 3', () => again.length === 3);
    await second.disconnect();
    expect(again).toEqual(['v6', 'v8', 'v10']);
    await producer.close();
  });
});
