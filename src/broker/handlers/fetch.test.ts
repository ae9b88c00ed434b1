import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse, encodeResponseSegments } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { FetchRequest, FetchRequestFetchTopic } from '../../protocol/messages/generated/fetch.js';
import { ByteParts } from '../../protocol/primitives/writer.js';
import { setBaseOffset, splitBatches } from '../../protocol/records/record-batch.js';
import { buildRecordBatch } from '../../protocol/records/record-codec.js';
import { fetchHandler } from './fetch.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

/** A batch of `n` records of 100-byte values: every batch built here has the same size. */
function batch(n = 1): Buffer {
  return buildRecordBatch({
    baseOffset: 0n,
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.alloc(100, i), timestamp: 1_700_000_000_000n })),
  });
}
const SIZE = batch().length;

function stored(base: bigint, n = 1): Buffer {
  const b = batch(n);
  setBaseOffset(b, base);
  return b;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function want(topic: string, ...partitions: Array<[number, bigint] | [number, bigint, number]>): FetchRequestFetchTopic {
  return {
    topic,
    topicId: ZERO_UUID,
    partitions: partitions.map(([partition, fetchOffset, partitionMaxBytes = 1 << 20]) => ({
      partition,
      fetchOffset,
      partitionMaxBytes,
      currentLeaderEpoch: -1,
      lastFetchedEpoch: -1,
      logStartOffset: -1n,
      replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
    })),
  };
}

async function fetchRaw(kit: HandlerKit, version: number, topics: FetchRequestFetchTopic[], opts: Partial<FetchRequest> = {}) {
  const body: Partial<FetchRequest> = { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 50 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics, forgottenTopicsData: [], rackId: '', ...opts };
  return answered(await callHandler(kit, fetchHandler, version, body));
}

/** The handler's answer with each partition's records (ByteParts) as one Buffer. */
async function fetch(kit: HandlerKit, version: number, topics: FetchRequestFetchTopic[], opts: Partial<FetchRequest> = {}) {
  const r = await fetchRaw(kit, version, topics, opts);
  return {
    ...r,
    responses: r.responses!.map((t) => ({
      ...t,
      partitions: t.partitions!.map((p) => ({ ...p, records: p.records instanceof ByteParts ? p.records.toBuffer() : p.records })),
    })),
  };
}

function partitionsOf(result: Awaited<ReturnType<typeof fetch>>) {
  return result.responses!.flatMap((t) => t.partitions!.map((p) => ({ topic: t.topic, ...p })));
}

/** The same request by id (what v13+ sends: the name is not on the wire). */
function byId(topicId: string, t: FetchRequestFetchTopic): FetchRequestFetchTopic {
  return { ...t, topic: '', topicId };
}

describe('Fetch handler', () => {
  let kit: HandlerKit;
  let eventsId: string;

  beforeEach(async () => {
    kit = await handlerKit();
    eventsId = (await kit.services.topics.create({ name: 'events', partitions: 3, configs: {} })).id;
  });
  /** `t` as version `v` names it: by name up to v12, by id (the given one, else events') from v13. */
  const at = (v: number, t: FetchRequestFetchTopic, id = eventsId): FetchRequestFetchTopic => (v >= 13 ? byId(id, t) : t);
  afterEach(async () => {
    await kit.close();
  });

  it('returns whole batches from the fetch offset with HWM, LSO, log start and no session', async () => {
    kit.log.seed('events', 0, [batch(2), batch(3)]);
    const result = await fetch(kit, 12, [want('events', [0, 2n])]);
    expect(result).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'events',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 5n,
              lastStableOffset: 5n,
              logStartOffset: 0n,
              abortedTransactions: [],
              preferredReadReplica: -1,
              records: stored(2n, 3),
            },
          ],
        },
      ],
    });
    expect(kit.log.reads).toEqual([{ topic: 'events', partition: 0, offset: 2n, maxBytes: 1 << 20, readCommitted: false }]);
  });

  it('encodes its answer at every advertised version 0-15', async () => {
    expect([fetchHandler.minVersion, fetchHandler.maxVersion]).toEqual([0, 15]);
    kit.log.seed('events', 1, [batch(1)]);
    const nope = randomUUID();
    for (let v = 0; v <= 15; v++) {
      const result = await fetch(kit, v, [at(v, want('events', [1, 0n])), at(v, want('nope', [0, 0n]), nope)]);
      const { body } = decodeResponse(1, v, encodeResponse(1, v, 9, result).subarray(4));
      const [ok, missing] = body.responses;
      expect(ok!.partitions[0]!.records).toEqual(stored(0n, 1));
      expect(ok!.partitions[0]!.highWatermark).toBe(1n);
      expect(missing!.partitions[0]!.errorCode).toBe(v >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect([ok!.topic, ok!.topicId, missing!.topic, missing!.topicId]).toEqual(v >= 13 ? ['', eventsId, '', nope] : ['events', ZERO_UUID, 'nope', ZERO_UUID]);
      if (v >= 4) expect(ok!.partitions[0]!.abortedTransactions).toEqual([]);
      if (v >= 4) expect(ok!.partitions[0]!.lastStableOffset).toBe(1n);
      if (v >= 5) expect(ok!.partitions[0]!.logStartOffset).toBe(0n);
    }
  });

  it('encodes as segments whose concatenation is the single-buffer encoding, records by reference, at every version', async () => {
    // batches of ~10 KiB, big enough to be kept by reference
    const big = (): Buffer => buildRecordBatch({ baseOffset: 0n, records: Array.from({ length: 100 }, (_, i) => ({ key: null, value: Buffer.alloc(100, i), timestamp: 1_700_000_000_000n })) });
    kit.log.seed('events', 0, [big(), big()]);
    kit.log.seed('events', 2, [big()]);
    const nope = randomUUID();
    for (let v = 0; v <= 15; v++) {
      const topics = [at(v, want('events', [0, 0n], [1, 0n], [2, 0n])), at(v, want('nope', [0, 0n]), nope)];
      const raw = await fetchRaw(kit, v, topics);
      const flat = await fetch(kit, v, topics);
      const { segments, size } = encodeResponseSegments(1, v, 7, raw);
      const single = encodeResponse(1, v, 7, flat);
      expect(Buffer.concat(segments)).toEqual(single);
      expect(size).toBe(single.length);
      const records = raw.responses![0]!.partitions!.flatMap((p) => (p.records as ByteParts).parts);
      expect(records.length).toBeGreaterThan(0);
      // every record part is one of the segments: the very same Buffer object, not a copy
      for (const part of records) expect(segments.some((s) => s === part)).toBe(true);
    }
  });

  it('serves full fetches with session id 0 (epoch -1 or 0) and refuses incremental ones', async () => {
    kit.log.seed('events', 0, [batch(1)]);
    for (const [sessionId, sessionEpoch] of [[0, -1], [0, 0], [12, -1]] as const) {
      const r = await fetch(kit, 7, [want('events', [0, 0n])], { sessionId, sessionEpoch });
      expect([r.errorCode, r.sessionId, partitionsOf(r)[0]!.records]).toEqual([0, 0, stored(0n, 1)]);
    }
    for (const [sessionId, sessionEpoch] of [[12, 3], [0, 1]] as const) {
      const r = await fetch(kit, 11, [want('events', [0, 0n])], { sessionId, sessionEpoch, maxWaitMs: 5000 });
      expect(r).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] });
    }
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION per partition, at once even with a long maxWait', async () => {
    kit.log.seed('events', 0, [batch(1)]);
    const started = Date.now();
    const r = await fetch(kit, 12, [want('events', [0, 1n], [3, 0n]), want('ghost', [0, 0n])], { maxWaitMs: 10_000, minBytes: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(partitionsOf(r).map((p) => [p.topic, p.partitionIndex, p.errorCode, p.highWatermark, p.logStartOffset, p.records!.length])).toEqual([
      ['events', 0, 0, 1n, 0n, 0],
      ['events', 3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n, 0],
      ['ghost', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n, 0],
    ]);
    expect(kit.log.waits).toHaveLength(0);
  });

  describe('topics by id (v13+)', () => {
    it('reads the topic the id names and answers with its id, not its name', async () => {
      kit.log.seed('events', 0, [batch(2)]);
      kit.log.seed('events', 2, [batch(1)]);
      const r = await fetch(kit, 13, [byId(eventsId, want('events', [0, 0n], [2, 0n]))]);
      expect(r.responses).toEqual([
        {
          topic: '',
          topicId: eventsId,
          partitions: [
            { partitionIndex: 0, errorCode: 0, highWatermark: 2n, lastStableOffset: 2n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: stored(0n, 2) },
            { partitionIndex: 2, errorCode: 0, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: stored(0n, 1) },
          ],
        },
      ]);
      expect(kit.log.reads.map((x) => [x.topic, x.partition])).toEqual([['events', 0], ['events', 2]]);
    });

    it('answers UNKNOWN_TOPIC_ID for each partition of an unknown or zero id, at once, and reads the other topics', async () => {
      kit.log.seed('events', 1, [batch(1)]);
      const ghost = randomUUID();
      const started = Date.now();
      const r = await fetch(kit, 13, [byId(ghost, want('', [0, 0n], [1, 5n])), byId(eventsId, want('', [1, 0n], [7, 0n])), byId(ZERO_UUID, want('events', [0, 0n]))], { maxWaitMs: 10_000, minBytes: 1 });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(r.responses.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark, p.logStartOffset, p.records!.length])])).toEqual([
        [ghost, [[0, ErrorCode.UNKNOWN_TOPIC_ID, -1n, -1n, 0], [1, ErrorCode.UNKNOWN_TOPIC_ID, -1n, -1n, 0]]],
        [eventsId, [[1, 0, 1n, 0n, SIZE], [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n, -1n, 0]]],
        [ZERO_UUID, [[0, ErrorCode.UNKNOWN_TOPIC_ID, -1n, -1n, 0]]],
      ]);
      expect(kit.log.reads.map((x) => [x.topic, x.partition])).toEqual([['events', 1]]);
    });

    it("refuses a deleted topic's id once the name is re-created, and reads the new topic by its new id", async () => {
      const oldId = eventsId;
      await kit.services.topics.delete('events');
      const recreated = await kit.services.topics.create({ name: 'events', partitions: 1, configs: {} });
      expect(recreated.id).not.toBe(oldId);
      kit.log.seed('events', 0, [batch(1)]);
      const stale = await fetch(kit, 13, [byId(oldId, want('', [0, 0n]))]);
      expect(partitionsOf(stale).map((p) => [p.partitionIndex, p.errorCode, p.records!.length])).toEqual([[0, ErrorCode.UNKNOWN_TOPIC_ID, 0]]);
      const fresh = await fetch(kit, 15, [byId(recreated.id, want('', [0, 0n]))]);
      expect(partitionsOf(fresh).map((p) => [p.partitionIndex, p.errorCode, p.records])).toEqual([[0, 0, stored(0n, 1)]]);
      expect(kit.log.reads).toHaveLength(1);
    });

    it('v12 still names topics by name', async () => {
      kit.log.seed('events', 0, [batch(1)]);
      const r = await fetch(kit, 12, [want('events', [0, 0n])]);
      expect(partitionsOf(r).map((p) => [p.topic, p.errorCode, p.records])).toEqual([['events', 0, stored(0n, 1)]]);
    });
  });

  it('answers OFFSET_OUT_OF_RANGE with the HWM and log start filled in, without waiting', async () => {
    kit.log.seed('events', 0, [batch(4)]);
    await kit.log.deleteRecords('events', 0, 2n);
    for (const offset of [1n, 5n]) {
      const r = await fetch(kit, 12, [want('events', [0, offset])], { maxWaitMs: 10_000 });
      const [p] = partitionsOf(r);
      expect([p!.errorCode, p!.highWatermark, p!.lastStableOffset, p!.logStartOffset, p!.records!.length]).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE, 4n, 4n, 2n, 0]);
    }
    expect(kit.log.waits).toHaveLength(0);
  });

  it('answers KAFKA_STORAGE_ERROR when a read fails unexpectedly, and the other partitions normally', async () => {
    kit.log.seed('events', 1, [batch(1)]);
    kit.log.failNext('read', 'events', 0, new Error('socket hang up'));
    const r = await fetch(kit, 12, [want('events', [0, 0n], [1, 0n])], { maxWaitMs: 10_000 });
    expect(partitionsOf(r).map((p) => [p.partitionIndex, p.errorCode, p.records!.length])).toEqual([
      [0, ErrorCode.KAFKA_STORAGE_ERROR, 0],
      [1, 0, SIZE],
    ]);
  });

  it("fences a stale currentLeaderEpoch and refuses one from the future (v9+)", async () => {
    kit.log.seed('events', 0, [batch(1)]);
    const topic = want('events', [0, 0n]);
    const ask = (epoch: number) => fetch(kit, 12, [{ ...topic, partitions: [{ ...topic.partitions[0]!, currentLeaderEpoch: epoch }] }]);
    expect(partitionsOf(await ask(1))[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect(partitionsOf(await ask(0))[0]!.errorCode).toBe(0);
    expect(partitionsOf(await ask(-1))[0]!.errorCode).toBe(0);
  });

  describe('byte limits', () => {
    beforeEach(() => {
      kit.log.seed('events', 0, [batch(), batch(), batch()]);
      kit.log.seed('events', 1, [batch(), batch()]);
    });

    it('stops at maxBytes: later partitions report offsets only', async () => {
      const r = await fetch(kit, 12, [want('events', [0, 0n], [1, 0n])], { maxBytes: 2 * SIZE });
      expect(partitionsOf(r).map((p) => [p.partitionIndex, p.errorCode, p.highWatermark, p.records!.length])).toEqual([
        [0, 0, 3n, 2 * SIZE],
        [1, 0, 2n, 0],
      ]);
      expect(kit.log.reads.map((x) => [x.partition, x.maxBytes])).toEqual([[0, 2 * SIZE]]);
    });

    it('gives the first partition with data one whole batch even above maxBytes and partitionMaxBytes', async () => {
      const tiny = await fetch(kit, 12, [want('events', [2, 0n], [0, 0n, 10], [1, 0n])], { maxBytes: 10 });
      expect(partitionsOf(tiny).map((p) => [p.partitionIndex, p.records])).toEqual([
        [2, Buffer.alloc(0)],
        [0, stored(0n)],
        [1, Buffer.alloc(0)],
      ]);
    });

    it('keeps only the whole batches of a later partition that fit what is left', async () => {
      const r = await fetch(kit, 12, [want('events', [0, 0n, SIZE], [1, 0n])], { maxBytes: 2 * SIZE + SIZE / 2 });
      expect(partitionsOf(r).map((p) => [p.partitionIndex, p.records])).toEqual([
        [0, stored(0n)],
        [1, stored(0n)],
      ]);
      const squeezed = await fetch(kit, 12, [want('events', [0, 0n, SIZE], [1, 0n])], { maxBytes: SIZE + SIZE / 2 });
      expect(partitionsOf(squeezed).map((p) => [p.partitionIndex, p.records!.length, p.highWatermark])).toEqual([
        [0, SIZE, 3n],
        [1, 0, 2n],
      ]);
    });

    it('honours partitionMaxBytes per partition', async () => {
      const r = await fetch(kit, 12, [want('events', [0, 0n, 2 * SIZE], [1, 0n, SIZE])]);
      expect(partitionsOf(r).map((p) => [p.partitionIndex, p.records!.length])).toEqual([
        [0, 2 * SIZE],
        [1, SIZE],
      ]);
    });
  });

  describe('long polling', () => {
    it('returns at once when maxWaitMs is 0 or minBytes is already met', async () => {
      expect(partitionsOf(await fetch(kit, 12, [want('events', [0, 0n])], { maxWaitMs: 0 }))[0]!.records!.length).toBe(0);
      kit.log.seed('events', 0, [batch()]);
      const r = await fetch(kit, 12, [want('events', [0, 0n])], { maxWaitMs: 10_000, minBytes: SIZE });
      expect(partitionsOf(r)[0]!.records!.length).toBe(SIZE);
      expect(kit.log.waits).toHaveLength(0);
    });

    it('waits at the HWM until data arrives, then answers with it', async () => {
      kit.log.seed('events', 1, [batch()]);
      const started = Date.now();
      const pending = fetch(kit, 12, [want('events', [0, 0n], [1, 1n])], { maxWaitMs: 10_000, minBytes: 1 });
      await sleep(50);
      expect(kit.log.waits).toHaveLength(1);
      expect(kit.log.waits[0]!.positions).toEqual([
        { topic: 'events', partition: 0, offset: 0n, readCommitted: false },
        { topic: 'events', partition: 1, offset: 1n, readCommitted: false },
      ]);
      expect(kit.log.waits[0]!.timeoutMs).toBeGreaterThan(9_000);
      kit.log.seed('events', 1, [batch(2)]);
      const r = await pending;
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(partitionsOf(r).map((p) => [p.partitionIndex, p.highWatermark, p.records])).toEqual([
        [0, 0n, Buffer.alloc(0)],
        [1, 3n, stored(1n, 2)],
      ]);
    });

    it('answers with what it has when maxWaitMs passes before minBytes is reached', async () => {
      kit.log.seed('events', 0, [batch()]);
      const started = Date.now();
      const r = await fetch(kit, 12, [want('events', [0, 0n])], { maxWaitMs: 150, minBytes: 10 * SIZE });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(140);
      expect(elapsed).toBeLessThan(2_000);
      expect(partitionsOf(r)[0]!.records).toEqual(stored(0n));
      // one read, one wait that times out, one final read: no spinning on data already seen
      expect(kit.log.reads).toHaveLength(2);
      expect(kit.log.waits.map((w) => w.positions[0]!.offset)).toEqual([1n]);
    });

    it('does not spin on a partition cut short by partitionMaxBytes', async () => {
      kit.log.seed('events', 0, [batch(), batch(), batch()]);
      const r = await fetch(kit, 12, [want('events', [0, 0n, SIZE])], { maxWaitMs: 120, minBytes: 2 * SIZE });
      expect(partitionsOf(r)[0]!.records!.length).toBe(SIZE);
      expect(kit.log.reads).toHaveLength(2);
      expect(kit.log.waits.map((w) => w.positions[0]!.offset)).toEqual([3n]);
    });

    it('keeps waiting until minBytes accumulates, re-reading after each wake-up', async () => {
      const pending = fetch(kit, 12, [want('events', [0, 0n], [1, 0n])], { maxWaitMs: 10_000, minBytes: 2 * SIZE });
      await sleep(20);
      kit.log.seed('events', 0, [batch()]);
      await sleep(20);
      expect(kit.log.waits).toHaveLength(2);
      expect(kit.log.waits[1]!.positions.map((p) => p.offset)).toEqual([1n, 0n]);
      kit.log.seed('events', 1, [batch()]);
      const r = await pending;
      expect(partitionsOf(r).map((p) => [p.partitionIndex, p.records])).toEqual([
        [0, stored(0n)],
        [1, stored(0n)],
      ]);
      expect(splitBatches(Buffer.concat(partitionsOf(r).map((p) => p.records as Buffer))).batches).toHaveLength(2);
    });
  });
  describe('isolation level', () => {
    // offsets 0-1, 2-4, 5, 6-7 in four batches
    beforeEach(() => {
      kit.log.seed('events', 0, [batch(2), batch(3), batch(1), batch(2)]);
    });
    const aborted = [
      { producerId: 7n, firstOffset: 0n, lastOffset: 1n },
      { producerId: 9n, firstOffset: 2n, lastOffset: 4n },
      { producerId: 7n, firstOffset: 6n, lastOffset: 7n },
    ];

    it('read_committed (isolationLevel 1, v4+) reads below the LSO and answers it with the aborted transactions', async () => {
      kit.log.setTransactions('events', 0, { lastStableOffset: 6n, abortedTransactions: aborted });
      for (const v of [4, 11, 12]) {
        kit.log.reads.length = 0;
        const r = await fetch(kit, v, [want('events', [0, 2n])], { isolationLevel: 1 });
        expect(kit.log.reads).toEqual([{ topic: 'events', partition: 0, offset: 2n, maxBytes: 1 << 20, readCommitted: true }]);
        const [p] = partitionsOf(r);
        expect([p!.errorCode, p!.highWatermark, p!.lastStableOffset, p!.abortedTransactions]).toEqual([0, 8n, 6n, [{ producerId: 9n, firstOffset: 2n }]]);
        // the batches at 2-4 and 5: nothing of the open transaction at 6
        expect(p!.records).toEqual(Buffer.concat([stored(2n, 3), stored(5n, 1)]));
      }
      // from offset 0 both transactions in the returned range, oldest first, on the wire too
      const r = await fetchRaw(kit, 12, [want('events', [0, 0n])], { isolationLevel: 1 });
      const { body } = decodeResponse(1, 12, encodeResponse(1, 12, 9, r).subarray(4));
      expect(body.responses[0]!.partitions[0]!.abortedTransactions).toEqual([
        { producerId: 7n, firstOffset: 0n },
        { producerId: 9n, firstOffset: 2n },
      ]);
      expect(body.responses[0]!.partitions[0]!.lastStableOffset).toBe(6n);
    });

    it('read_uncommitted reads to the HWM with no aborted transactions, but still answers the LSO', async () => {
      kit.log.setTransactions('events', 0, { lastStableOffset: 6n, abortedTransactions: aborted });
      const r = await fetch(kit, 12, [want('events', [0, 2n])], { isolationLevel: 0 });
      expect(kit.log.reads.map((x) => x.readCommitted)).toEqual([false]);
      const [p] = partitionsOf(r);
      expect([p!.highWatermark, p!.lastStableOffset, p!.abortedTransactions]).toEqual([8n, 6n, []]);
      expect(p!.records).toEqual(Buffer.concat([stored(2n, 3), stored(5n, 1), stored(6n, 2)]));
    });

    it('before v4 there is no isolation level: reads are uncommitted and abortedTransactions is null', async () => {
      kit.log.setTransactions('events', 0, { lastStableOffset: 6n, abortedTransactions: aborted });
      const r = await fetch(kit, 3, [want('events', [0, 0n])], { isolationLevel: 1 });
      expect(kit.log.reads.map((x) => x.readCommitted)).toEqual([false]);
      const [p] = partitionsOf(r);
      expect([p!.abortedTransactions, p!.records]).toEqual([null, Buffer.concat([stored(0n, 2), stored(2n, 3), stored(5n, 1), stored(6n, 2)])]);
      const { body } = decodeResponse(1, 3, encodeResponse(1, 3, 9, await fetchRaw(kit, 3, [want('events', [0, 0n])], { isolationLevel: 1 })).subarray(4));
      expect(body.responses[0]!.partitions[0]!.highWatermark).toBe(8n);
    });

    it('answers an empty read at the LSO with the LSO, and long-polls read_committed positions on the LSO', async () => {
      kit.log.setTransactions('events', 0, { lastStableOffset: 6n });
      const empty = await fetch(kit, 12, [want('events', [0, 6n])], { isolationLevel: 1 });
      expect(partitionsOf(empty).map((p) => [p.errorCode, p.highWatermark, p.lastStableOffset, p.abortedTransactions, p.records!.length])).toEqual([[0, 8n, 6n, [], 0]]);

      const pending = fetch(kit, 12, [want('events', [0, 6n])], { isolationLevel: 1, maxWaitMs: 10_000, minBytes: 1 });
      await sleep(50);
      expect(kit.log.waits).toHaveLength(1);
      expect(kit.log.waits[0]!.positions).toEqual([{ topic: 'events', partition: 0, offset: 6n, readCommitted: true }]);
      // the open transaction commits: the LSO moves to the HWM and the fetch answers
      kit.log.setTransactions('events', 0, {});
      const r = await pending;
      expect(partitionsOf(r).map((p) => [p.lastStableOffset, p.records])).toEqual([[8n, stored(6n, 2)]]);
    });
  });
});
