/**
 * Offset commits of one group are applied in the order they arrive, and any Kafka string is
 * stored exactly, on both stores (the postgres-s3 pass runs the broker on PostgreSQL in
 * cluster mode, where both once failed).
 *
 * - librdkafka commits asynchronously (many OffsetCommit requests in flight); committed()
 *   afterwards must be the last offset committed (librdkafka test 0030).
 * - commit metadata and group ids with NUL bytes (librdkafka tests 0099, 0130 commit
 *   "Hello\0world!") come back byte for byte from OffsetFetch, also after a restart.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';

const COMMITS = 50;
const PARTITIONS = 2;

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess();
});

afterAll(async () => {
  await broker?.cleanup();
});

async function createTopic(topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'commit-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

describe('offset commits of one group', () => {
  it('librdkafka async commits: committed() is the last offset committed, for every partition', async () => {
    const topic = `async-commits-${randomUUID().slice(0, 8)}`;
    await createTopic(topic);
    for (let round = 0; round < 3; round++) {
      const group = `async-${round}-${randomUUID().slice(0, 8)}`;
      const res = await runCommand(PYTHON, [join(import.meta.dirname, 'confluent-async-commits.py'), broker.bootstrap, group, topic, String(PARTITIONS), String(COMMITS)], { timeoutMs: 60_000 });
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual({ callbacks: COMMITS, errors: [], committed: { '0': COMMITS, '1': COMMITS } });
    }
  });

  it('keeps NUL bytes in commit metadata and group ids exactly, across a restart', async () => {
    const topic = `nul-text-${randomUUID().slice(0, 8)}`;
    await createTopic(topic);
    const group = `nul\u0000group-${randomUUID().slice(0, 8)}`;
    const metadata = 'Hello\u0000world!';
    const commit = async (client: RawKafkaClient) =>
      (
        await client.request(8, 8, {
          groupId: group,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1n,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: metadata, commitTimestamp: -1n }, { partitionIndex: 1, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: '\u0000', commitTimestamp: -1n }] }],
        })
      ).topics[0]!.partitions.map((p) => p.errorCode);
    const fetched = async (client: RawKafkaClient) => {
      const res = await client.request(9, 5, { groupId: group, topics: null, groups: [], requireStable: false });
      return { errorCode: res.errorCode, topics: res.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, committedOffset: p.committedOffset, metadata: p.metadata, errorCode: p.errorCode })) })) };
    };
    const want = {
      errorCode: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 7n, metadata, errorCode: 0 }, { partitionIndex: 1, committedOffset: 3n, metadata: '\u0000', errorCode: 0 }] }],
    };

    let client = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      expect(await commit(client)).toEqual([0, 0]);
      expect(await fetched(client)).toEqual(want);
      const listed = await client.request(16, 4, { statesFilter: [], typesFilter: [] });
      expect(listed.groups.map((g) => g.groupId)).toContain(group);
    } finally {
      client.close();
    }
    broker = await broker.restart();
    client = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      expect(await fetched(client)).toEqual(want);
    } finally {
      client.close();
    }
  });

  it('refuses a NUL in a topic config value with INVALID_CONFIG (every stored config value is validated), and goes on serving', async () => {
    const topic = `nul-config-${randomUUID().slice(0, 8)}`;
    const client = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      for (const [name, value] of [['cleanup.policy', 'delete\u0000'], ['message.format.version', '3.0\u0000'], ['leader.replication.throttled.replicas', '0:0\u0000']] as const) {
        const res = await client.request(19, 5, { topics: [{ name: topic, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [{ name, value }] }], timeoutMs: 5000, validateOnly: false });
        expect({ name, errorCode: res.topics[0]!.errorCode }).toEqual({ name, errorCode: 40 });
      }
      const created = await client.request(19, 5, { topics: [{ name: topic, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      expect(created.topics[0]!.errorCode).toBe(0);
      const altered = await client.request(44, 1, { resources: [{ resourceType: 2, resourceName: topic, configs: [{ name: 'compression.type', configOperation: 0, value: 'lz4\u0000' }] }], validateOnly: false });
      expect(altered.responses[0]!.errorCode).toBe(40);
    } finally {
      client.close();
    }
  });
});
