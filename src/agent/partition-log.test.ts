import { describe, expect, it } from 'vitest';
import type { AbortedTransaction, ProducerPartitionState } from '../metadata/metadata-store.js';
import { PartitionLog } from './partition-log.js';

function state(producerId: bigint, txnFirstOffset: bigint | null): ProducerPartitionState {
  return { topic: 't', partition: 0, producerId, producerEpoch: 0, batches: [], txnFirstOffset };
}

function aborted(producerId: bigint, firstOffset: bigint, lastOffset: bigint): AbortedTransaction {
  return { topic: 't', partition: 0, producerId, firstOffset, lastOffset };
}

describe('PartitionLog', () => {
  describe('lastStableOffset', () => {
    it('is the HWM when no transaction is open', () => {
      const log = new PartitionLog('t', 0, 50n, 0n, [state(1n, null), state(2n, null)]);
      expect(log.lastStableOffset).toBe(50n);
      log.advanceTo(60n);
      expect(log.lastStableOffset).toBe(60n);
      expect(new PartitionLog('t', 0, 0n, 0n, []).lastStableOffset).toBe(0n);
    });

    it('is the smallest first offset of the open transactions, and stays there as the HWM moves', () => {
      const log = new PartitionLog('t', 0, 50n, 0n, [state(1n, 30n), state(2n, null), state(3n, 12n), state(4n, 45n)]);
      expect(log.lastStableOffset).toBe(12n);
      log.advanceTo(80n);
      expect(log.lastStableOffset).toBe(12n);
      // a producer first seen now has no open transaction
      log.producer(9n, 0);
      expect(log.lastStableOffset).toBe(12n);
    });

    it('loads each producer state with its open-transaction offset', () => {
      const log = new PartitionLog('t', 0, 50n, 0n, [state(1n, 30n), state(2n, null)]);
      expect([log.producers.get(1n)!.txnFirstOffset, log.producers.get(2n)!.txnFirstOffset]).toEqual([30n, null]);
    });
  });

  describe('abortedIn(from, to)', () => {
    const log = new PartitionLog('t', 0, 100n, 0n, [], [aborted(1n, 10n, 20n), aborted(2n, 15n, 30n), aborted(1n, 40n, 41n), aborted(3n, 60n, 90n)]);

    it('returns the aborted transactions whose range [first, last] overlaps [from, to), oldest first', () => {
      expect(log.abortedIn(0n, 100n).map((a) => [a.producerId, a.firstOffset])).toEqual([
        [1n, 10n],
        [2n, 15n],
        [1n, 40n],
        [3n, 60n],
      ]);
      expect(log.abortedIn(18n, 35n)).toEqual([aborted(1n, 10n, 20n), aborted(2n, 15n, 30n)]);
      // inside one range
      expect(log.abortedIn(70n, 71n)).toEqual([aborted(3n, 60n, 90n)]);
      // in a gap
      expect(log.abortedIn(31n, 40n)).toEqual([]);
      expect(log.abortedIn(42n, 60n)).toEqual([]);
    });

    it('counts the marker offset (lastOffset) in, and `to` out', () => {
      // from at the ABORT marker: still overlapping
      expect(log.abortedIn(20n, 21n)).toEqual([aborted(1n, 10n, 20n), aborted(2n, 15n, 30n)]);
      // from just past the marker
      expect(log.abortedIn(21n, 25n)).toEqual([aborted(2n, 15n, 30n)]);
      // to is exclusive: a range starting at `to` is not included
      expect(log.abortedIn(0n, 10n)).toEqual([]);
      expect(log.abortedIn(0n, 11n)).toEqual([aborted(1n, 10n, 20n)]);
      expect(log.abortedIn(41n, 61n)).toEqual([aborted(1n, 40n, 41n), aborted(3n, 60n, 90n)]);
    });

    it('returns a copy: changing it leaves the log alone', () => {
      const out = log.abortedIn(0n, 100n);
      out.length = 0;
      expect(log.abortedTransactions).toHaveLength(4);
    });
  });

  describe('dropAbortedBelow', () => {
    it('forgets the ranges that end wholly below the offset and keeps those that reach it', () => {
      const log = new PartitionLog('t', 0, 100n, 0n, [], [aborted(1n, 10n, 20n), aborted(2n, 15n, 30n), aborted(3n, 60n, 90n)]);
      log.dropAbortedBelow(10n);
      expect(log.abortedTransactions).toHaveLength(3);
      log.dropAbortedBelow(20n);
      // the marker at 20 is not below 20
      expect(log.abortedTransactions.map((a) => a.producerId)).toEqual([1n, 2n, 3n]);
      log.dropAbortedBelow(21n);
      expect(log.abortedTransactions.map((a) => a.producerId)).toEqual([2n, 3n]);
      log.dropAbortedBelow(61n);
      expect(log.abortedTransactions).toEqual([aborted(3n, 60n, 90n)]);
      log.dropAbortedBelow(91n);
      expect(log.abortedTransactions).toEqual([]);
      log.dropAbortedBelow(200n);
      expect(log.abortedTransactions).toEqual([]);
    });

    it('copies the loaded list instead of keeping the caller array', () => {
      const loaded = [aborted(1n, 10n, 20n)];
      const log = new PartitionLog('t', 0, 100n, 0n, [], loaded);
      log.dropAbortedBelow(50n);
      expect([log.abortedTransactions.length, loaded.length]).toEqual([0, 1]);
    });
  });
});
