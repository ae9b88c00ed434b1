import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { DeleteRecordsRequestDeleteRecordsTopic } from '../../protocol/messages/generated/delete-records.js';
import { buildRecordBatch } from '../../protocol/records/record-codec.js';
import { deleteRecordsHandler } from './delete-records.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

function batch(n: number): Buffer {
  return buildRecordBatch({ baseOffset: 0n, records: Array.from({ length: n }, () => ({ key: null, value: Buffer.from('x'), timestamp: 1n })) });
}

function del(name: string, ...partitions: Array<[number, bigint]>): DeleteRecordsRequestDeleteRecordsTopic {
  return { name, partitions: partitions.map(([partitionIndex, offset]) => ({ partitionIndex, offset })) };
}

async function deleteRecords(kit: HandlerKit, version: number, topics: DeleteRecordsRequestDeleteRecordsTopic[]) {
  return answered(await callHandler(kit, deleteRecordsHandler, version, { topics, timeoutMs: 30_000 }));
}

function rows(result: Awaited<ReturnType<typeof deleteRecords>>) {
  return result.topics!.flatMap((t) => t.partitions!.map((p) => [t.name, p.partitionIndex, p.errorCode, p.lowWatermark]));
}

describe('DeleteRecords handler', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
    await kit.services.topics.create({ name: 'logs', partitions: 3, configs: {} });
    kit.log.seed('logs', 0, [batch(10)]);
    kit.log.seed('logs', 1, [batch(4)]);
  });
  afterEach(async () => {
    await kit.close();
  });

  it('moves the log start and answers the new low watermark; -1 means the HWM', async () => {
    const r = await deleteRecords(kit, 2, [del('logs', [0, 7n], [1, -1n], [2, 0n])]);
    expect(r).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: 'logs',
          partitions: [
            { partitionIndex: 0, lowWatermark: 7n, errorCode: 0 },
            { partitionIndex: 1, lowWatermark: 4n, errorCode: 0 },
            { partitionIndex: 2, lowWatermark: 0n, errorCode: 0 },
          ],
        },
      ],
    });
    expect(await kit.log.offsets('logs', 0)).toEqual({ highWatermark: 10n, logStartOffset: 7n, lastStableOffset: 10n });
    // a smaller offset never moves the log start back
    expect(rows(await deleteRecords(kit, 0, [del('logs', [0, 3n])]))).toEqual([['logs', 0, 0, 7n]]);
  });

  it('answers errors per partition: above the HWM, below -1, unknown partitions and topics', async () => {
    const r = await deleteRecords(kit, 1, [del('logs', [0, 11n], [1, -2n], [3, 0n], [0, 10n]), del('ghost', [0, 0n])]);
    expect(rows(r)).toEqual([
      ['logs', 0, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
      ['logs', 1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
      ['logs', 3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
      ['logs', 0, 0, 10n],
      ['ghost', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
    ]);
    expect(await kit.log.offsets('logs', 1)).toEqual({ highWatermark: 4n, logStartOffset: 0n, lastStableOffset: 4n });
  });

  it('refuses compacted-only topics with POLICY_VIOLATION, like Kafka', async () => {
    await kit.services.topics.create({ name: 'table', partitions: 1, configs: { 'cleanup.policy': 'compact' } });
    await kit.services.topics.create({ name: 'both', partitions: 1, configs: { 'cleanup.policy': 'compact,delete' } });
    kit.log.seed('table', 0, [batch(2)]);
    kit.log.seed('both', 0, [batch(2)]);
    expect(rows(await deleteRecords(kit, 2, [del('table', [0, 1n]), del('both', [0, 1n])]))).toEqual([
      ['table', 0, ErrorCode.POLICY_VIOLATION, -1n],
      ['both', 0, 0, 1n],
    ]);
  });

  it('encodes its answer at every advertised version 0-2', async () => {
    expect([deleteRecordsHandler.minVersion, deleteRecordsHandler.maxVersion]).toEqual([0, 2]);
    for (let v = 0; v <= 2; v++) {
      const r = await deleteRecords(kit, v, [del('logs', [1, BigInt(v)])]);
      const { body } = decodeResponse(21, v, encodeResponse(21, v, 3, r).subarray(4));
      expect(body.topics[0]!.partitions[0]).toEqual({ partitionIndex: 1, lowWatermark: BigInt(v), errorCode: 0 });
    }
  });
});
