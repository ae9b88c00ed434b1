import { describe, expect, it } from 'vitest';
import { CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET, setBaseOffset, updateBatchCrc } from '../protocol/records/record-batch.js';
import { buildRecordBatch } from '../protocol/records/record-codec.js';
import { batchOfRecords, consumedRecords, recordInputOf } from './records.js';

function batch(base: bigint, values: string[], offsetDeltas?: number[]): Buffer {
  const b = buildRecordBatch({
    baseOffset: 0n,
    records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1000n + BigInt(i), ...(offsetDeltas ? { offsetDelta: offsetDeltas[i]! } : {}) })),
  });
  setBaseOffset(b, base);
  return b;
}

const offsets = (r: ReturnType<typeof consumedRecords>) => r.records.map((x) => `${x.offset}:${x.value?.toString()}`);

describe('consumedRecords', () => {
  it('starts inside a batch and stops at max_records', () => {
    const data = Buffer.concat([batch(0n, ['a', 'b', 'c']), batch(3n, ['d', 'e'])]);
    const r = consumedRecords('t', 0, data, 1n, { maxRecords: 3, maxBytes: 1 << 20 });
    expect(offsets(r)).toEqual(['1:b', '2:c', '3:d']);
    expect(r.nextOffset).toBe(4n);
  });

  it('stops before exceeding max_bytes but always returns one record', () => {
    const data = batch(0n, ['aaaa', 'bbbb', 'cccc']);
    expect(offsets(consumedRecords('t', 0, data, 0n, { maxRecords: 10, maxBytes: 9 }))).toEqual(['0:aaaa', '1:bbbb']);
    expect(offsets(consumedRecords('t', 0, data, 0n, { maxRecords: 10, maxBytes: 1 }))).toEqual(['0:aaaa']);
  });

  it('skips control batches and moves past compaction gaps', () => {
    const control = batch(2n, ['marker']);
    control.writeInt16BE(control.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_FLAG_MASK, ATTRIBUTES_OFFSET);
    updateBatchCrc(control);
    // offsets 3 and 5 of a compacted batch remain; the batch ends at 6
    const compacted = batch(3n, ['x', 'y'], [0, 2]);
    compacted.writeInt32BE(3, 23);
    updateBatchCrc(compacted);
    const data = Buffer.concat([batch(0n, ['a', 'b']), control, compacted]);
    const r = consumedRecords('t', 0, data, 0n, { maxRecords: 10, maxBytes: 1 << 20 });
    expect(offsets(r)).toEqual(['0:a', '1:b', '3:x', '5:y']);
    expect(r.nextOffset).toBe(7n);
    const onlyControl = consumedRecords('t', 0, control, 2n, { maxRecords: 10, maxBytes: 1 << 20 });
    expect(onlyControl).toEqual({ records: [], nextOffset: 3n });
  });
});

describe('record conversion', () => {
  it('uses now for a record without timestamp and refuses negative ones', () => {
    expect(recordInputOf({ headers: [] }, 42n, 0)).toEqual({ key: null, value: null, headers: [], timestamp: 42n });
    expect(recordInputOf({ headers: [], timestampMs: '-1' }, 42n, 0).timestamp).toBe(-1n);
    expect(() => recordInputOf({ headers: [], timestampMs: '-2' }, 42n, 3)).toThrow('record 3: timestamp_ms -2 is negative');
  });

  it('builds one batch with base offset 0', () => {
    const b = batchOfRecords([{ value: Buffer.from('v'), headers: [] }, { key: Buffer.from('k'), headers: [] }], 5n);
    const r = consumedRecords('t', 0, b, 0n, { maxRecords: 10, maxBytes: 100 });
    expect(r.records.map((x) => [x.offset, x.key?.toString() ?? null, x.value?.toString() ?? null, x.timestampMs])).toEqual([
      ['0', null, 'v', '5'],
      ['1', 'k', null, '5'],
    ]);
  });
});
