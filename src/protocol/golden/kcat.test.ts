import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, encodeResponse } from '../api-codec.js';
import { CAPTURED_ADVERTISED, CAPTURED_BROKER, CAPTURED_CLUSTER_ID, exchange, exchangesOf, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

// kcat 1.7.0 on librdkafka 2.0.2: `kcat -L`, `kcat -L -t golden-kcat`, then `-P` and `-C`,
// which gave up after ApiVersions + Metadata because Produce/ListOffsets were not advertised.
const fixture = loadFixture('kcat');

const METADATA_V4_DEFAULTS = { includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

describe('golden: kcat (librdkafka 2.0.2)', () => {
  it('opens four connections, each starting with ApiVersions v3 naming librdkafka 2.0.2', () => {
    const apiVersions = exchangesOf(fixture, 18);
    expect(apiVersions.map((e) => [e.connection, e.apiVersion, e.correlationId])).toEqual([
      [1, 3, 1],
      [2, 3, 1],
      [3, 3, 1],
      [4, 3, 1],
    ]);
    for (const e of apiVersions) {
      const { header, body } = decodeRequest(hex(e.request).subarray(4));
      expect(header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'golden-kcat' });
      expect(body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
    }
    // flexible request: header v2 (client id stays a non-compact string, then an empty tag
    // section), compact strings for the software name and version, empty body tag section
    expect(apiVersions[0]!.request).toBe('000000280012000300000001000b676f6c64656e2d6b636174' + '00' + '0b6c696272646b61666b61' + '06322e302e32' + '00');
    expect(
      encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'golden-kcat' }, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' }).toString('hex'),
    ).toBe(apiVersions[0]!.request);
  });

  it('the ApiVersions v3 answer is the advertised list with a v0 response header', () => {
    const e = exchange(fixture, 1, 1);
    const body = { errorCode: 0, apiKeys: CAPTURED_ADVERTISED, throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false };
    expect(encodeResponse(18, 3, 1, body).equals(responseBytes(e))).toBe(true);
    // correlation id then straight to error_code: no tagged-field byte in the header
    expect(e.response!.slice(0, 22)).toBe('0000003d' + '00000001' + '0000' + '08');
  });

  it('asks for brokers only, then every topic, then the named topic with auto-creation', () => {
    const [brokersOnly, allTopics] = [exchange(fixture, 1, 2), exchange(fixture, 1, 3)];
    expect(decodeRequest(hex(brokersOnly.request).subarray(4))).toEqual({
      header: { apiKey: 3, apiVersion: 4, correlationId: 2, clientId: 'golden-kcat' },
      body: { ...METADATA_V4_DEFAULTS, topics: [], allowAutoTopicCreation: false },
    });
    expect(brokersOnly.request).toBe('0000001a0003000400000002000b676f6c64656e2d6b636174' + '00000000' + '00');
    expect(decodeRequest(hex(allTopics.request).subarray(4)).body).toEqual({ ...METADATA_V4_DEFAULTS, topics: null, allowAutoTopicCreation: true });
    expect(allTopics.request).toBe('0000001a0003000400000003000b676f6c64656e2d6b636174' + 'ffffffff' + '01');

    const named = exchange(fixture, 2, 2);
    expect(decodeRequest(hex(named.request).subarray(4)).body).toEqual({
      ...METADATA_V4_DEFAULTS,
      topics: [{ topicId: ZERO_UUID, name: 'golden-kcat' }],
      allowAutoTopicCreation: true,
    });
    // the consumer (-C, connection 4) does not ask for auto-creation
    expect(decodeRequest(hex(exchange(fixture, 4, 2).request).subarray(4)).body).toMatchObject({ allowAutoTopicCreation: false });
  });

  it('Metadata v4 answers encode from the expected objects to the captured bytes', () => {
    const brokersOnly = { throttleTimeMs: 0, brokers: [CAPTURED_BROKER], clusterId: CAPTURED_CLUSTER_ID, controllerId: 0, topics: [] };
    expect(encodeResponse(3, 4, 2, brokersOnly).equals(responseBytes(exchange(fixture, 1, 2)))).toBe(true);
    // no topic existed yet: "all topics" is the empty list too
    expect(encodeResponse(3, 4, 3, brokersOnly).equals(responseBytes(exchange(fixture, 1, 3)))).toBe(true);

    const withTopic = {
      ...brokersOnly,
      topics: [
        {
          errorCode: 0,
          name: 'golden-kcat',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] }],
        },
      ],
    };
    expect(encodeResponse(3, 4, 2, withTopic).equals(responseBytes(exchange(fixture, 2, 2)))).toBe(true);
  });

  it('the producer and consumer never sent Produce, ListOffsets or Fetch (not advertised)', () => {
    expect(new Set(fixture.exchanges.map((e) => e.apiKey))).toEqual(new Set([3, 18]));
  });
});
