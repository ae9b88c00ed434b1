import { describe, expect, it } from 'vitest';
import { decodeRequest, decodeResponse, encodeResponse } from '../api-codec.js';
import type { DescribeConfigsResponse } from '../messages/generated/describe-configs.js';
import { CAPTURED_ADVERTISED, CAPTURED_BROKER, CAPTURED_CLUSTER_ID, exchange, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

// confluent-kafka-python 1.7.0 on librdkafka 2.0.2 AdminClient: create_topics, list_topics,
// describe_configs for the whole topic (null keys, synonyms on).
const fixture = loadFixture('confluent-kafka-python');

function request(correlationId: number) {
  return decodeRequest(hex(exchange(fixture, 1, correlationId).request).subarray(4));
}

function expectAnswer(correlationId: number, body: unknown): void {
  const e = exchange(fixture, 1, correlationId);
  expect(encodeResponse(e.apiKey, e.apiVersion, correlationId, body).toString('hex')).toBe(responseBytes(e).toString('hex'));
}

describe('golden: confluent-kafka-python (librdkafka 2.0.2)', () => {
  it('uses one connection: ApiVersions v3, Metadata v4, CreateTopics v4, Metadata v4, DescribeConfigs v1', () => {
    expect(fixture.exchanges.map((e) => `${e.connection}:${e.correlationId} ${e.api} v${e.apiVersion}`)).toEqual([
      '1:1 ApiVersions v3',
      '1:2 Metadata v4',
      '1:3 CreateTopics v4',
      '1:4 Metadata v4',
      '1:5 DescribeConfigs v1',
    ]);
  });

  it('ApiVersions v3 names the Python binding and its librdkafka', () => {
    expect(request(1)).toEqual({
      header: { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'golden-confluent-kafka' },
      body: { clientSoftwareName: 'confluent-kafka-python', clientSoftwareVersion: '1.7.0-rdkafka-2.0.2' },
    });
    expectAnswer(1, { errorCode: 0, apiKeys: CAPTURED_ADVERTISED, throttleTimeMs: 0 });
  });

  it('CreateTopics v4 and its answer', () => {
    expect(request(3).body).toEqual({
      topics: [{ name: 'golden-confluent', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '5400000' }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expectAnswer(3, { throttleTimeMs: 0, topics: [{ name: 'golden-confluent', errorCode: 0, errorMessage: null }] });
  });

  it('Metadata v4 for every topic with auto-creation allowed', () => {
    expect(request(4).body).toEqual({ includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false, topics: null, allowAutoTopicCreation: true });
    const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ errorCode: 0, partitionIndex: i, leaderId: 0, replicaNodes: [0], isrNodes: [0] }));
    expectAnswer(4, {
      throttleTimeMs: 0,
      brokers: [CAPTURED_BROKER],
      clusterId: CAPTURED_CLUSTER_ID,
      controllerId: 0,
      topics: [
        { errorCode: 0, name: 'golden-confluent', isInternal: false, partitions: parts(2) },
        { errorCode: 0, name: 'golden-kafka-python', isInternal: false, partitions: parts(2) },
        { errorCode: 0, name: 'golden-kcat', isInternal: false, partitions: parts(1) },
      ],
    });
  });

  it('DescribeConfigs v1 with null keys and synonyms: the set value first, then the broker default', () => {
    expect(request(5).body).toEqual({ resources: [{ resourceType: 2, resourceName: 'golden-confluent', configurationKeys: null }], includeSynonyms: true, includeDocumentation: false });
    const { body } = decodeResponse(32, 1, responseBytes(exchange(fixture, 1, 5)).subarray(4));
    const configs = (body as DescribeConfigsResponse).results[0]!.configs;
    expect(configs).toHaveLength(28);
    expect(configs.find((c) => c.name === 'retention.ms')).toEqual({
      name: 'retention.ms',
      value: '5400000',
      readOnly: false,
      isDefault: false,
      configSource: 1,
      isSensitive: false,
      synonyms: [
        { name: 'retention.ms', value: '5400000', source: 1 },
        { name: 'log.retention.ms', value: '604800000', source: 5 },
      ],
      configType: 0,
      documentation: null,
    });
    expect(configs.find((c) => c.name === 'cleanup.policy')!.synonyms).toEqual([{ name: 'log.cleanup.policy', value: 'delete', source: 5 }]);
    const plain = configs.map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, configSource: c.configSource, isSensitive: c.isSensitive, synonyms: c.synonyms }));
    expectAnswer(5, { throttleTimeMs: 0, results: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'golden-confluent', configs: plain }] });
  });
});
