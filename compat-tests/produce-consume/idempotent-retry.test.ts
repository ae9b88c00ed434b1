/**
 * An idempotent producer's retry of a batch the broker already appended must not duplicate it.
 *
 * 1. confluent-kafka (librdkafka, enable.idempotence=true, acks=all) talks to the broker only
 *    through a FaultProxy (the broker advertises the proxy's address); the proxy swallows the
 *    response to the first Produce and cuts the connection, so librdkafka must resend a batch
 *    that is already in the log. Every message must be in the log exactly once and the delivery
 *    reports must name the offsets the log has.
 * 2. The same at the wire level with our codec: one byte-identical idempotent Produce request
 *    sent twice (and again on a new connection) gets the same base offset back, and the high
 *    watermark moves once.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest, decodeResponse, encodeRequest } from '../../src/protocol/api-codec.js';
import type { ProduceRequest } from '../../src/protocol/messages/generated/produce.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { FaultProxy } from '../../test-kit/fault-proxy.js';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import type { WireRecord } from './matrix-layout.js';
import { runPythonOps, type DeliveryReport } from './python-clients.js';
import { fetchAllBatches, listOffset, RawKafkaClient, storedBatches } from '../../test-kit/raw-kafka-client.js';

const PRODUCE = 0;
const LATEST = -1n;

const keyOf = (i: number) => `idem-${i}`;

function wireRecords(from: number, count: number, t0: number): WireRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return { partition: 0, key: Buffer.from(keyOf(i)).toString('base64'), value: Buffer.from(`value ${i} `.repeat(10)).toString('base64'), headers: [['n', Buffer.from(String(i)).toString('base64')]], timestamp: t0 + i };
  });
}

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'idem-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

describe('librdkafka idempotent producer: a retried, already appended batch is not duplicated', () => {
  let broker: BrokerProcess;
  let proxy: FaultProxy;

  beforeAll(async () => {
    const kafkaPort = await freePort();
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: kafkaPort, keepFrames: true });
    broker = await startBrokerProcess({ kafkaPort, args: ['--advertised-listener', proxy.address] });
  });

  afterAll(async () => {
    await proxy?.close();
    await broker?.cleanup();
  });

  it('loses the first Produce response; librdkafka resends the batch; the log and the delivery reports agree, once each', async () => {
    const topic = `idem-${randomUUID().slice(0, 8)}`;
    await createTopic(proxy.address, topic);
    const t0 = Date.now() - 60_000;
    const first = wireRecords(0, 20, t0);
    const second = wireRecords(20, 10, t0);

    const producesBefore = proxy.countOf(PRODUCE);
    const dropped = proxy.dropResponse(PRODUCE, producesBefore + 1);
    const run = await runPythonOps('confluent-produce-consume.py', proxy.address, [
      { op: 'produce', topic, codec: 'none', rounds: [first, second], config: { 'enable.idempotence': true, acks: 'all' } },
    ]);
    const reports = (run.results[0] as { reports: DeliveryReport[] }).reports;

    // the broker had appended the batch whose response was lost
    const lost = await dropped;
    const lostResponse = decodeResponse(PRODUCE, lost.request.apiVersion, lost.response).body;
    expect(lostResponse.responses.map((t) => ({ name: t.name, partitions: t.partitionResponses.map((p) => ({ index: p.index, errorCode: p.errorCode, baseOffset: p.baseOffset })) }))).toEqual([
      { name: topic, partitions: [{ index: 0, errorCode: 0, baseOffset: 0n }] },
    ]);

    // what librdkafka sent: the first batch twice (same producer id, epoch and sequence), then the second
    const sent = proxy.requests
      .filter((r) => r.apiKey === PRODUCE && r.nthOfApi > producesBefore)
      .map((r) => {
        const body = decodeRequest(r.frame!.subarray(4)).body as ProduceRequest;
        const records = body.topicData[0]!.partitionData[0]!.records;
        const [batch, ...more] = storedBatches(records);
        expect(more).toEqual([]);
        return { producerId: batch!.header.producerId, epoch: batch!.header.producerEpoch, baseSequence: batch!.header.baseSequence, keys: batch!.records.map((x) => x.key!.toString()) };
      });
    const producerId = sent[0]!.producerId;
    expect(producerId).toBeGreaterThanOrEqual(0n);
    const keys = (from: number, n: number) => Array.from({ length: n }, (_, j) => keyOf(from + j));
    expect(sent).toEqual([
      { producerId, epoch: 0, baseSequence: 0, keys: keys(0, 20) },
      { producerId, epoch: 0, baseSequence: 0, keys: keys(0, 20) },
      { producerId, epoch: 0, baseSequence: 20, keys: keys(20, 10) },
    ]);

    // every message acknowledged once, at the offset it has in the log
    expect(reports).toEqual(Array.from({ length: 30 }, (_, i) => ({ partition: 0, offset: i, key: Buffer.from(keyOf(i)).toString('base64'), error: null })));
    // the only errors librdkafka reported are the cut connection (to broker 0, through the proxy)
    expect(run.errors.map((e) => e.name)).toEqual(['_TRANSPORT', '_ALL_BROKERS_DOWN']);
    expect(run.errors[0]!.message).toContain(`${proxy.address}/0: Disconnected`);

    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const { highWatermark, batches } = await fetchAllBatches(raw, topic, 0);
      expect(highWatermark).toBe(30n);
      expect(batches.map((b) => ({ baseOffset: b.header.baseOffset, producerId: b.header.producerId, baseSequence: b.header.baseSequence, count: b.header.recordCount }))).toEqual([
        { baseOffset: 0n, producerId, baseSequence: 0, count: 20 },
        { baseOffset: 20n, producerId, baseSequence: 20, count: 10 },
      ]);
      expect(batches.flatMap((b) => b.records.map((r) => ({ offset: r.offset, key: r.key!.toString() })))).toEqual(Array.from({ length: 30 }, (_, i) => ({ offset: BigInt(i), key: keyOf(i) })));
    } finally {
      raw.close();
    }
  });
});

describe('idempotent Produce sent twice over the wire (our codec)', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess();
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('answers a byte-identical retry with the original base offset and appends it once', async () => {
    const topic = `idem-raw-${randomUUID().slice(0, 8)}`;
    await createTopic(broker.bootstrap, topic);
    const raw = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    const again = await RawKafkaClient.connect('127.0.0.1', broker.kafkaPort);
    try {
      const init = await raw.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1n, producerEpoch: -1 });
      expect(init.errorCode).toBe(0);
      const { producerId, producerEpoch } = init;

      const t0 = BigInt(Date.now());
      const batchAt = (baseSequence: number, count: number) =>
        buildRecordBatch({
          baseOffset: 0n,
          producerId,
          producerEpoch,
          baseSequence,
          records: Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${baseSequence + i}`), value: Buffer.from(`v${baseSequence + i}`), timestamp: t0 + BigInt(i) })),
        });
      const produceFrame = (correlationId: number, records: Buffer) =>
        encodeRequest({ apiKey: PRODUCE, apiVersion: 9, correlationId, clientId: 'idem-raw' }, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
      const outcome = (frame: Buffer) => {
        const p = decodeResponse(PRODUCE, 9, frame).body.responses[0]!.partitionResponses[0]!;
        return { errorCode: p.errorCode, baseOffset: p.baseOffset };
      };

      const firstBatch = produceFrame(77, batchAt(0, 5));
      expect(outcome(await raw.sendFrame(firstBatch))).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(outcome(await raw.sendFrame(firstBatch))).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(outcome(await again.sendFrame(firstBatch))).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(await listOffset(raw, topic, 0, LATEST)).toEqual({ errorCode: 0, offset: 5n, timestamp: -1n });

      // the sequence goes on from there, and a retry of an earlier (not the latest) batch is still recognised
      const secondBatch = produceFrame(78, batchAt(5, 3));
      expect(outcome(await raw.sendFrame(secondBatch))).toEqual({ errorCode: 0, baseOffset: 5n });
      expect(outcome(await raw.sendFrame(firstBatch))).toEqual({ errorCode: 0, baseOffset: 0n });
      expect(outcome(await raw.sendFrame(secondBatch))).toEqual({ errorCode: 0, baseOffset: 5n });
      expect(await listOffset(raw, topic, 0, LATEST)).toEqual({ errorCode: 0, offset: 8n, timestamp: -1n });

      const { batches } = await fetchAllBatches(raw, topic, 0);
      expect(batches.map((b) => ({ baseOffset: b.header.baseOffset, producerId: b.header.producerId, epoch: b.header.producerEpoch, baseSequence: b.header.baseSequence, keys: b.records.map((r) => r.key!.toString()) }))).toEqual([
        { baseOffset: 0n, producerId, epoch: producerEpoch, baseSequence: 0, keys: ['k0', 'k1', 'k2', 'k3', 'k4'] },
        { baseOffset: 5n, producerId, epoch: producerEpoch, baseSequence: 5, keys: ['k5', 'k6', 'k7'] },
      ]);
    } finally {
      raw.close();
      again.close();
    }
  });
});
