/**
 * A non-leader never changes a partition. On a 2-agent cluster, Produce and DeleteRecords sent
 * to the agent that does not lead a partition are answered NOT_LEADER_OR_FOLLOWER (6) and change
 * nothing; sent to the leader they work, and both agents then agree on the log start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeRequest } from '../../src/protocol/api-codec.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { deleteRecordsBefore, listOffset, RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { createTopic, startCluster, waitForLeaders, type Cluster } from './support.js';

const TOPIC = 'non-leader-writes';
const PARTITIONS = 4;
const EARLIEST = -2n;
const LATEST = -1n;

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('nonleader', 2);
});

afterAll(async () => {
  await cluster?.stop();
});

function produceFrame(partition: number, count: number): Buffer {
  const t0 = BigInt(Date.now());
  const records = buildRecordBatch({ baseOffset: 0n, records: Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`p${partition}-${i}`), timestamp: t0 })) });
  return encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 7, clientId: 'non-leader' }, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }] });
}

async function produce(client: RawKafkaClient, partition: number, count: number): Promise<{ errorCode: number; baseOffset: bigint }> {
  const p = decodeResponse(0, 9, await client.sendFrame(produceFrame(partition, count))).body.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

describe('partition-changing requests sent to an agent that does not lead the partition', () => {
  it('refuses Produce and DeleteRecords with NOT_LEADER_OR_FOLLOWER and the leader alone moves the log', async () => {
    const [a, b] = cluster.agents as [typeof cluster.agents[0], typeof cluster.agents[0]];
    await createTopic(cluster.bootstraps(), TOPIC, PARTITIONS);
    const leaders = await waitForLeaders(a.bootstrap, TOPIC, PARTITIONS);
    const clients = [await RawKafkaClient.connect('127.0.0.1', a.kafkaPort), await RawKafkaClient.connect('127.0.0.1', b.kafkaPort)];
    try {
      for (let p = 0; p < PARTITIONS; p++) {
        const leaderIndex = leaders.get(p)! - 1; // agent-i has node id i + 1
        const leader = clients[leaderIndex]!;
        const other = clients[1 - leaderIndex]!;
        expect(await produce(other, p, 10)).toEqual({ errorCode: 6, baseOffset: -1n });
        expect(await produce(leader, p, 10)).toEqual({ errorCode: 0, baseOffset: 0n });

        expect(await deleteRecordsBefore(other, TOPIC, p, 5n)).toEqual({ errorCode: 6, lowWatermark: -1n });
        expect(await deleteRecordsBefore(other, TOPIC, p, -1n)).toEqual({ errorCode: 6, lowWatermark: -1n });
        for (const c of clients) expect(await listOffset(c, TOPIC, p, EARLIEST)).toEqual({ errorCode: 0, offset: 0n, timestamp: -1n });

        expect(await deleteRecordsBefore(leader, TOPIC, p, 5n)).toEqual({ errorCode: 0, lowWatermark: 5n });
        for (const c of clients) {
          expect(await listOffset(c, TOPIC, p, EARLIEST)).toEqual({ errorCode: 0, offset: 5n, timestamp: -1n });
          expect(await listOffset(c, TOPIC, p, LATEST)).toEqual({ errorCode: 0, offset: 10n, timestamp: -1n });
        }
      }
      // both agents lead some partition, so each refusal above came from both sides
      expect(new Set(leaders.values())).toEqual(new Set([1, 2]));
    } finally {
      for (const c of clients) c.close();
    }
  });
});
