import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogError } from '../../agent/log-service.js';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ProduceRequestTopicProduceData } from '../../protocol/messages/generated/produce.js';
import { CompressionType } from '../../protocol/records/compression.js';
import { ATTRIBUTES_OFFSET, CONTROL_FLAG_MASK, CRC_OFFSET, computeBatchCrc, updateBatchCrc } from '../../protocol/records/record-batch.js';
import { buildRecordBatch, type BuildBatchOptions } from '../../protocol/records/record-codec.js';
import { NO_RESPONSE } from '../handler.js';
import { produceHandler } from './produce.js';
import { answered, callHandler, handlerKit, newConnection, type HandlerKit } from './test-support/handler-kit.js';

function batch(records = 2, options: Partial<BuildBatchOptions> = {}): Buffer {
  return buildRecordBatch({
    baseOffset: 0n,
    records: Array.from({ length: records }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: 1_700_000_000_000n + BigInt(i) })),
    ...options,
  });
}

function topicData(name: string, ...partitions: Array<[number, Buffer | null]>): ProduceRequestTopicProduceData {
  return { name, partitionData: partitions.map(([index, records]) => ({ index, records })) };
}

async function produce(kit: HandlerKit, version: number, topics: ProduceRequestTopicProduceData[], acks = -1, connection = kit.connection) {
  return callHandler(kit, produceHandler, version, { transactionalId: null, acks, timeoutMs: 30_000, topicData: topics }, connection);
}

/** partition responses as [index, errorCode, baseOffset] for compact assertions */
function summary(result: Awaited<ReturnType<typeof produce>>) {
  return answered(result).responses!.map((t) => [t.name, t.partitionResponses!.map((p) => [p.index, p.errorCode, p.baseOffset])]);
}

function onlyPartition(result: Awaited<ReturnType<typeof produce>>) {
  return answered(result).responses![0]!.partitionResponses![0]!;
}

describe('Produce handler', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
    await kit.services.topics.create({ name: 'orders', partitions: 2, configs: {} });
  });
  afterEach(async () => {
    await kit.close();
  });

  it('appends one batch per partition and answers base offsets, log start and no errors', async () => {
    const before = Date.now();
    const first = await produce(kit, 9, [topicData('orders', [0, batch(3)], [1, batch(1)])]);
    expect(answered(first)).toEqual({
      throttleTimeMs: 0,
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            { index: 0, errorCode: 0, errorMessage: null, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [] },
            { index: 1, errorCode: 0, errorMessage: null, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [] },
          ],
        },
      ],
    });
    const second = await produce(kit, 9, [topicData('orders', [0, batch(2)])]);
    expect(summary(second)).toEqual([['orders', [[0, 0, 3n]]]]);

    expect(kit.log.appends).toHaveLength(3);
    const a = kit.log.appends[0]!;
    expect(a.topic.name).toBe('orders');
    expect(a.partition).toBe(0);
    expect(a.batches).toHaveLength(1);
    expect(a.batches[0]!.equals(batch(3))).toBe(true);
    expect(a.deadlineMs).toBeGreaterThanOrEqual(before + 30_000);
    expect(a.deadlineMs).toBeLessThanOrEqual(Date.now() + 30_000);
  });

  it('encodes its answer at every advertised version 0-11', async () => {
    expect([produceHandler.minVersion, produceHandler.maxVersion]).toEqual([0, 11]);
    for (let v = 0; v <= 11; v++) {
      const result = answered(await produce(kit, v, [topicData('orders', [1, batch(1)]), topicData('nope', [0, batch(1)])]));
      const frame = encodeResponse(0, v, 42, result);
      const { correlationId, body } = decodeResponse(0, v, frame.subarray(4));
      expect(correlationId).toBe(42);
      const [ok, missing] = body.responses;
      expect(ok!.partitionResponses[0]!.errorCode).toBe(0);
      expect(ok!.partitionResponses[0]!.baseOffset).toBe(BigInt(v));
      expect(missing!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (v >= 5) expect(ok!.partitionResponses[0]!.logStartOffset).toBe(0n);
      if (v >= 8) expect(missing!.partitionResponses[0]!.errorMessage).toBe('This server does not host this topic-partition.');
    }
  });

  it('answers INVALID_REQUIRED_ACKS for every partition when acks is not 0, 1 or -1', async () => {
    const result = await produce(kit, 9, [topicData('orders', [0, batch()], [1, batch()]), topicData('nope', [0, batch()])], 2);
    expect(summary(result)).toEqual([
      ['orders', [[0, ErrorCode.INVALID_REQUIRED_ACKS, -1n], [1, ErrorCode.INVALID_REQUIRED_ACKS, -1n]]],
      ['nope', [[0, ErrorCode.INVALID_REQUIRED_ACKS, -1n]]],
    ]);
    expect(kit.log.appends).toHaveLength(0);
  });

  it('refuses unknown topics without auto-creation, bad names and partitions out of range, and still appends the rest', async () => {
    const result = await produce(kit, 9, [
      topicData('orders', [2, batch()], [-1, batch()], [1, batch()]),
      topicData('missing', [0, batch()]),
      topicData('bad name!', [0, batch()]),
    ]);
    expect(summary(result)).toEqual([
      ['orders', [[2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n], [-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n], [1, 0, 0n]]],
      ['missing', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]],
      ['bad name!', [[0, ErrorCode.INVALID_TOPIC_EXCEPTION, -1n]]],
    ]);
    expect(await kit.services.topics.get('missing')).toBeUndefined();
    expect(kit.log.appends.map((a) => `${a.topic.name}-${a.partition}`)).toEqual(['orders-1']);
  });

  it('auto-creates an unknown topic with the broker defaults when allowed', async () => {
    const auto = await handlerKit({ autoCreateTopics: true, defaultPartitions: 3 });
    try {
      const result = await produce(auto, 9, [topicData('fresh', [2, batch()])]);
      expect(summary(result)).toEqual([['fresh', [[2, 0, 0n]]]]);
      expect((await auto.services.topics.get('fresh'))?.partitionCount).toBe(3);
      expect((await auto.store.topics.get('fresh'))?.partitionCount).toBe(3);
    } finally {
      await auto.close();
    }
  });

  it('answers INVALID_RECORD for null and empty records, with Kafka message', async () => {
    const result = answered(await produce(kit, 9, [topicData('orders', [0, null], [1, Buffer.alloc(0)])]));
    for (const p of result.responses![0]!.partitionResponses!) {
      expect(p.errorCode).toBe(ErrorCode.INVALID_RECORD);
      expect(p.errorMessage).toBe('Produce requests with version 9 must have at least one record batch per partition');
      expect(p.baseOffset).toBe(-1n);
    }
    expect(kit.log.appends).toHaveLength(0);
  });

  it('takes exactly one batch per partition from v3, several before', async () => {
    const two = Buffer.concat([batch(1), batch(2)]);
    const v3 = onlyPartition(await produce(kit, 3, [topicData('orders', [0, two])]));
    expect(v3.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(kit.log.appends).toHaveLength(0);
    const v8 = onlyPartition(await produce(kit, 8, [topicData('orders', [0, two])]));
    expect([v8.errorCode, v8.errorMessage]).toEqual([ErrorCode.INVALID_RECORD, 'Produce requests with version 8 are only allowed to contain exactly one record batch per partition']);

    const v2 = onlyPartition(await produce(kit, 2, [topicData('orders', [0, two])]));
    expect([v2.errorCode, v2.baseOffset]).toEqual([0, 0n]);
    expect(kit.log.appends[0]!.batches.map((b) => b.length)).toEqual([batch(1).length, batch(2).length]);
  });

  it('answers CORRUPT_MESSAGE for a trailing partial batch and a bad CRC, with the reason', async () => {
    const whole = batch(2);
    const partial = onlyPartition(await produce(kit, 9, [topicData('orders', [0, Buffer.concat([whole, whole.subarray(0, 20)])])]));
    expect([partial.errorCode, partial.errorMessage]).toEqual([ErrorCode.CORRUPT_MESSAGE, 'Records of orders-0 end with 20 bytes that are not a whole record batch']);

    const corrupt = Buffer.from(whole);
    corrupt[corrupt.length - 1] ^= 0xff;
    const stored = corrupt.readUInt32BE(CRC_OFFSET).toString(16).padStart(8, '0');
    const computed = computeBatchCrc(corrupt).toString(16).padStart(8, '0');
    const crc = onlyPartition(await produce(kit, 9, [topicData('orders', [0, corrupt])]));
    expect([crc.errorCode, crc.errorMessage]).toEqual([ErrorCode.CORRUPT_MESSAGE, `records.crc: record batch is corrupt: stored CRC 0x${stored}, computed 0x${computed}`]);

    // a records field shorter than one batch holds no batch at all (Kafka: INVALID_RECORD)
    const short = onlyPartition(await produce(kit, 9, [topicData('orders', [0, whole.subarray(0, 40)])]));
    expect(short.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(kit.log.appends).toHaveLength(0);
  });

  it('answers INVALID_RECORD for a non-zero base offset, a count that does not match, control batches and missing sequences', async () => {
    const shifted = onlyPartition(await produce(kit, 9, [topicData('orders', [0, batch(1, { baseOffset: 5n })])]));
    expect([shifted.errorCode, shifted.errorMessage]).toEqual([ErrorCode.INVALID_RECORD, 'The baseOffset of the record batch in the append to orders-0 should be 0, but it is 5']);

    const inconsistent = onlyPartition(await produce(kit, 9, [topicData('orders', [0, batch(2, { lastOffsetDelta: 4 })])]));
    expect([inconsistent.errorCode, inconsistent.errorMessage]).toEqual([ErrorCode.INVALID_RECORD, 'records.lastOffsetDelta: inconsistent batch: lastOffsetDelta 4 with 2 records']);

    const control = batch(1);
    control.writeInt16BE(control.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET);
    updateBatchCrc(control);
    const ctl = onlyPartition(await produce(kit, 9, [topicData('orders', [0, control])]));
    expect([ctl.errorCode, ctl.errorMessage]).toEqual([ErrorCode.INVALID_RECORD, 'Clients are not allowed to write control records in topic partition orders-0.']);

    const noSeq = onlyPartition(await produce(kit, 9, [topicData('orders', [0, batch(1, { producerId: 1000n, producerEpoch: 0, baseSequence: -1 })])]));
    expect([noSeq.errorCode, noSeq.errorMessage]).toEqual([ErrorCode.INVALID_RECORD, 'Invalid sequence number -1 in record batch with producerId 1000 in topic partition orders-0.']);
    expect(kit.log.appends).toHaveLength(0);
  });

  it('passes idempotent batches to the log', async () => {
    const idem = batch(2, { producerId: 1000n, producerEpoch: 0, baseSequence: 0 });
    expect(onlyPartition(await produce(kit, 9, [topicData('orders', [0, idem])])).errorCode).toBe(0);
    expect(kit.log.appends).toHaveLength(1);
  });

  it('refuses magic v0/v1 message sets', async () => {
    const old = batch(1);
    old.writeInt8(1, 16);
    const v3 = onlyPartition(await produce(kit, 3, [topicData('orders', [0, old])]));
    expect(v3.errorCode).toBe(ErrorCode.INVALID_RECORD);
    const v2 = onlyPartition(await produce(kit, 2, [topicData('orders', [0, old])]));
    expect(v2.errorCode).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    expect(kit.log.appends).toHaveLength(0);
  });

  it("answers MESSAGE_TOO_LARGE for a batch above the topic's max.message.bytes", async () => {
    const b = batch(3);
    await kit.services.topics.setConfigs('orders', { 'max.message.bytes': String(b.length - 1) }, false);
    const big = onlyPartition(await produce(kit, 9, [topicData('orders', [0, b])]));
    expect([big.errorCode, big.errorMessage]).toEqual([
      ErrorCode.MESSAGE_TOO_LARGE,
      `The record batch size in the append to orders-0 is ${b.length} bytes which exceeds the maximum configured value of ${b.length - 1}.`,
    ]);
    await kit.services.topics.setConfigs('orders', { 'max.message.bytes': String(b.length) }, false);
    expect(onlyPartition(await produce(kit, 9, [topicData('orders', [0, b])])).errorCode).toBe(0);
  });

  it("hands transactional batches to the log with the request's transactional id", async () => {
    const txn = batch(1, { producerId: 1000n, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    const result = answered(
      await callHandler(kit, produceHandler, 9, { transactionalId: 'tx-1', acks: -1, timeoutMs: 30_000, topicData: [topicData('orders', [0, txn], [1, batch(1)])] }),
    );
    expect(result.responses![0]!.partitionResponses!.map((p) => [p.index, p.errorCode, p.errorMessage, p.baseOffset])).toEqual([
      [0, 0, null, 0n],
      [1, 0, null, 0n],
    ]);
    expect(kit.log.appends.map((a) => [a.partition, a.transactionalId, a.batches.length])).toEqual([
      [0, 'tx-1', 1],
      [1, 'tx-1', 1],
    ]);
    expect(kit.log.appends[0]!.batches[0]).toEqual(txn);
    // without a transactional id the log is told so (it refuses transactional batches then)
    await produce(kit, 9, [topicData('orders', [0, batch(1)])]);
    expect(kit.log.appends[2]!.transactionalId).toBeNull();
  });

  it("answers the log's INVALID_TXN_STATE as TRANSACTION_ABORTABLE from Produce v11, as it is before, other errors unchanged", async () => {
    const txn = batch(1, { producerId: 1000n, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    const send = (version: number) => callHandler(kit, produceHandler, version, { transactionalId: 'tx-1', acks: -1, timeoutMs: 30_000, topicData: [topicData('orders', [0, txn])] });
    const notInTxn = 'orders-0 is not part of the open transaction of tx-1';
    for (const [version, code] of [
      [9, ErrorCode.INVALID_TXN_STATE],
      [10, ErrorCode.INVALID_TXN_STATE],
      [11, ErrorCode.TRANSACTION_ABORTABLE],
    ] as const) {
      kit.log.failNext('append', 'orders', 0, new LogError(ErrorCode.INVALID_TXN_STATE, notInTxn));
      const p = onlyPartition(await send(version));
      expect([p.errorCode, p.errorMessage, p.baseOffset]).toEqual([code, notInTxn, -1n]);
    }
    kit.log.failNext('append', 'orders', 0, new LogError(ErrorCode.INVALID_PRODUCER_EPOCH, 'fenced'));
    const fenced = onlyPartition(await send(11));
    expect([fenced.errorCode, fenced.errorMessage]).toEqual([ErrorCode.INVALID_PRODUCER_EPOCH, 'fenced']);
    // and the answer encodes at v11
    kit.log.failNext('append', 'orders', 0, new LogError(ErrorCode.INVALID_TXN_STATE, notInTxn));
    const r = answered(await send(11));
    const { body } = decodeResponse(0, 11, encodeResponse(0, 11, 3, r).subarray(4));
    expect(body.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TRANSACTION_ABORTABLE);
  });

  it('refuses zstd before v7 and accepts it from v7', async () => {
    const z = batch(2, { compression: CompressionType.Zstd });
    const v6 = onlyPartition(await produce(kit, 6, [topicData('orders', [0, z])]));
    expect(v6.errorCode).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    const v7 = onlyPartition(await produce(kit, 7, [topicData('orders', [0, z])]));
    expect(v7.errorCode).toBe(0);
  });

  it("answers a LogError's code and message, and KAFKA_STORAGE_ERROR for anything else, per partition", async () => {
    kit.log.failNext('append', 'orders', 0, new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'moved'));
    kit.log.failNext('append', 'orders', 1, new Error('disk on fire'));
    const result = answered(await produce(kit, 9, [topicData('orders', [0, batch()], [1, batch()])]));
    const [p0, p1] = result.responses![0]!.partitionResponses!;
    expect([p0!.errorCode, p0!.errorMessage, p0!.baseOffset]).toEqual([ErrorCode.NOT_LEADER_OR_FOLLOWER, 'moved', -1n]);
    expect([p1!.errorCode, p1!.errorMessage]).toEqual([ErrorCode.KAFKA_STORAGE_ERROR, 'Append of orders-1 failed: disk on fire']);
  });

  it('starts the appends but never answers acks=0', async () => {
    kit.log.holdAppends = true;
    const result = await produce(kit, 9, [topicData('orders', [0, batch()]), topicData('missing', [0, batch()])], 0);
    expect(result).toBe(NO_RESPONSE);
    expect(kit.log.appends.map((a) => a.partition)).toEqual([0]);
    kit.log.releaseAppends();
  });

  it('starts appends in request order on one connection even when an earlier request is slower to validate', async () => {
    const auto = await handlerKit({ autoCreateTopics: true });
    try {
      await auto.services.topics.create({ name: 'known', partitions: 1, configs: {} });
      const conn = newConnection();
      // the first request must auto-create a topic (several metadata round trips) before
      // reaching 'known'; the second goes straight to 'known'
      const first = produce(auto, 9, [topicData('fresh', [0, batch(1)]), topicData('known', [0, batch(1)])], -1, conn);
      const second = produce(auto, 9, [topicData('known', [0, batch(2)])], -1, conn);
      const [a, b] = await Promise.all([first, second]);
      expect(summary(a)).toEqual([['fresh', [[0, 0, 0n]]], ['known', [[0, 0, 0n]]]]);
      expect(summary(b)).toEqual([['known', [[0, 0, 1n]]]]);
      expect(auto.log.appends.map((x) => `${x.topic.name}:${x.batches[0]!.length}`)).toEqual([`fresh:${batch(1).length}`, `known:${batch(1).length}`, `known:${batch(2).length}`]);
    } finally {
      await auto.close();
    }
  });
});
