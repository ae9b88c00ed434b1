import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogError } from '../../agent/log-service.js';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ListOffsetsRequestListOffsetsTopic } from '../../protocol/messages/generated/list-offsets.js';
import { buildRecordBatch } from '../../protocol/records/record-codec.js';
import { listOffsetsHandler } from './list-offsets.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

/** A batch of `n` records stamped t, t+1, ... */
function batch(n: number, t: bigint): Buffer {
  return buildRecordBatch({ baseOffset: 0n, records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from('x'), timestamp: t + BigInt(i) })) });
}

function ask(name: string, ...partitions: Array<[number, bigint] | [number, bigint, number]>): ListOffsetsRequestListOffsetsTopic {
  return { name, partitions: partitions.map(([partitionIndex, timestamp, currentLeaderEpoch = -1]) => ({ partitionIndex, timestamp, currentLeaderEpoch, maxNumOffsets: 1 })) };
}

async function listOffsets(kit: HandlerKit, version: number, topics: ListOffsetsRequestListOffsetsTopic[]) {
  return answered(await callHandler(kit, listOffsetsHandler, version, { replicaId: -1, isolationLevel: 0, topics }));
}

function rows(result: Awaited<ReturnType<typeof listOffsets>>) {
  return result.topics!.flatMap((t) => t.partitions!.map((p) => [t.name, p.partitionIndex, p.errorCode, p.offset, p.timestamp, p.leaderEpoch]));
}

describe('ListOffsets handler', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
    await kit.services.topics.create({ name: 'clicks', partitions: 2, configs: {} });
    // offsets 0-2 at t=1000..1002, 3-4 at t=5000..5001, 5 at t=2000 (out of order on purpose)
    kit.log.seed('clicks', 0, [batch(3, 1000n), batch(2, 5000n), batch(1, 2000n)]);
    await kit.log.deleteRecords('clicks', 0, 1n);
  });
  afterEach(async () => {
    await kit.close();
  });

  it('answers earliest (-2) with the log start and latest (-1) with the HWM, timestamp -1', async () => {
    const r = await listOffsets(kit, 7, [ask('clicks', [0, -2n], [1, -1n])]);
    expect(r).toEqual({
      throttleTimeMs: 0,
      topics: [
        {
          name: 'clicks',
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 1n, leaderEpoch: 0 },
            { partitionIndex: 1, errorCode: 0, timestamp: -1n, offset: 0n, leaderEpoch: 0 },
          ],
        },
      ],
    });
    expect(rows(await listOffsets(kit, 1, [ask('clicks', [0, -1n])]))).toEqual([['clicks', 0, 0, 6n, -1n, 0]]);
  });

  it('answers max timestamp (-3, v7) with the offset and timestamp of the newest record', async () => {
    expect(rows(await listOffsets(kit, 7, [ask('clicks', [0, -3n], [1, -3n])]))).toEqual([
      ['clicks', 0, 0, 4n, 5001n, 0],
      ['clicks', 1, 0, -1n, -1n, -1],
    ]);
    expect(rows(await listOffsets(kit, 6, [ask('clicks', [0, -3n])]))).toEqual([['clicks', 0, ErrorCode.UNSUPPORTED_VERSION, -1n, -1n, -1]]);
  });

  it('refuses the tiered-storage timestamps -4 and -5', async () => {
    expect(rows(await listOffsets(kit, 7, [ask('clicks', [0, -4n], [1, -5n])])).map((r) => r[2])).toEqual([ErrorCode.UNSUPPORTED_VERSION, ErrorCode.UNSUPPORTED_VERSION]);
  });

  it('looks timestamps up in the log, answering -1/-1 without error when no record is that new', async () => {
    // the first record at or after t=1500 in offset order is offset 3 (t=5000), not offset 5 (t=2000)
    expect(rows(await listOffsets(kit, 5, [ask('clicks', [0, 1500n])]))).toEqual([['clicks', 0, 0, 3n, 5000n, 0]]);
    expect(rows(await listOffsets(kit, 5, [ask('clicks', [0, 0n])]))).toEqual([['clicks', 0, 0, 1n, 1001n, 0]]);
    expect(rows(await listOffsets(kit, 5, [ask('clicks', [0, 9999n])]))).toEqual([['clicks', 0, 0, -1n, -1n, -1]]);
  });

  it('refuses a partition listed twice with INVALID_REQUEST from v1', async () => {
    expect(rows(await listOffsets(kit, 5, [ask('clicks', [0, 1500n], [1, -1n]), ask('clicks', [0, -1n])]))).toEqual([
      ['clicks', 0, ErrorCode.INVALID_REQUEST, -1n, -1n, -1],
      ['clicks', 1, 0, 0n, -1n, 0],
      ['clicks', 0, ErrorCode.INVALID_REQUEST, -1n, -1n, -1],
    ]);
  });

  it('answers v0 in the old form: a list with one offset, or none', async () => {
    const r = await listOffsets(kit, 0, [ask('clicks', [0, -1n], [0, -2n], [0, 1500n], [0, 9999n]), ask('ghost', [0, -1n])]);
    expect(r.topics!.map((t) => t.partitions!.map((p) => [p.partitionIndex, p.errorCode, p.oldStyleOffsets]))).toEqual([
      [
        [0, 0, [6n]],
        [0, 0, [1n]],
        [0, 0, [3n]],
        [0, 0, []],
      ],
      [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []]],
    ]);
    const { body } = decodeResponse(2, 0, encodeResponse(2, 0, 1, r).subarray(4));
    expect(body.topics[0]!.partitions.map((p) => p.oldStyleOffsets)).toEqual([[6n], [1n], [3n], []]);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION, epoch errors and log errors per partition', async () => {
    kit.log.failNext('offsets', 'clicks', 1, new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'elsewhere'));
    const r = await listOffsets(kit, 7, [ask('clicks', [0, -1n, 3], [1, -1n], [2, -1n]), ask('ghost', [0, -1n])]);
    expect(rows(r)).toEqual([
      ['clicks', 0, ErrorCode.UNKNOWN_LEADER_EPOCH, -1n, -1n, -1],
      ['clicks', 1, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1n, -1n, -1],
      ['clicks', 2, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n, -1],
      ['ghost', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n, -1],
    ]);
    kit.log.failNext('lookup', 'clicks', 0, new Error('index unavailable'));
    expect(rows(await listOffsets(kit, 7, [ask('clicks', [0, 1000n, 0])]))).toEqual([['clicks', 0, ErrorCode.KAFKA_STORAGE_ERROR, -1n, -1n, -1]]);
  });

  it('encodes its answer at every advertised version 0-7', async () => {
    expect([listOffsetsHandler.minVersion, listOffsetsHandler.maxVersion]).toEqual([0, 7]);
    for (let v = 0; v <= 7; v++) {
      const r = await listOffsets(kit, v, [ask('clicks', [0, -1n])]);
      const { body } = decodeResponse(2, v, encodeResponse(2, v, 1, r).subarray(4));
      const p = body.topics[0]!.partitions[0]!;
      if (v === 0) expect(p.oldStyleOffsets).toEqual([6n]);
      else expect(p.offset).toBe(6n);
    }
  });
});
