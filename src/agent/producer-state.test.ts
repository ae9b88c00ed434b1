import { describe, it, expect } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { ProducerEntry, type PendingProducerBatch, type ProducerStep } from './producer-state.js';

function pending(epoch: number, first: number, last: number): PendingProducerBatch {
  return { producerEpoch: epoch, firstSequence: first, lastSequence: last, cancelled: false, outcome: new Promise<bigint>(() => {}) };
}

const id = (epoch: number, first: number, last: number) => ({ producerId: 7n, producerEpoch: epoch, firstSequence: first, lastSequence: last });

describe('ProducerEntry', () => {
  it('accepts sequence 0 from an unknown producer and then only the next sequence', () => {
    const e = new ProducerEntry(7n, 0, []);
    expect(e.check(id(0, 0, 4))).toEqual({ kind: 'append' });
    const b = pending(0, 0, 4);
    e.addPending(b);
    expect(e.check(id(0, 5, 9))).toEqual({ kind: 'append' });
    expect(e.check(id(0, 6, 9))).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });

  it('answers an unknown producer that starts past 0 with UNKNOWN_PRODUCER_ID', () => {
    expect(new ProducerEntry(7n, 0, []).check(id(0, 3, 4))).toMatchObject({ kind: 'error', errorCode: ErrorCode.UNKNOWN_PRODUCER_ID });
  });

  it('recognises a retry of a committed batch and returns its original offset', () => {
    const e = new ProducerEntry(7n, 2, [{ firstSequence: 0, lastSequence: 2, baseOffset: 100n, lastOffset: 102n }, { firstSequence: 3, lastSequence: 3, baseOffset: 110n, lastOffset: 110n }]);
    expect(e.check(id(2, 0, 2))).toEqual({ kind: 'duplicate', baseOffset: 100n });
    expect(e.check(id(2, 3, 3))).toEqual({ kind: 'duplicate', baseOffset: 110n });
    expect(e.check(id(2, 4, 4))).toEqual({ kind: 'append' });
  });

  it('recognises a retry of a batch still in flight', () => {
    const e = new ProducerEntry(7n, 0, []);
    const b = pending(0, 0, 1);
    e.addPending(b);
    expect(e.check(id(0, 0, 1))).toEqual({ kind: 'duplicate-pending', pending: b });
  });

  it('fences an older epoch and requires a new epoch to start at 0', () => {
    const e = new ProducerEntry(7n, 3, [{ firstSequence: 0, lastSequence: 9, baseOffset: 0n, lastOffset: 9n }]);
    expect(e.check(id(2, 10, 10))).toMatchObject({ kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(e.check(id(4, 5, 5))).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(e.check(id(4, 0, 0))).toEqual({ kind: 'append' });
  });

  it('wraps the sequence after Int32.MAX', () => {
    const e = new ProducerEntry(7n, 0, [{ firstSequence: 2147483640, lastSequence: 2147483647, baseOffset: 0n, lastOffset: 7n }]);
    expect(e.check(id(0, 0, 3))).toEqual({ kind: 'append' });
  });

  it('keeps only the last five committed batches and resets history on a new epoch', () => {
    const e = new ProducerEntry(7n, 0, []);
    for (let i = 0; i < 7; i++) {
      const b = pending(0, i, i);
      e.addPending(b);
      e.commit(b, BigInt(i * 10), BigInt(i * 10));
    }
    expect(e.committedBatches.map((b) => b.firstSequence)).toEqual([2, 3, 4, 5, 6]);
    expect(e.check(id(0, 1, 1))).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    const next = pending(1, 0, 0);
    expect(e.previewSteps([{ kind: 'batch', batch: next, baseOffset: 99n, lastOffset: 99n, transactional: false }])).toEqual({ producerEpoch: 1, batches: [{ firstSequence: 0, lastSequence: 0, baseOffset: 99n, lastOffset: 99n }], txnFirstOffset: null, aborted: [] });
    e.addPending(next);
    e.commit(next, 99n, 99n);
    expect(e.producerEpoch).toBe(1);
    expect(e.committedBatches).toHaveLength(1);
  });

  it('cancels every later in-flight batch when one fails, so no sequence gap is ever written', () => {
    const e = new ProducerEntry(7n, 0, []);
    const a = pending(0, 0, 0);
    const b = pending(0, 1, 1);
    const c = pending(0, 2, 2);
    e.addPending(a);
    e.addPending(b);
    e.addPending(c);
    e.fail(b);
    expect([a.cancelled, b.cancelled, c.cancelled]).toEqual([false, true, true]);
    // the producer resends 1 and 2 in order
    expect(e.check(id(0, 1, 1))).toEqual({ kind: 'append' });
    expect(e.check(id(0, 2, 2))).toMatchObject({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  });
});

describe('ProducerEntry.previewSteps (transactions)', () => {
  const txnBatch = (epoch: number, first: number, last: number, baseOffset: bigint, lastOffset: bigint, transactional = true): ProducerStep => ({
    kind: 'batch',
    batch: pending(epoch, first, last),
    baseOffset,
    lastOffset,
    transactional,
  });
  const marker = (epoch: number, commit: boolean, offset: bigint): ProducerStep => ({ kind: 'marker', producerEpoch: epoch, commit, offset });

  it('opens the transaction at the first transactional batch, not at later ones', () => {
    const e = new ProducerEntry(7n, 0, []);
    const preview = e.previewSteps([txnBatch(0, 0, 1, 10n, 11n), txnBatch(0, 2, 2, 15n, 15n)]);
    expect(preview).toEqual({
      producerEpoch: 0,
      batches: [
        { firstSequence: 0, lastSequence: 1, baseOffset: 10n, lastOffset: 11n },
        { firstSequence: 2, lastSequence: 2, baseOffset: 15n, lastOffset: 15n },
      ],
      txnFirstOffset: 10n,
      aborted: [],
    });
    // previewing changes nothing until the flush is adopted
    expect(e.txnFirstOffset).toBeNull();
    e.adopt(preview);
    expect(e.txnFirstOffset).toBe(10n);
    // an already open transaction keeps its first offset
    expect(e.previewSteps([txnBatch(0, 3, 3, 20n, 20n)]).txnFirstOffset).toBe(10n);
  });

  it('does not open a transaction for idempotent (non-transactional) batches', () => {
    const e = new ProducerEntry(7n, 0, []);
    expect(e.previewSteps([txnBatch(0, 0, 0, 3n, 3n, false)]).txnFirstOffset).toBeNull();
  });

  it('a COMMIT marker closes the open transaction without an aborted range', () => {
    const e = new ProducerEntry(7n, 0, [{ firstSequence: 0, lastSequence: 0, baseOffset: 4n, lastOffset: 4n }], 4n);
    expect(e.previewSteps([txnBatch(0, 1, 1, 6n, 6n), marker(0, true, 9n)])).toEqual({
      producerEpoch: 0,
      batches: [
        { firstSequence: 0, lastSequence: 0, baseOffset: 4n, lastOffset: 4n },
        { firstSequence: 1, lastSequence: 1, baseOffset: 6n, lastOffset: 6n },
      ],
      txnFirstOffset: null,
      aborted: [],
    });
  });

  it('an ABORT marker records the range from the first offset to the marker offset', () => {
    const e = new ProducerEntry(7n, 2, [], 40n);
    expect(e.previewSteps([marker(2, false, 57n)])).toEqual({ producerEpoch: 2, batches: [], txnFirstOffset: null, aborted: [{ firstOffset: 40n, lastOffset: 57n }] });
    // a transaction opened and aborted within one flush, then a new one opened after the marker
    const f = new ProducerEntry(7n, 0, []);
    const p = f.previewSteps([txnBatch(0, 0, 2, 100n, 102n), marker(0, false, 103n), txnBatch(0, 3, 3, 104n, 104n)]);
    expect([p.aborted, p.txnFirstOffset]).toEqual([[{ firstOffset: 100n, lastOffset: 103n }], 104n]);
  });

  it('a marker of a newer epoch (the producer was fenced) resets the batches and moves the epoch', () => {
    const e = new ProducerEntry(7n, 3, [{ firstSequence: 0, lastSequence: 4, baseOffset: 10n, lastOffset: 14n }], 10n);
    expect(e.previewSteps([marker(4, false, 20n)])).toEqual({ producerEpoch: 4, batches: [], txnFirstOffset: null, aborted: [{ firstOffset: 10n, lastOffset: 20n }] });
    // a marker of the current epoch keeps the history
    expect(e.previewSteps([marker(3, true, 20n)])).toEqual({
      producerEpoch: 3,
      batches: [{ firstSequence: 0, lastSequence: 4, baseOffset: 10n, lastOffset: 14n }],
      txnFirstOffset: null,
      aborted: [],
    });
    // the next epoch's batches after the fencing marker start a fresh history
    const p = e.previewSteps([marker(4, false, 20n), txnBatch(4, 0, 0, 21n, 21n)]);
    expect([p.producerEpoch, p.batches, p.txnFirstOffset]).toEqual([4, [{ firstSequence: 0, lastSequence: 0, baseOffset: 21n, lastOffset: 21n }], 21n]);
  });

  it('a marker with no open transaction records nothing', () => {
    const e = new ProducerEntry(7n, 1, [{ firstSequence: 0, lastSequence: 0, baseOffset: 2n, lastOffset: 2n }]);
    for (const commit of [true, false]) {
      expect(e.previewSteps([marker(1, commit, 8n)])).toEqual({ producerEpoch: 1, batches: [{ firstSequence: 0, lastSequence: 0, baseOffset: 2n, lastOffset: 2n }], txnFirstOffset: null, aborted: [] });
    }
    // nor does a second ABORT after the first closed the transaction
    const f = new ProducerEntry(7n, 1, [], 5n);
    expect(f.previewSteps([marker(1, false, 8n), marker(1, false, 9n)]).aborted).toEqual([{ firstOffset: 5n, lastOffset: 8n }]);
  });
});
