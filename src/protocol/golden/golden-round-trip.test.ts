import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, isFlexible, type ApiKey } from '../api-codec.js';
import { FIXTURES_DIR, hex, loadFixture, responseBytes } from './test-support/golden-fixture.js';

const names = readdirSync(FIXTURES_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

describe('golden fixtures', () => {
  it('cover the clients and the versions they chose, flexible and not', () => {
    expect(names).toEqual(['confluent-kafka-python', 'kafka-python', 'kafkajs', 'kcat', 'platformatic-kafka']);
    const versions = new Set<string>();
    for (const name of names) for (const e of loadFixture(name).exchanges) versions.add(`${e.api} v${e.apiVersion}${isFlexible(e.apiKey, e.apiVersion) ? ' flexible' : ''}`);
    expect([...versions].sort()).toEqual([
      'ApiVersions v0',
      'ApiVersions v2',
      'ApiVersions v3 flexible',
      'CreatePartitions v1',
      'CreateTopics v3',
      'CreateTopics v4',
      'CreateTopics v7 flexible',
      'DeleteTopics v1',
      'DescribeConfigs v1',
      'DescribeConfigs v2',
      'DescribeConfigs v4 flexible',
      'Metadata v0',
      'Metadata v1',
      'Metadata v4',
      'Metadata v5',
      'Metadata v6',
      'Metadata v9 flexible',
    ]);
  });

  for (const name of names) {
    describe(name, () => {
      const fixture = loadFixture(name);

      it('every captured request decodes and re-encodes to the identical bytes', () => {
        expect(fixture.exchanges.length).toBeGreaterThan(0);
        for (const e of fixture.exchanges) {
          const wire = hex(e.request);
          const what = `${e.api} v${e.apiVersion} #${e.correlationId}`;
          expect(wire.readInt32BE(0), what).toBe(wire.length - 4);
          const { header, body } = decodeRequest(wire.subarray(4));
          expect(header.apiKey, what).toBe(e.apiKey);
          expect(header.apiVersion, what).toBe(e.apiVersion);
          expect(header.correlationId, what).toBe(e.correlationId);
          expect(encodeRequest(header, body).toString('hex'), what).toBe(e.request);
        }
      });

      it('every request was answered, and each answer decodes and re-encodes to the identical bytes', () => {
        for (const e of fixture.exchanges) {
          const wire = responseBytes(e);
          const what = `${e.api} v${e.apiVersion} #${e.correlationId}`;
          expect(wire.readInt32BE(0), what).toBe(wire.length - 4);
          const { correlationId, body } = decodeResponse(e.apiKey as ApiKey, e.apiVersion, wire.subarray(4));
          expect(correlationId, what).toBe(e.correlationId);
          expect(encodeResponse(e.apiKey, e.apiVersion, correlationId, body).toString('hex'), what).toBe(e.response);
        }
      });
    });
  }
});
