import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMetadataStore } from '../../metadata/open-metadata-store.js';
import { FIRST_PRODUCER_ID, type CommittedOffset, type MetadataStore, type TransactionRecord } from '../../metadata/metadata-store.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { LogError, type MarkerRequest } from '../log-service.js';
import { TransactionCoordinator, type TransactionCoordinatorOptions } from './transaction-coordinator.js';

const PID = FIRST_PRODUCER_ID;
const MAX_TIMEOUT_MS = 900_000;

const tp = (topic: string, partition: number) => ({ topic, partition });

function offset(topic: string, partition: number, at: bigint, metadata: string | null = null): CommittedOffset {
  return { topic, partition, offset: at, leaderEpoch: -1, metadata, commitTimestamp: 1_700_000_000_000 };
}

/** A marker as the coordinator writes it, without its deadline. */
function written(m: MarkerRequest) {
  return { topic: m.topic, partition: m.partition, producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.commit, coordinatorEpoch: m.coordinatorEpoch };
}

const marker = (topic: string, partition: number, producerEpoch: number, commit: boolean, producerId = PID) => ({ topic, partition, producerId, producerEpoch, commit, coordinatorEpoch: 0 });

describe('TransactionCoordinator', () => {
  let store: MetadataStore;
  let markers: MarkerRequest[];
  /** Failures the marker writer throws, one per call, before it starts recording. */
  let failures: Error[];
  let attempts: number;
  let local: boolean;
  let clock: number;
  let tc: TransactionCoordinator;

  const coordinator = (opts: Partial<TransactionCoordinatorOptions> = {}) =>
    new TransactionCoordinator({
      store: store.transactions,
      groupOffsets: store.groupOffsets,
      producers: store.producers,
      isLocal: () => local,
      writeMarker: async (m) => {
        attempts++;
        const failure = failures.shift();
        if (failure) throw failure;
        markers.push(m);
      },
      logger: pino({ level: 'silent' }),
      maxTimeoutMs: MAX_TIMEOUT_MS,
      abortIntervalMs: 60_000,
      // the real clock plus what a test moved it by
      now: () => Date.now() + clock,
      ...opts,
    });

  beforeEach(async () => {
    store = await openMetadataStore('sqlite::memory:');
    markers = [];
    failures = [];
    attempts = 0;
    local = true;
    clock = 0;
    tc = coordinator();
  });
  afterEach(async () => {
    await tc.stop();
    await store.close();
  });

  const init = (id = 'tx', timeoutMs = 60_000, expected = { producerId: -1n, producerEpoch: -1 }) => tc.initProducerId(id, timeoutMs, expected);
  const record = async (id = 'tx'): Promise<TransactionRecord> => {
    const r = await store.transactions.get(id);
    if (!r) throw new Error(`no record for ${id}`);
    return r;
  };
  /** A transaction of `tx` (producer PID, epoch 0) open on orders-0, orders-1 and the group g. */
  const openTransaction = async () => {
    expect(await init()).toEqual({ errorCode: 0, producerId: PID, producerEpoch: 0 });
    expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 1), tp('orders', 0)])).toBe(ErrorCode.NONE);
    expect(await tc.addOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.NONE);
  };

  describe('initProducerId', () => {
    it('gives a new transactional id a new producer id with epoch 0, and the same id with the next epoch after', async () => {
      const before = Date.now();
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 0 });
      const first = await record();
      expect({ ...first, updatedAtMs: 0 }).toEqual({ transactionalId: 'tx', producerId: PID, producerEpoch: 0, lastProducerEpoch: -1, state: 'Empty', timeoutMs: 60_000, partitions: [], groups: [], startedAtMs: -1, updatedAtMs: 0, version: 1 });
      expect(first.updatedAtMs).toBeGreaterThanOrEqual(before);

      expect(await init('tx', 30_000)).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 1 });
      expect(await record()).toMatchObject({ producerId: PID, producerEpoch: 1, state: 'Empty', timeoutMs: 30_000, version: 2 });
      // naming the current producer (KIP-360) bumps it too
      expect(await init('tx', 30_000, { producerId: PID, producerEpoch: 1 })).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 2 });
      // another id, another producer id
      expect(await init('other')).toEqual({ errorCode: ErrorCode.NONE, producerId: PID + 1n, producerEpoch: 0 });
      expect(markers).toEqual([]);
    });

    it('fences a caller naming a producer that is not the current one with PRODUCER_FENCED; naming the epoch before is a retried bump', async () => {
      await init();
      expect(await init('tx', 60_000, { producerId: PID, producerEpoch: 0 })).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 1 });
      expect(await init('tx', 60_000, { producerId: PID, producerEpoch: 1 })).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 2 });
      expect(await init('tx', 60_000, { producerId: PID, producerEpoch: 0 })).toEqual({ errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
      expect(await init('tx', 60_000, { producerId: PID + 5n, producerEpoch: 2 })).toEqual({ errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
      // the answer to the bump from 1 to 2 was lost: the retry gets epoch 2 again, no new bump
      expect(await init('tx', 60_000, { producerId: PID, producerEpoch: 1 })).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 2 });
      expect((await record()).producerEpoch).toBe(2);
      // a new instance (no id named) bumps and forgets the epoch the last bump came from
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 3 });
      expect(await init('tx', 60_000, { producerId: PID, producerEpoch: 2 })).toEqual({ errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
    });

    it('refuses a timeout out of range with INVALID_TRANSACTION_TIMEOUT, storing nothing', async () => {
      for (const timeoutMs of [0, -1, MAX_TIMEOUT_MS + 1]) {
        expect(await init('tx', timeoutMs)).toEqual({ errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, producerId: -1n, producerEpoch: -1 });
      }
      expect(await store.transactions.get('tx')).toBeUndefined();
      expect(await init('tx', MAX_TIMEOUT_MS)).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 0 });
      expect(await init('tx', 1)).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 1 });
    });

    it('answers NOT_COORDINATOR for an id another agent coordinates, for every request', async () => {
      await init();
      local = false;
      expect(tc.isLocal('tx')).toBe(false);
      expect(await init()).toEqual({ errorCode: ErrorCode.NOT_COORDINATOR, producerId: -1n, producerEpoch: -1 });
      expect(await init('new')).toEqual({ errorCode: ErrorCode.NOT_COORDINATOR, producerId: -1n, producerEpoch: -1 });
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 0)])).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await tc.addOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NOT_COORDINATOR);
      expect(await record()).toMatchObject({ producerEpoch: 0, state: 'Empty', version: 1 });
      expect(await store.transactions.get('new')).toBeUndefined();
    });

    it('aborts a transaction left Ongoing with markers of the next epoch and answers that epoch', async () => {
      await openTransaction();
      await store.groupOffsets.stageTransactional({ group: 'g', producerId: PID, offsets: [offset('orders', 0, 5n)] });
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 1 });
      expect(markers.map(written)).toEqual([marker('orders', 0, 1, false), marker('orders', 1, 1, false)]);
      expect(await record()).toMatchObject({ producerId: PID, producerEpoch: 1, state: 'CompleteAbort', partitions: [], groups: [], startedAtMs: -1 });
      // the staged offsets went with the transaction
      expect(await store.groupOffsets.fetch('g')).toEqual([]);
      // the old producer is fenced; the new one can run a transaction
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await tc.addPartitions('tx', PID, 1, [tp('orders', 0)])).toBe(ErrorCode.NONE);
      expect(await tc.endTransaction('tx', PID, 1, true)).toBe(ErrorCode.NONE);
      expect(markers.slice(2).map(written)).toEqual([marker('orders', 0, 1, true)]);
    });

    it('finishes a transaction left in PrepareCommit before bumping the epoch', async () => {
      await openTransaction();
      const r = await record();
      await store.transactions.put({ ...r, state: 'PrepareCommit' }, r.version);
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID, producerEpoch: 1 });
      expect(markers.map(written)).toEqual([marker('orders', 0, 0, true), marker('orders', 1, 0, true)]);
      expect(await record()).toMatchObject({ producerEpoch: 1, state: 'Empty', partitions: [] });
    });

    it('fences an open transaction at the int16 epoch limit without overflowing: the abort keeps the epoch, the id gets a new producer id', async () => {
      await init();
      const r = await record();
      await store.transactions.put({ ...r, producerEpoch: 32767 }, r.version);
      expect(await tc.addPartitions('tx', PID, 32767, [tp('orders', 0)])).toBe(ErrorCode.NONE);
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID + 1n, producerEpoch: 0 });
      expect(markers.map(written)).toEqual([marker('orders', 0, 32767, false)]);
      expect(await record()).toMatchObject({ producerId: PID + 1n, producerEpoch: 0, state: 'Empty', partitions: [] });
    });

    it('takes a new producer id when the epoch is exhausted', async () => {
      await init();
      const r = await record();
      await store.transactions.put({ ...r, producerEpoch: 32766 }, r.version);
      expect(await init()).toEqual({ errorCode: ErrorCode.NONE, producerId: PID + 1n, producerEpoch: 0 });
    });
  });

  describe('addPartitions and addOffsets', () => {
    it('open the transaction: state Ongoing, partitions sorted and deduplicated, groups, the start time', async () => {
      clock = 1_000_000;
      await init();
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 1), tp('audit', 3), tp('orders', 1), tp('orders', 0)])).toBe(ErrorCode.NONE);
      const opened = await record();
      expect(opened).toMatchObject({ state: 'Ongoing', partitions: [tp('audit', 3), tp('orders', 0), tp('orders', 1)], groups: [] });
      expect(Math.abs(opened.startedAtMs - (Date.now() + clock))).toBeLessThan(5_000);
      // adding what is there already changes nothing
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 0)])).toBe(ErrorCode.NONE);
      expect((await record()).version).toBe(opened.version);
      expect(await tc.addOffsets('tx', PID, 0, 'g2')).toBe(ErrorCode.NONE);
      expect(await tc.addOffsets('tx', PID, 0, 'g1')).toBe(ErrorCode.NONE);
      expect(await tc.addOffsets('tx', PID, 0, 'g1')).toBe(ErrorCode.NONE);
      const later = await record();
      expect([later.groups, later.startedAtMs, later.version]).toEqual([['g1', 'g2'], opened.startedAtMs, opened.version + 2]);
    });

    it('answer INVALID_PRODUCER_ID_MAPPING for an unknown id or producer and PRODUCER_FENCED for another epoch', async () => {
      expect(await tc.addPartitions('nope', PID, 0, [tp('orders', 0)])).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      expect(await tc.addOffsets('nope', PID, 0, 'g')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      await init();
      await init();
      expect(await tc.addPartitions('tx', PID + 1n, 1, [tp('orders', 0)])).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 0)])).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await tc.addPartitions('tx', PID, 2, [tp('orders', 0)])).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await tc.addOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await record()).toMatchObject({ state: 'Empty', partitions: [], groups: [] });
    });

    it('answer CONCURRENT_TRANSACTIONS while the transaction is completing', async () => {
      await openTransaction();
      const r = await record();
      await store.transactions.put({ ...r, state: 'PrepareAbort' }, r.version);
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 2)])).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
      expect(await tc.addOffsets('tx', PID, 0, 'g9')).toBe(ErrorCode.CONCURRENT_TRANSACTIONS);
    });
  });

  describe('endTransaction', () => {
    it('commit writes one COMMIT marker per partition, applies the staged offsets and ends in CompleteCommit', async () => {
      await store.groupOffsets.commit('g', [offset('orders', 0, 1n, 'old')]);
      await openTransaction();
      await store.groupOffsets.stageTransactional({ group: 'g', producerId: PID, offsets: [offset('orders', 0, 10n, 'txn'), offset('orders', 1, 20n)] });
      // staged offsets are not visible before the commit
      expect((await store.groupOffsets.fetch('g')).map((o) => [o.partition, o.offset])).toEqual([[0, 1n]]);
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      expect(markers.map(written)).toEqual([marker('orders', 0, 0, true), marker('orders', 1, 0, true)]);
      for (const m of markers) expect(m.deadlineMs).toBeGreaterThan(Date.now());
      expect(await record()).toMatchObject({ producerId: PID, producerEpoch: 0, state: 'CompleteCommit', partitions: [], groups: [], startedAtMs: -1 });
      expect((await store.groupOffsets.fetch('g')).map((o) => [o.topic, o.partition, o.offset, o.metadata])).toEqual([
        ['orders', 0, 10n, 'txn'],
        ['orders', 1, 20n, null],
      ]);
    });

    it('abort writes ABORT markers, drops the staged offsets and ends in CompleteAbort', async () => {
      await store.groupOffsets.commit('g', [offset('orders', 0, 1n)]);
      await openTransaction();
      await store.groupOffsets.stageTransactional({ group: 'g', producerId: PID, offsets: [offset('orders', 0, 10n)] });
      expect(await tc.endTransaction('tx', PID, 0, false)).toBe(ErrorCode.NONE);
      expect(markers.map(written)).toEqual([marker('orders', 0, 0, false), marker('orders', 1, 0, false)]);
      expect(await record()).toMatchObject({ state: 'CompleteAbort', partitions: [], groups: [] });
      expect((await store.groupOffsets.fetch('g')).map((o) => [o.partition, o.offset])).toEqual([[0, 1n]]);
      // nothing stays staged: a later commit of the group's offsets in another transaction does not bring them back
      expect(await tc.addOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.NONE);
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      expect((await store.groupOffsets.fetch('g')).map((o) => [o.partition, o.offset])).toEqual([[0, 1n]]);
    });

    it('answers PRODUCER_FENCED for another epoch and INVALID_PRODUCER_ID_MAPPING for an unknown id or producer', async () => {
      await openTransaction();
      expect(await tc.endTransaction('tx', PID, 1, true)).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await tc.endTransaction('tx', PID + 1n, 0, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      expect(await tc.endTransaction('nope', PID, 0, false)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      expect(markers).toEqual([]);
      expect((await record()).state).toBe('Ongoing');
    });

    it('answers INVALID_TXN_STATE with no transaction open', async () => {
      await init();
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(await tc.endTransaction('tx', PID, 0, false)).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(markers).toEqual([]);
      expect(await record()).toMatchObject({ state: 'Empty', version: 1 });
    });

    it('answers a retried EndTxn after the end with NONE and no new markers, the other outcome with INVALID_TXN_STATE', async () => {
      await openTransaction();
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      const version = (await record()).version;
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      expect(await tc.endTransaction('tx', PID, 0, false)).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(markers).toHaveLength(2);
      expect(await record()).toMatchObject({ state: 'CompleteCommit', version });
    });

    it('a retried EndTxn finishes a transaction left in its Prepare state', async () => {
      await openTransaction();
      const r = await record();
      await store.transactions.put({ ...r, state: 'PrepareAbort' }, r.version);
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(markers).toEqual([]);
      expect(await tc.endTransaction('tx', PID, 0, false)).toBe(ErrorCode.NONE);
      expect(markers.map(written)).toEqual([marker('orders', 0, 0, false), marker('orders', 1, 0, false)]);
      expect((await record()).state).toBe('CompleteAbort');
    });

    it('retries a marker the writer failed with a retriable LogError, then answers', async () => {
      await openTransaction();
      failures = [new LogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'moving'), new LogError(ErrorCode.REQUEST_TIMED_OUT, 'slow')];
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      // two partitions: the first two calls failed, both partitions were then written once
      expect(attempts).toBe(4);
      expect(markers.map(written).sort((a, b) => a.partition - b.partition)).toEqual([marker('orders', 0, 0, true), marker('orders', 1, 0, true)]);
      expect((await record()).state).toBe('CompleteCommit');
    });

    it('takes a deleted partition (UNKNOWN_TOPIC_OR_PARTITION) or a newer epoch (INVALID_PRODUCER_EPOCH) as done', async () => {
      await openTransaction();
      failures = [new LogError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'deleted'), new LogError(ErrorCode.INVALID_PRODUCER_EPOCH, 'newer')];
      expect(await tc.endTransaction('tx', PID, 0, false)).toBe(ErrorCode.NONE);
      expect([attempts, markers.length]).toEqual([2, 0]);
      expect((await record()).state).toBe('CompleteAbort');
    });
  });

  describe('sweepNow', () => {
    it('aborts a transaction open past its timeout, fencing the producer', async () => {
      await init('tx', 1_000);
      expect(await tc.addPartitions('tx', PID, 0, [tp('orders', 0)])).toBe(ErrorCode.NONE);
      await init('quiet', 1_000);
      clock = 500;
      await tc.sweepNow();
      expect(markers).toEqual([]);
      expect((await record()).state).toBe('Ongoing');
      clock = 1_500;
      await tc.sweepNow();
      expect(markers.map(written)).toEqual([marker('orders', 0, 1, false)]);
      expect(await record()).toMatchObject({ producerEpoch: 1, state: 'CompleteAbort', partitions: [] });
      // an id with no open transaction is left alone
      expect(await record('quiet')).toMatchObject({ producerEpoch: 0, state: 'Empty', version: 1 });
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.PRODUCER_FENCED);
    });

    it('leaves ids another agent coordinates alone', async () => {
      await init('tx', 1_000);
      await tc.addPartitions('tx', PID, 0, [tp('orders', 0)]);
      local = false;
      clock = 5_000;
      await tc.sweepNow();
      expect(markers).toEqual([]);
      expect((await record()).state).toBe('Ongoing');
    });

    it('completes a transaction left in PrepareCommit: markers, offsets, CompleteCommit', async () => {
      await store.transactions.put(
        { transactionalId: 'left', producerId: 4242n, producerEpoch: 3, lastProducerEpoch: -1, state: 'PrepareCommit', timeoutMs: 60_000, partitions: [tp('orders', 2), tp('payments', 0)], groups: ['g'], startedAtMs: 1, updatedAtMs: 1 },
        0,
      );
      await store.groupOffsets.stageTransactional({ group: 'g', producerId: 4242n, offsets: [offset('orders', 2, 99n)] });
      await tc.sweepNow();
      expect(markers.map(written)).toEqual([marker('orders', 2, 3, true, 4242n), marker('payments', 0, 3, true, 4242n)]);
      expect(await record('left')).toMatchObject({ producerId: 4242n, producerEpoch: 3, state: 'CompleteCommit', partitions: [], groups: [], startedAtMs: -1, version: 2 });
      expect((await store.groupOffsets.fetch('g')).map((o) => [o.topic, o.partition, o.offset])).toEqual([['orders', 2, 99n]]);
      // nothing left to do on the next pass
      await tc.sweepNow();
      expect(markers).toHaveLength(2);
    });

    it('completes a transaction left in PrepareAbort with ABORT markers', async () => {
      await store.transactions.put({ transactionalId: 'left', producerId: 77n, producerEpoch: 0, lastProducerEpoch: -1, state: 'PrepareAbort', timeoutMs: 60_000, partitions: [tp('orders', 0)], groups: [], startedAtMs: 1, updatedAtMs: 1 }, 0);
      await tc.sweepNow();
      expect(markers.map(written)).toEqual([marker('orders', 0, 0, false, 77n)]);
      expect((await record('left')).state).toBe('CompleteAbort');
    });
  });

  describe('verify (produce-time check)', () => {
    const check = (over: Partial<{ transactionalId: string; producerId: bigint; producerEpoch: number; topic: string; partition: number }> = {}) =>
      tc.verify({ transactionalId: 'tx', producerId: PID, producerEpoch: 0, topic: 'orders', partition: 0, ...over });
    const failsWith = async (p: Promise<void>, errorCode: number) => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LogError);
      expect((err as LogError).errorCode).toBe(errorCode);
    };

    it('passes for a partition of the open transaction at the current epoch', async () => {
      await openTransaction();
      await expect(check()).resolves.toBeUndefined();
      await expect(check({ partition: 1 })).resolves.toBeUndefined();
    });

    it('answers INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH (another epoch) and INVALID_TXN_STATE (not added, not open)', async () => {
      await failsWith(check(), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      await openTransaction();
      await failsWith(check({ producerId: PID + 1n }), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      await failsWith(check({ partition: 2 }), ErrorCode.INVALID_TXN_STATE);
      await failsWith(check({ topic: 'payments' }), ErrorCode.INVALID_TXN_STATE);
      // an epoch from the future is not the coordinator's either: the epoch is checked first (Kafka)
      await failsWith(check({ producerEpoch: 1 }), ErrorCode.INVALID_PRODUCER_EPOCH);
      expect(await tc.endTransaction('tx', PID, 0, true)).toBe(ErrorCode.NONE);
      await failsWith(check(), ErrorCode.INVALID_TXN_STATE);
      // the next epoch fences epoch 0
      await init();
      await failsWith(check(), ErrorCode.INVALID_PRODUCER_EPOCH);
    });

    it('verifyOffsets answers the TxnOffsetCommit checks as codes', async () => {
      expect(await tc.verifyOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      await openTransaction();
      expect(await tc.verifyOffsets('tx', PID, 0, 'g')).toBe(ErrorCode.NONE);
      expect(await tc.verifyOffsets('tx', PID, 0, 'other')).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(await tc.verifyOffsets('tx', PID, 1, 'g')).toBe(ErrorCode.PRODUCER_FENCED);
      expect(await tc.verifyOffsets('tx', PID + 1n, 0, 'g')).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    });
  });

  it('lists and reads the records of the store', async () => {
    await init('b');
    await init('a');
    expect((await tc.list()).map((r) => [r.transactionalId, r.producerId])).toEqual([
      ['a', PID + 1n],
      ['b', PID],
    ]);
    expect((await tc.get('a'))?.producerId).toBe(PID + 1n);
    expect(await tc.get('zzz')).toBeUndefined();
  });
});
