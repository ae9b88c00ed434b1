/**
 * Admin requests answered as Kafka 3.9 answers them, with the clients that found the
 * differences (kafkajs's admin suite, librdkafka test 0081):
 * - CreatePartitions / CreateTopics with a replica assignment naming a broker that does not
 *   exist, naming one twice, or with too few assignments: INVALID_REPLICA_ASSIGNMENT and no
 *   partition added.
 * - Topic configs of Kafka 3.x that mean nothing here (message.format.version, the replication
 *   throttles) are accepted and described; synonyms name the broker config behind a topic config.
 * - DescribeCluster and Metadata asked for authorized operations: with no authorizer, every
 *   operation of the resource (8 for a topic, 7 for the cluster); INT32_MIN when not asked.
 */
import { randomUUID } from 'node:crypto';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';

const NOT_ASKED = -2147483648;
const INVALID_REPLICA_ASSIGNMENT = 39;

let broker: BrokerProcess;
let admin: Admin;

beforeAll(async () => {
  broker = await startBrokerProcess();
  admin = new Kafka({ clientId: 'admin-answers', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.cleanup();
});

const refusal = async (work: Promise<unknown>): Promise<{ type: string; message: string }> => {
  try {
    await work;
  } catch (err) {
    const e = err as { type?: string; message: string; errors?: Array<{ type: string; message: string }> };
    const inner = e.errors?.[0] ?? e;
    return { type: inner.type ?? 'none', message: inner.message };
  }
  return { type: 'accepted', message: '' };
};

async function partitionCount(topic: string): Promise<number> {
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  return md.topics[0]!.partitions.length;
}

describe('replica assignments', () => {
  it('CreatePartitions refuses unknown or repeated brokers and a wrong number of assignments, adding nothing', async () => {
    const topic = `assign-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    const [self] = (await admin.describeCluster()).brokers.map((b) => b.nodeId);
    // kafkajs reports the error type; Kafka's messages are checked on the raw answer below
    for (const refused of [
      { count: 4, assignments: [[99]] },
      { count: 4, assignments: [[self!, self!]] },
      { count: 5, assignments: [[self!]] },
    ]) {
      expect((await refusal(admin.createPartitions({ topicPartitions: [{ topic, ...refused }] }))).type).toBe('INVALID_REPLICA_ASSIGNMENT');
    }
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const answer = async (count: number, assignments: number[][]) =>
        (await raw.request(37, 1, { topics: [{ name: topic, count, assignments: assignments.map((brokerIds) => ({ brokerIds })) }], timeoutMs: 5000, validateOnly: false })).results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage }));
      expect(await answer(4, [[99]])).toEqual([{ errorCode: INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes broker 99, but no such broker is registered.' }]);
      expect(await answer(4, [[self!, self!]])).toEqual([{ errorCode: INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes the broker ${self} more than once.` }]);
      expect(await answer(4, [[]])).toEqual([{ errorCode: INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes an empty replica list.' }]);
      expect(await answer(5, [[self!]])).toEqual([{ errorCode: INVALID_REPLICA_ASSIGNMENT, errorMessage: 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.' }]);
    } finally {
      raw.close();
    }
    expect(await partitionCount(topic)).toBe(3);
    expect(await refusal(admin.createPartitions({ topicPartitions: [{ topic, count: 5, assignments: [[self!], [self!]] }] }))).toEqual({ type: 'accepted', message: '' });
    expect(await partitionCount(topic)).toBe(5);
  });

  it('CreateTopics refuses an assignment naming a broker that does not exist', async () => {
    const topic = `assign-new-${randomUUID().slice(0, 8)}`;
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const res = await raw.request(19, 5, {
        topics: [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 1, brokerIds: [42] }], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      expect(res.topics.map((t) => ({ name: t.name, errorCode: t.errorCode, errorMessage: t.errorMessage }))).toEqual([
        { name: topic, errorCode: INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes broker 42, but no such broker is registered.' },
      ]);
      expect((await admin.listTopics()).includes(topic)).toBe(false);
    } finally {
      raw.close();
    }
  });
});

describe('authorized operations', () => {
  it('DescribeCluster answers the cluster operations when asked, INT32_MIN when not', async () => {
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const asked = await raw.request(60, 0, { includeClusterAuthorizedOperations: true, endpointType: 1 });
      expect(asked.errorCode).toBe(0);
      // CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12
      expect(asked.clusterAuthorizedOperations).toBe((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12));
      const notAsked = await raw.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(notAsked.clusterAuthorizedOperations).toBe(NOT_ASKED);
    } finally {
      raw.close();
    }
  });
});

describe('authorized operations in Metadata', () => {
  it('Metadata v8-10 answers the topic (8) and cluster (7) operations when asked, INT32_MIN when not', async () => {
    const topic = `ops-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const ask = (version: number, flag: boolean) =>
        raw.request(3, version, { topics: [{ name: topic, topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: flag, includeTopicAuthorizedOperations: flag });
      const topicOps = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
      const clusterOps = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);
      for (const version of [8, 9, 10]) {
        const asked = await ask(version, true);
        expect({ version, topic: asked.topics[0]!.topicAuthorizedOperations, cluster: asked.clusterAuthorizedOperations }).toEqual({ version, topic: topicOps, cluster: clusterOps });
        const notAsked = await ask(version, false);
        expect({ version, topic: notAsked.topics[0]!.topicAuthorizedOperations, cluster: notAsked.clusterAuthorizedOperations }).toEqual({ version, topic: NOT_ASKED, cluster: NOT_ASKED });
      }
      // v11+ has no cluster field (DescribeCluster took it over); the topic field stays
      expect((await ask(12, true)).topics[0]!.topicAuthorizedOperations).toBe(topicOps);
    } finally {
      raw.close();
    }
  });
});

describe('topic configs as Kafka 3.9 describes them', () => {
  it('accepts the configs with no effect here, and reports synonyms and sources', async () => {
    const topic = `cfg-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'message.format.version', value: '2.8-IV1' }] }], waitForLeaders: true });
    await admin.alterConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'message.format.version', value: '2.8-IV1' }, { name: 'leader.replication.throttled.replicas', value: '*' }, { name: 'follower.replication.throttled.replicas', value: '0:0' }] }],
      validateOnly: false,
    });
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['message.format.version', 'leader.replication.throttled.replicas', 'follower.replication.throttled.replicas', 'retention.ms', 'max.message.bytes'] }], includeSynonyms: true });
    const entries = res.resources[0]!.configEntries.map((e) => ({ name: e.configName, value: e.configValue, source: e.configSource, synonyms: e.configSynonyms.map((x) => [x.configName, x.configValue, x.configSource]) }));
    expect(entries).toEqual([
      { name: 'follower.replication.throttled.replicas', value: '0:0', source: 1, synonyms: [['follower.replication.throttled.replicas', '0:0', 1]] },
      { name: 'leader.replication.throttled.replicas', value: '*', source: 1, synonyms: [['leader.replication.throttled.replicas', '*', 1]] },
      { name: 'max.message.bytes', value: '1048588', source: 5, synonyms: [['message.max.bytes', '1048588', 5]] },
      { name: 'message.format.version', value: '2.8-IV1', source: 1, synonyms: [['message.format.version', '2.8-IV1', 1], ['log.message.format.version', '3.0-IV1', 5]] },
      { name: 'retention.ms', value: '604800000', source: 5, synonyms: [['log.retention.ms', '604800000', 5]] },
    ]);
    const bad = await refusal(admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'leader.replication.throttled.replicas', value: 'everything' }] }], validateOnly: false }));
    expect(bad.type).toBe('INVALID_CONFIG');
  });
});
