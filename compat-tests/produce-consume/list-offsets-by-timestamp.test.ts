/**
 * ListOffsets by timestamp against one broker process: the answer must be the first offset whose
 * record timestamp is at or after the target, also when timestamps go backwards inside a batch,
 * repeat across batches, or sit inside compressed batches. Asked through kafkajs
 * (admin.fetchTopicOffsetsByTimestamp), confluent-kafka (offsets_for_times) and our own codec
 * (ListOffsets v7, which also returns the found record's timestamp).
 */
import { randomUUID } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { registerKafkajsCodecs } from './kafkajs-client.js';
import { runPythonOps } from './python-clients.js';
import { fetchAllBatches, listOffset, RawKafkaClient } from '../../test-kit/raw-kafka-client.js';

const T = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;

/** Per partition, the batches written (one kafkajs send each), as timestamps relative to T. */
const LAYOUT: Array<Array<{ compression: CompressionTypes; timestamps: number[] }>> = [
  [
    { compression: CompressionTypes.None, timestamps: [1000, 2000, 3000] }, // offsets 0-2
    { compression: CompressionTypes.GZIP, timestamps: [5000, 4000, 6000] }, // 3-5: goes backwards inside the batch
    { compression: CompressionTypes.Snappy, timestamps: [6000, 9000] }, // 6-7: 6000 again
  ],
  [{ compression: CompressionTypes.ZSTD, timestamps: [10000, 10000, 20000, 15000] }], // 0-3
];
const HIGH_WATERMARKS = [8, 4];

/** Target (relative to T) and the expected offset per partition; -1: no record at or after it. */
const QUERIES: Array<{ at: number; offsets: [number, number] }> = [
  { at: 0, offsets: [0, 0] }, // before everything
  { at: 1000, offsets: [0, 0] }, // on the first record
  { at: 1500, offsets: [1, 0] }, // between two records
  { at: 3000, offsets: [2, 0] }, // on the last record of a batch
  { at: 3500, offsets: [3, 0] }, // between batches: 5000 at offset 3 comes before 4000 at offset 4
  { at: 4000, offsets: [3, 0] }, // 4000 exists at offset 4, but offset 3 (5000) is earlier and >= it
  { at: 5500, offsets: [5, 0] },
  { at: 6000, offsets: [5, 0] }, // 6000 twice: the first one
  { at: 7000, offsets: [7, 0] },
  { at: 9000, offsets: [7, 0] }, // on the last record
  { at: 9001, offsets: [-1, 0] }, // after everything in partition 0
  { at: 12000, offsets: [-1, 2] },
  { at: 15000, offsets: [-1, 2] }, // 15000 is at offset 3, but 20000 at offset 2 comes first
  { at: 20000, offsets: [-1, 2] },
  { at: 20001, offsets: [-1, -1] }, // after everything
];

/** The timestamp (relative to T) of the record at `offset` in `partition`. */
function timestampAt(partition: number, offset: number): number {
  return LAYOUT[partition]!.flatMap((b) => b.timestamps)[offset]!;
}

describe('ListOffsets by timestamp', () => {
  let broker: BrokerProcess;
  let raw: RawKafkaClient;
  const topic = `lot-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    registerKafkajsCodecs();
    broker = await startBrokerProcess();
    const kafka = new Kafka({ clientId: 'lot-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let partition = 0; partition < LAYOUT.length; partition++) {
      let offset = 0;
      for (const batch of LAYOUT[partition]!) {
        await producer.send({
          topic,
          compression: batch.compression,
          messages: batch.timestamps.map((ts) => ({ partition, key: `o${offset++}`, value: `at T+${ts}`, timestamp: String(T + ts) })),
        });
      }
    }
    await producer.disconnect();
    raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
  });

  afterAll(async () => {
    raw?.close();
    await broker?.cleanup();
  });

  it('stored the layout the queries assume', async () => {
    for (let partition = 0; partition < LAYOUT.length; partition++) {
      const { highWatermark, batches } = await fetchAllBatches(raw, topic, partition);
      expect(highWatermark).toBe(BigInt(HIGH_WATERMARKS[partition]!));
      expect(batches.map((b) => ({ codec: b.header.compression, timestamps: b.records.map((r) => Number(r.timestamp) - T) }))).toEqual(
        LAYOUT[partition]!.map((b) => ({ codec: Number(b.compression), timestamps: b.timestamps })),
      );
    }
  });

  it('our codec (ListOffsets v7): the first offset at or after each timestamp, with that record\'s timestamp', async () => {
    for (const q of QUERIES) {
      for (let partition = 0; partition < 2; partition++) {
        const offset = q.offsets[partition]!;
        const res = await listOffset(raw, topic, partition, BigInt(T + q.at));
        expect(res, `p${partition} at T+${q.at}`).toEqual({ errorCode: 0, offset: BigInt(offset), timestamp: offset < 0 ? -1n : BigInt(T + timestampAt(partition, offset)) });
      }
    }
  });

  it('kafkajs admin.fetchTopicOffsetsByTimestamp (which turns "none" into the high watermark)', async () => {
    const admin = new Kafka({ clientId: 'lot-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      for (const q of QUERIES) {
        const got = (await admin.fetchTopicOffsetsByTimestamp(topic, T + q.at)).sort((a, b) => a.partition - b.partition);
        expect(got, `at T+${q.at}`).toEqual(q.offsets.map((o, partition) => ({ partition, offset: String(o < 0 ? HIGH_WATERMARKS[partition] : o) })));
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('confluent-kafka offsets_for_times (-1 when no record is at or after the timestamp)', async () => {
    const queries = QUERIES.flatMap((q) => [0, 1].map((partition) => ({ partition, timestamp: T + q.at })));
    const run = await runPythonOps('confluent-produce-consume.py', broker.bootstrap, [{ op: 'offsets_for_times', topic, queries }]);
    expect(run.results[0]).toEqual(QUERIES.flatMap((q) => [0, 1].map((partition) => ({ partition, offset: q.offsets[partition], error: null }))));
    expect(run.errors).toEqual([]);
  });
});
