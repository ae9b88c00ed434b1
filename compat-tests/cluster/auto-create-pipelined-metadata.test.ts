/**
 * librdkafka sends two Metadata requests for the same unknown topic back to back on one
 * connection (kcat -L -t does). With auto-creation on, the first creates the topic and waits
 * for its leaders; a request that arrives while that wait runs must wait for the same
 * leaders, not answer LEADER_NOT_AVAILABLE for a topic that is a few milliseconds old.
 * In cluster mode leaders come from leases, so the window is real (a CI run hit it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeRequest } from '../../src/protocol/api-codec.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { startCluster, type Cluster } from './support.js';

const METADATA = 3;
const REQUESTS = 6;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('automd', 1);
});

afterAll(async () => {
  await cluster?.stop();
});

function metadataFrame(topic: string, correlationId: number): Buffer {
  return encodeRequest({ apiKey: METADATA, apiVersion: 4, correlationId, clientId: 'pipelined-metadata' }, { topics: [{ name: topic }], allowAutoTopicCreation: true });
}

describe('Metadata requests racing an auto-create of the same topic', () => {
  it('all answer the new topic with its leader, in order', async () => {
    const agent = cluster.agents[0]!;
    const client = await RawKafkaClient.connect('127.0.0.1', agent.kafkaPort);
    try {
      for (let round = 0; round < 5; round++) {
        const topic = `auto-md-${round}-${Date.now()}`;
        // the later requests land while the first one's create commits and leases are taken
        const pending: Array<Promise<Buffer>> = [];
        for (let i = 0; i < REQUESTS; i++) {
          pending.push(client.sendFrame(metadataFrame(topic, round * 100 + i)));
          await sleep(3);
        }
        const answers = (await Promise.all(pending)).map((frame) => decodeResponse(METADATA, 4, frame));
        expect(answers.map((a) => a.correlationId)).toEqual(Array.from({ length: REQUESTS }, (_, i) => round * 100 + i));
        for (const a of answers) {
          expect(a.body.topics.map((t) => ({ name: t.name, errorCode: t.errorCode, partitions: t.partitions.map((p) => ({ errorCode: p.errorCode, leaderId: p.leaderId })) }))).toEqual([
            { name: topic, errorCode: 0, partitions: [{ errorCode: 0, leaderId: 1 }] },
          ]);
        }
      }
    } finally {
      client.close();
    }
  });
});
