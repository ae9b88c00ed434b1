import { describe, expect, it } from 'vitest';
import { decodeRequest, decodeResponse, encodeResponse } from '../api-codec.js';
import type { DescribeConfigsResponse } from '../messages/generated/describe-configs.js';
import { CAPTURED_ADVERTISED, CAPTURED_BROKER, CAPTURED_CLUSTER_ID, exchange, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

// kafka-python 2.0.2 KafkaAdminClient: version probing, create_topics, list_topics,
// describe_configs (topic, broker). Only old, non-flexible versions.
const fixture = loadFixture('kafka-python');
const FLAGS = { includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
const KCAT_TOPIC_V0 = { errorCode: 0, name: 'golden-kcat', partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] }] };

function request(connection: number, correlationId: number) {
  return decodeRequest(hex(exchange(fixture, connection, correlationId).request).subarray(4));
}

function expectAnswer(connection: number, correlationId: number, body: unknown): void {
  const e = exchange(fixture, connection, correlationId);
  expect(encodeResponse(e.apiKey, e.apiVersion, correlationId, body).toString('hex')).toBe(responseBytes(e).toString('hex'));
}

describe('golden: kafka-python 2.0.2', () => {
  it('probes with ApiVersions v0 and Metadata v0 before using the versions it settles on', () => {
    expect(fixture.exchanges.map((e) => `${e.connection}:${e.correlationId} ${e.api} v${e.apiVersion}`)).toEqual([
      '1:1 ApiVersions v0',
      '1:2 Metadata v0',
      '1:3 ApiVersions v0',
      '1:4 Metadata v0',
      '1:5 Metadata v1',
      '1:6 Metadata v5',
      '2:1 ApiVersions v0',
      '2:2 Metadata v0',
      '2:3 CreateTopics v3',
      '2:4 Metadata v5',
      '2:5 DescribeConfigs v2',
      '2:6 DescribeConfigs v2',
    ]);
  });

  it('ApiVersions v0: header v1 and an empty body; the answer has no throttle time', () => {
    expect(exchange(fixture, 1, 1).request).toBe('0000001d' + '0012' + '0000' + '00000001' + '0013' + Buffer.from('golden-kafka-python').toString('hex'));
    expect(request(1, 1)).toEqual({ header: { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'golden-kafka-python' }, body: { clientSoftwareName: '', clientSoftwareVersion: '' } });
    expectAnswer(1, 1, { errorCode: 0, apiKeys: CAPTURED_ADVERTISED });
    expect(exchange(fixture, 1, 1).response).toBe(
      '00000034' + '00000001' + '0000' + '00000007' + '000300000009' + '001200000004' + '001300000007' + '001400000006' + '002000000004' + '002500000003' + '003c00000001',
    );
  });

  it('Metadata v0 with an empty topic list means every topic', () => {
    expect(request(1, 2).body).toEqual({ ...FLAGS, topics: [], allowAutoTopicCreation: true });
    expect(exchange(fixture, 1, 2).request).toBe('00000021' + '0003' + '0000' + '00000002' + '0013' + Buffer.from('golden-kafka-python').toString('hex') + '00000000');
    expectAnswer(1, 2, { brokers: [{ nodeId: 0, host: '127.0.0.1', port: 39092 }], topics: [KCAT_TOPIC_V0] });
  });

  it('Metadata v1 (null topics) adds the controller, racks and isInternal; v5 the cluster id', () => {
    expect(request(1, 5).body).toEqual({ ...FLAGS, topics: null, allowAutoTopicCreation: true });
    expectAnswer(1, 5, { brokers: [CAPTURED_BROKER], controllerId: 0, topics: [{ ...KCAT_TOPIC_V0, isInternal: false }] });
    expect(request(1, 6).body).toEqual({ ...FLAGS, topics: null, allowAutoTopicCreation: false });
    expectAnswer(1, 6, {
      throttleTimeMs: 0,
      brokers: [CAPTURED_BROKER],
      clusterId: CAPTURED_CLUSTER_ID,
      controllerId: 0,
      topics: [{ errorCode: 0, name: 'golden-kcat', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }] }],
    });
  });

  it('CreateTopics v3 with an explicit replication factor and a config', () => {
    expect(request(2, 3).body).toEqual({
      topics: [{ name: 'golden-kafka-python', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '7200000' }] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    expectAnswer(2, 3, { throttleTimeMs: 0, topics: [{ name: 'golden-kafka-python', errorCode: 0, errorMessage: null }] });
  });

  it('DescribeConfigs v2 for named topic keys', () => {
    expect(request(2, 5).body).toEqual({
      resources: [{ resourceType: 2, resourceName: 'golden-kafka-python', configurationKeys: ['retention.ms', 'cleanup.policy'] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expectAnswer(2, 5, {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'golden-kafka-python',
          configs: [
            { name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false, synonyms: [] },
            { name: 'retention.ms', value: '7200000', readOnly: false, configSource: 1, isSensitive: false, synonyms: [] },
          ],
        },
      ],
    });
  });

  it('DescribeConfigs v2 for every broker config (null key list)', () => {
    expect(request(2, 6).body).toEqual({ resources: [{ resourceType: 4, resourceName: '0', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    const e = exchange(fixture, 2, 6);
    const { body } = decodeResponse(32, 2, responseBytes(e).subarray(4));
    const configs = (body as DescribeConfigsResponse).results[0]!.configs;
    const values = Object.fromEntries(configs.map((c) => [c.name, c.value]));
    expect(configs).toHaveLength(24);
    expect(configs.every((c) => c.readOnly && c.configSource === 4 && !c.isSensitive && c.synonyms.length === 0)).toBe(true);
    expect(values).toMatchObject({
      'broker.id': '0',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:39092',
      'num.partitions': '1',
      'socket.request.max.bytes': '104857600',
      'streamhouse.agent.id': 'golden-agent',
    });
    // the same list, encoded from plain objects, gives the captured bytes
    const expected = configs.map((c) => ({ name: c.name, value: c.value, readOnly: true, configSource: 4, isSensitive: false, synonyms: [] }));
    expectAnswer(2, 6, { throttleTimeMs: 0, results: [{ errorCode: 0, errorMessage: null, resourceType: 4, resourceName: '0', configs: expected }] });
  });
});
