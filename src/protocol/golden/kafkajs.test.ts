import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeResponse } from '../api-codec.js';
import { CAPTURED_ADVERTISED, CAPTURED_BROKER, CAPTURED_CLUSTER_ID, exchange, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

// kafkajs 2.2.4 admin: connect, createTopics, fetchTopicMetadata, describeConfigs (topic and
// broker), createPartitions, describeCluster, deleteTopics; all on one connection.
const fixture = loadFixture('kafkajs');
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const METADATA_FLAGS = { includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };

function request(correlationId: number) {
  return decodeRequest(hex(exchange(fixture, 1, correlationId).request).subarray(4));
}

function expectAnswer(apiKey: number, apiVersion: number, correlationId: number, body: unknown): void {
  expect(encodeResponse(apiKey, apiVersion, correlationId, body).toString('hex')).toBe(responseBytes(exchange(fixture, 1, correlationId)).toString('hex'));
}

/** A v6 partition entry as the broker describes it (one replica, the broker itself). */
function partitionsV6(n: number) {
  return Array.from({ length: n }, (_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }));
}

describe('golden: kafkajs 2.2.4 admin', () => {
  it('sends its requests in this order, with these versions, on a single connection', () => {
    expect(fixture.exchanges.map((e) => `${e.connection}:${e.correlationId} ${e.api} v${e.apiVersion}`)).toEqual([
      '1:0 ApiVersions v2',
      '1:1 Metadata v6',
      '1:2 CreateTopics v3',
      '1:3 Metadata v6',
      '1:4 Metadata v6',
      '1:5 Metadata v6',
      '1:6 Metadata v6',
      '1:7 DescribeConfigs v2',
      '1:8 Metadata v6',
      '1:9 DescribeConfigs v2',
      '1:10 Metadata v6',
      '1:11 CreatePartitions v1',
      '1:12 Metadata v6',
      '1:13 Metadata v6',
      '1:14 Metadata v6',
      '1:15 DeleteTopics v1',
      '1:16 Metadata v6',
    ]);
  });

  it('ApiVersions v2 (non-flexible, correlation id 0) and its answer', () => {
    expect(exchange(fixture, 1, 0).request).toBe('00000018' + '0012' + '0002' + '00000000' + '000e' + Buffer.from('golden-kafkajs').toString('hex'));
    expect(request(0)).toEqual({ header: { apiKey: 18, apiVersion: 2, correlationId: 0, clientId: 'golden-kafkajs' }, body: { clientSoftwareName: '', clientSoftwareVersion: '' } });
    expectAnswer(18, 2, 0, { errorCode: 0, apiKeys: CAPTURED_ADVERTISED, throttleTimeMs: 0 });
  });

  it('CreateTopics v3 carries the topic, its partitions, no replication factor and the config', () => {
    expect(request(2).body).toEqual({
      topics: [{ name: 'golden-kafkajs', numPartitions: 3, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '3600000' }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expectAnswer(19, 3, 2, { throttleTimeMs: 0, topics: [{ name: 'golden-kafkajs', errorCode: 0, errorMessage: null }] });
  });

  it('Metadata v6 for the new topic', () => {
    expect(request(3).body).toEqual({ ...METADATA_FLAGS, topics: [{ topicId: ZERO_UUID, name: 'golden-kafkajs' }], allowAutoTopicCreation: false });
    expect(request(6).body).toEqual({ ...METADATA_FLAGS, topics: null, allowAutoTopicCreation: false });
    expectAnswer(3, 6, 3, {
      throttleTimeMs: 0,
      brokers: [CAPTURED_BROKER],
      clusterId: CAPTURED_CLUSTER_ID,
      controllerId: 0,
      topics: [{ errorCode: 0, name: 'golden-kafkajs', isInternal: false, partitions: partitionsV6(3) }],
    });
  });

  it('DescribeConfigs v2 for the topic and for the broker', () => {
    expect(request(7).body).toEqual({
      resources: [{ resourceType: 2, resourceName: 'golden-kafkajs', configurationKeys: ['retention.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expectAnswer(32, 2, 7, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'golden-kafkajs',
          configs: [
            { name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false, synonyms: [] },
            { name: 'retention.ms', value: '3600000', readOnly: false, configSource: 1, isSensitive: false, synonyms: [] },
          ],
        },
      ],
    });
    expect(request(9).body).toEqual({ resources: [{ resourceType: 4, resourceName: '0', configurationKeys: ['num.partitions'] }], includeSynonyms: true, includeDocumentation: false });
    expectAnswer(32, 2, 9, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 4,
          resourceName: '0',
          configs: [{ name: 'num.partitions', value: '1', readOnly: true, configSource: 4, isSensitive: false, synonyms: [{ name: 'num.partitions', value: '1', source: 4 }] }],
        },
      ],
    });
  });

  it('CreatePartitions v1 and DeleteTopics v1', () => {
    expect(request(11).body).toEqual({ topics: [{ name: 'golden-kafkajs', count: 4, assignments: null }], timeoutMs: 5000, validateOnly: false });
    expectAnswer(37, 1, 11, { throttleTimeMs: 0, results: [{ name: 'golden-kafkajs', errorCode: 0, errorMessage: null }] });
    expect(request(15).body).toEqual({ topics: [], topicNames: ['golden-kafkajs'], timeoutMs: 5000 });
    expectAnswer(20, 1, 15, { throttleTimeMs: 0, responses: [{ name: 'golden-kafkajs', errorCode: 0 }] });
    // after createPartitions the topic has four partitions
    expectAnswer(3, 6, 12, {
      throttleTimeMs: 0,
      brokers: [CAPTURED_BROKER],
      clusterId: CAPTURED_CLUSTER_ID,
      controllerId: 0,
      topics: [
        { errorCode: 0, name: 'golden-kafkajs', isInternal: false, partitions: partitionsV6(4) },
        { errorCode: 0, name: 'golden-kcat', isInternal: false, partitions: partitionsV6(1) },
      ],
    });
  });
});
