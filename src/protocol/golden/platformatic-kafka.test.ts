import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, encodeResponse } from '../api-codec.js';
import { CAPTURED_ADVERTISED, CAPTURED_BROKER, CAPTURED_CLUSTER_ID, exchange, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

// @platformatic/kafka 1.35 Admin: createTopics, listTopics, describeConfigs. It picks the
// highest versions we advertise, so every request here is flexible.
const fixture = loadFixture('platformatic-kafka');
const CREATED_TOPIC_ID = '97df2bf4-7bed-48b8-84a8-70cbcb5a81bd';

function request(correlationId: number) {
  return decodeRequest(hex(exchange(fixture, 1, correlationId).request).subarray(4));
}

function expectAnswer(correlationId: number, body: unknown): void {
  const e = exchange(fixture, 1, correlationId);
  expect(encodeResponse(e.apiKey, e.apiVersion, correlationId, body).toString('hex')).toBe(responseBytes(e).toString('hex'));
}

/** Topic defaults CreateTopics v5+ reports, in the order the broker lists them. */
const TOPIC_DEFAULTS: Array<[string, string]> = [
  ['cleanup.policy', 'delete'],
  ['compression.type', 'producer'],
  ['delete.retention.ms', '86400000'],
  ['file.delete.delay.ms', '60000'],
  ['flush.messages', '9223372036854775807'],
  ['flush.ms', '9223372036854775807'],
  ['index.interval.bytes', '4096'],
  ['local.retention.bytes', '-2'],
  ['local.retention.ms', '-2'],
  ['max.compaction.lag.ms', '9223372036854775807'],
  ['max.message.bytes', '1048588'],
  ['message.downconversion.enable', 'true'],
  ['message.timestamp.after.max.ms', '9223372036854775807'],
  ['message.timestamp.before.max.ms', '9223372036854775807'],
  ['message.timestamp.difference.max.ms', '9223372036854775807'],
  ['message.timestamp.type', 'CreateTime'],
  ['min.cleanable.dirty.ratio', '0.5'],
  ['min.compaction.lag.ms', '0'],
  ['min.insync.replicas', '1'],
  ['preallocate', 'false'],
  ['remote.storage.enable', 'false'],
  ['retention.bytes', '-1'],
  ['retention.ms', '604800000'],
  ['segment.bytes', '1073741824'],
  ['segment.index.bytes', '10485760'],
  ['segment.jitter.ms', '0'],
  ['segment.ms', '604800000'],
  ['unclean.leader.election.enable', 'false'],
];

describe('golden: @platformatic/kafka 1.35 (flexible versions)', () => {
  it('sends ApiVersions v3, CreateTopics v7, Metadata v9, DescribeConfigs v4 on one connection', () => {
    expect(fixture.exchanges.map((e) => `${e.connection}:${e.correlationId} ${e.api} v${e.apiVersion}`)).toEqual([
      '1:1 ApiVersions v3',
      '1:2 CreateTopics v7',
      '1:3 Metadata v9',
      '1:4 DescribeConfigs v4',
    ]);
  });

  it('ApiVersions v3 names platformatic-kafka 1.35.0', () => {
    expect(request(1)).toEqual({
      header: { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'golden-platformatic' },
      body: { clientSoftwareName: 'platformatic-kafka', clientSoftwareVersion: '1.35.0' },
    });
    expectAnswer(1, { errorCode: 0, apiKeys: CAPTURED_ADVERTISED, throttleTimeMs: 0 });
  });

  it('CreateTopics v7: compact strings and arrays, tag sections at every level', () => {
    const header = { apiKey: 19, apiVersion: 7, correlationId: 2, clientId: 'golden-platformatic' };
    const body = { topics: [{ name: 'golden-platformatic', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false };
    expect(request(2)).toEqual({ header, body });
    const name = Buffer.from('golden-platformatic').toString('hex');
    expect(exchange(fixture, 1, 2).request).toBe(
      '00000042' + '0013' + '0007' + '00000002' + '0013' + name + '00' + // header v2
        '02' + '14' + name + '00000002' + '0001' + '01' + '01' + '00' + // one topic, empty assignments and configs, its tags
        '00001388' + '00' + '00', // timeout, validateOnly, message tags
    );
    expect(encodeRequest(header, body).toString('hex')).toBe(exchange(fixture, 1, 2).request);
    expectAnswer(2, {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'golden-platformatic',
          topicId: CREATED_TOPIC_ID,
          errorCode: 0,
          errorMessage: null,
          numPartitions: 2,
          replicationFactor: 1,
          configs: TOPIC_DEFAULTS.map(([n, value]) => ({ name: n, value, readOnly: false, configSource: 5, isSensitive: false })),
        },
      ],
    });
  });

  it('Metadata v9 for every topic', () => {
    expect(request(3).body).toEqual({ topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }));
    const topic = (name: string, n: number) => ({ errorCode: 0, name, isInternal: false, partitions: parts(n), topicAuthorizedOperations: -2147483648 });
    expectAnswer(3, {
      throttleTimeMs: 0,
      brokers: [CAPTURED_BROKER],
      clusterId: CAPTURED_CLUSTER_ID,
      controllerId: 0,
      topics: [topic('golden-confluent', 2), topic('golden-kafka-python', 2), topic('golden-kcat', 1), topic('golden-platformatic', 2)],
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it('DescribeConfigs v4 for one topic key', () => {
    expect(request(4).body).toEqual({ resources: [{ resourceType: 2, resourceName: 'golden-platformatic', configurationKeys: ['retention.ms'] }], includeSynonyms: false, includeDocumentation: false });
    expectAnswer(4, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'golden-platformatic',
          configs: [{ name: 'retention.ms', value: '604800000', readOnly: false, configSource: 5, isSensitive: false, synonyms: [], configType: 5, documentation: null }],
        },
      ],
    });
    // response header v1: the correlation id is followed by an empty tag section
    expect(exchange(fixture, 1, 4).response!.slice(0, 18)).toBe('00000043' + '00000004' + '00');
  });
});
