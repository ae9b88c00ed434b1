import { describe, it, expect } from 'vitest';
import { ErrorCode } from '../protocol/error-codes.js';
import { ProducerEntry, type PendingProducerBatch } from './producer-state.js';

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
