/**
 * Kafka applies one connection's requests strictly in order. Produce requests written back to
 * back in one socket write must get their offsets in the order they were sent, also when the
 * partition's state is not loaded yet: a fresh topic (created or auto-created) and the first
 * write after a restart. librdkafka's test 0054 relies on it.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse, encodeRequest } from '../../src/protocol/api-codec.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { fetchAllBatches, RawKafkaClient, waitUntilLeading } from '../../test-kit/raw-kafka-client.js';

const PRODUCE = 0;
const REQUESTS = 8;
const RECORDS_PER_REQUEST = 3;

function produceFrames(topic: string, round: string, partitions: number[]): Buffer[] {
  const t0 = BigInt(Date.now());
  return Array.from({ length: REQUESTS }, (_, i) =>
    encodeRequest(
      { apiKey: PRODUCE, apiVersion: 9, correlationId: 1000 + i, clientId: 'pipelined' },
      {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10000,
        topicData: [
          {
            name: topic,
            partitionData: partitions.map((index) => ({
              index,
              records: buildRecordBatch({
                baseOffset: 0n,
                records: Array.from({ length: RECORDS_PER_REQUEST }, (_, j) => ({ key: Buffer.from(`${round}-${i}-${j}`), value: Buffer.from(`p${index}`), timestamp: t0 + BigInt(i) })),
              }),
            })),
          },
        ],
      },
    ),
  );
}

/** Base offsets per request, per partition, in the order the responses came. */
function baseOffsets(responses: Buffer[]): Array<Array<{ index: number; errorCode: number; baseOffset: bigint }>> {
  return responses.map((frame) =>
    decodeResponse(PRODUCE, 9, frame).body.responses[0]!.partitionResponses.map((p) => ({ index: p.index, errorCode: p.errorCode, baseOffset: p.baseOffset })),
  );
}

function expected(partitions: number[], firstOffset: number) {
  return Array.from({ length: REQUESTS }, (_, i) => partitions.map((index) => ({ index, errorCode: 0, baseOffset: BigInt(firstOffset + i * RECORDS_PER_REQUEST) })));
}

function keysInOrder(round: string) {
  return Array.from({ length: REQUESTS * RECORDS_PER_REQUEST }, (_, n) => `${round}-${Math.floor(n / RECORDS_PER_REQUEST)}-${n % RECORDS_PER_REQUEST}`);
}

async function storedKeys(raw: RawKafkaClient, topic: string, partition: number, from: bigint): Promise<string[]> {
  const { batches } = await fetchAllBatches(raw, topic, partition, from);
  return batches.flatMap((b) => b.records.map((r) => r.key!.toString()));
}

describe('pipelined Produce requests on one connection are applied in order', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess();
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('orders them on a freshly created topic, an auto-created topic, and after a restart', async () => {
    const created = `pipe-${randomUUID().slice(0, 8)}`;
    const autoCreated = `pipe-auto-${randomUUID().slice(0, 8)}`;
    const probe = `pipe-probe-${randomUUID().slice(0, 8)}`;
    const admin = new Kafka({ clientId: 'pipe-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: created, numPartitions: 2 }, { topic: probe, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }

    let raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      expect(baseOffsets(await raw.sendFrames(produceFrames(created, 'a', [0, 1])))).toEqual(expected([0, 1], 0));
      expect(baseOffsets(await raw.sendFrames(produceFrames(autoCreated, 'a', [0])))).toEqual(expected([0], 0));
      expect(await storedKeys(raw, created, 0, 0n)).toEqual(keysInOrder('a'));
      expect(await storedKeys(raw, created, 1, 0n)).toEqual(keysInOrder('a'));
      expect(await storedKeys(raw, autoCreated, 0, 0n)).toEqual(keysInOrder('a'));
    } finally {
      raw.close();
    }

    broker = await broker.restart();
    raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      // On a cluster the restarted agent takes its leases back in one statement, so a probe of
      // another topic tells when it leads again without loading the partitions under test.
      await waitUntilLeading(raw, probe, [0]);
      const next = REQUESTS * RECORDS_PER_REQUEST;
      expect(baseOffsets(await raw.sendFrames(produceFrames(created, 'b', [0, 1])))).toEqual(expected([0, 1], next));
      expect(await storedKeys(raw, created, 0, BigInt(next))).toEqual(keysInOrder('b'));
      expect(await storedKeys(raw, created, 1, BigInt(next))).toEqual(keysInOrder('b'));
    } finally {
      raw.close();
    }
  });
});
