/**
 * Admin requests answered as Kafka 3.9 answers them, with the clients that found the
 * differences (kafkajs's admin suite, librdkafka test 0081):
 * - CreatePartitions / CreateTopics with a replica assignment naming a broker that does not
 *   exist, naming one twice, or with too few assignments: INVALID_REPLICA_ASSIGNMENT and no
 *   partition added.
 * - DescribeCluster and Metadata asked for authorized operations: with no authorizer, every
 *   operation of the resource (8 for a topic, 7 for the cluster); INT32_MIN when not asked.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../support/broker-process.js';
import { RawKafkaClient } from '../produce-consume/raw-kafka-client.js';

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
