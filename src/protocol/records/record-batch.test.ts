import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../protocol-error.js';
import { CompressionType } from './compression.js';
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TimestampType,
  computeBatchCrc,
  readBatchHeader,
  setBaseOffset,
  setMaxTimestampAndType,
  setPartitionLeaderEpoch,
  splitBatches,
  updateBatchCrc,
  validateBatch,
} from './record-batch.js';
import { buildRecordBatch, decodeRecords } from './record-codec.js';

function batchOf(n: number, baseOffset = 0n, compression: CompressionType = CompressionType.None): Buffer {
  return buildRecordBatch({
    baseOffset,
    compression,
    records: Array.from({ length: n }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`value-${i}`),
      headers: [{ key: 'h', value: Buffer.from([i]) }],
      timestamp: 1_000n + BigInt(i),
    })),
  });
}

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

/** Edits covered bytes and recomputes the CRC, so only the semantic check can fail. */
function tamper(batch: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(batch);
  edit(copy);
  updateBatchCrc(copy);
  return copy;
}

describe('readBatchHeader', () => {
  it('reads every field of a hand-built header', () => {
    const hex =
      'fffffffffffffffe' + // baseOffset -2
      '00000031' + // batchLength 49
      '00000007' + // partitionLeaderEpoch
      '02' + // magic
      'deadbeef' + // crc
      '007b' + // attributes: lz4 | LogAppendTime | transactional | control | delete horizon
      '00000009' + // lastOffsetDelta
      '0000000000000064' + // baseTimestamp 100
      '00000000000000c8' + // maxTimestamp 200
      '0000000000003039' + // producerId 12345
      '0003' + // producerEpoch
      '0000002a' + // baseSequence 42
      '0000000a'; // recordCount 10
    const buf = Buffer.concat([Buffer.from('aabb', 'hex'), Buffer.from(hex, 'hex')]);
    expect(readBatchHeader(buf, 2)).toEqual({
      baseOffset: -2n,
      batchLength: 49,
      partitionLeaderEpoch: 7,
      magic: 2,
      crc: 0xdeadbeef,
      attributes: 0x7b,
      compression: CompressionType.Lz4,
      timestampType: TimestampType.LogAppendTime,
      isTransactional: true,
      isControl: true,
      hasDeleteHorizon: true,
      lastOffsetDelta: 9,
      baseTimestamp: 100n,
      maxTimestamp: 200n,
      producerId: 12345n,
      producerEpoch: 3,
      baseSequence: 42,
      recordCount: 10,
    });
  });

  it('refuses fewer than 61 bytes', () => {
    expect(thrown(() => readBatchHeader(Buffer.alloc(70), 10)).message).toMatch(/needs 61 header bytes, 60 available/);
  });
});

describe('validateBatch', () => {
  it('accepts a well-formed batch and returns its header', () => {
    const batch = batchOf(3, 40n);
    const h = validateBatch(batch, { produce: true });
    expect(h.baseOffset).toBe(40n);
    expect(h.recordCount).toBe(3);
    expect(h.lastOffsetDelta).toBe(2);
    expect(h.crc).toBe(crc32c(batch.subarray(21)));
  });

  it('detects corruption of every byte from the CRC field to the end', () => {
    for (const compression of [CompressionType.None, CompressionType.Gzip]) {
      const batch = batchOf(2, 0n, compression);
      for (let i = CRC_OFFSET; i < batch.length; i++) {
        const copy = Buffer.from(batch);
        copy[i] = copy[i]! ^ 0x01;
        const err = thrown(() => validateBatch(copy));
        expect(err.message).toMatch(/corrupt: stored CRC 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
        expect(err.path).toBe('records.crc');
      }
    }
  });

  it('ignores baseOffset and partitionLeaderEpoch, which the CRC does not cover', () => {
    const batch = batchOf(1);
    for (let i = 0; i < 16; i++) {
      if (i >= 8 && i < 12) continue; // batchLength is checked separately
      const copy = Buffer.from(batch);
      copy[i] = copy[i]! ^ 0xff;
      expect(() => validateBatch(copy)).not.toThrow();
    }
  });

  it('requires magic 2', () => {
    const batch = Buffer.from(batchOf(1));
    batch[16] = 1;
    expect(thrown(() => validateBatch(batch)).message).toMatch(/unsupported record batch magic 1 \(only v2/);
  });

  it('requires batchLength to match the buffer', () => {
    const batch = batchOf(1);
    const longer = Buffer.concat([batch, Buffer.alloc(1)]);
    expect(thrown(() => validateBatch(longer)).message).toMatch(
      new RegExp(`batchLength ${batch.length - 12} does not match the ${batch.length - 11} bytes`),
    );
    expect(thrown(() => validateBatch(batch.subarray(0, batch.length - 1))).path).toBe('records.batchLength');
    expect(thrown(() => validateBatch(batch.subarray(0, 60))).message).toMatch(/60 bytes, smaller than the 61-byte/);
  });

  it('rejects an unknown codec, a negative count and an impossible lastOffsetDelta', () => {
    const batch = batchOf(3);
    const codec = tamper(batch, (b) => b.writeInt16BE(0x0005, ATTRIBUTES_OFFSET));
    expect(thrown(() => validateBatch(codec)).message).toMatch(/unknown compression codec 5/);
    const negative = tamper(batch, (b) => b.writeInt32BE(-1, 57));
    expect(thrown(() => validateBatch(negative)).message).toMatch(/negative record count -1/);
    const short = tamper(batch, (b) => b.writeInt32BE(1, 23));
    expect(thrown(() => validateBatch(short)).message).toMatch(/lastOffsetDelta 1 cannot cover 3 records/);
    const huge = tamper(batch, (b) => {
      b.writeInt32BE(1_000_000, 57);
      b.writeInt32BE(1_000_000, 23);
    });
    expect(thrown(() => validateBatch(huge)).message).toMatch(/record count 1000000 cannot fit/);
  });

  it('allows offset gaps and empty batches unless asked to apply produce rules', () => {
    const gap = tamper(batchOf(3), (b) => b.writeInt32BE(5, 23));
    expect(validateBatch(gap).lastOffsetDelta).toBe(5);
    expect(thrown(() => validateBatch(gap, { produce: true })).message).toMatch(
      /inconsistent batch: lastOffsetDelta 5 with 3 records/,
    );
    const empty = buildRecordBatch({ baseOffset: 0n, records: [], lastOffsetDelta: 4 });
    expect(validateBatch(empty).recordCount).toBe(0);
    expect(thrown(() => validateBatch(empty, { produce: true })).message).toMatch(/no records/);
  });
});

describe('splitBatches', () => {
  it('returns views of each complete batch and the trailing partial batch', () => {
    const a = batchOf(1, 0n);
    const b = batchOf(2, 1n, CompressionType.Gzip);
    const c = batchOf(3, 3n);
    const d = batchOf(1, 6n);
    const records = Buffer.concat([a, b, c, d.subarray(0, 30)]);
    const { batches, partial } = splitBatches(records);
    expect(batches.map((x) => x.toString('hex'))).toEqual([a, b, c].map((x) => x.toString('hex')));
    for (const x of batches) expect(x.buffer).toBe(records.buffer);
    expect(batches[1]!.byteOffset).toBe(records.byteOffset + a.length);
    expect(partial?.toString('hex')).toBe(d.subarray(0, 30).toString('hex'));
    expect(partial?.byteOffset).toBe(records.byteOffset + a.length + b.length + c.length);
    for (const x of batches) expect(() => validateBatch(x)).not.toThrow();
  });

  it('treats fewer than 12 bytes as a partial batch and an exact end as none', () => {
    const a = batchOf(1);
    expect(splitBatches(Buffer.concat([a, a.subarray(0, 11)])).partial?.length).toBe(11);
    const exact = splitBatches(Buffer.concat([a, a]));
    expect(exact.batches.length).toBe(2);
    expect(exact.partial).toBeNull();
    expect(splitBatches(Buffer.alloc(0))).toEqual({ batches: [], partial: null });
  });

  it('rejects a length prefix too small for a v2 batch', () => {
    const bad = Buffer.from(batchOf(1));
    bad.writeInt32BE(48, 8);
    expect(thrown(() => splitBatches(bad)).message).toMatch(/declares length 48, below the v2 minimum 49/);
    bad.writeInt32BE(-5, 8);
    expect(thrown(() => splitBatches(bad)).path).toBe('records.batchLength');
  });
});

describe('in-place patches', () => {
  it('setBaseOffset and setPartitionLeaderEpoch leave the CRC valid', () => {
    const batch = Buffer.from(batchOf(2, 0n));
    const crc = batch.readUInt32BE(CRC_OFFSET);
    setBaseOffset(batch, 9_000_000_000n);
    setPartitionLeaderEpoch(batch, 17);
    expect(batch.readUInt32BE(CRC_OFFSET)).toBe(crc);
    const h = validateBatch(batch);
    expect(h.baseOffset).toBe(9_000_000_000n);
    expect(h.partitionLeaderEpoch).toBe(17);
    expect(batch.subarray(0, 16).toString('hex')).toBe('0000000218711a00' + batch.subarray(8, 12).toString('hex') + '00000011');
    expect(decodeRecords(batch).records.map((r) => r.offset)).toEqual([9_000_000_000n, 9_000_000_001n]);
  });

  it('setMaxTimestampAndType stamps LogAppendTime and recomputes the CRC', () => {
    const batch = Buffer.from(batchOf(2, 0n, CompressionType.Gzip));
    setMaxTimestampAndType(batch, 5_000n, TimestampType.LogAppendTime);
    const h = validateBatch(batch);
    expect(h.maxTimestamp).toBe(5_000n);
    expect(h.timestampType).toBe(TimestampType.LogAppendTime);
    expect(h.attributes).toBe(CompressionType.Gzip | 0x08);
    expect(h.crc).toBe(crc32c(batch.subarray(21)));
    expect(decodeRecords(batch).records.map((r) => r.timestamp)).toEqual([5_000n, 5_000n]);

    setMaxTimestampAndType(batch, 1_001n, TimestampType.CreateTime);
    const back = validateBatch(batch);
    expect(back.attributes).toBe(CompressionType.Gzip);
    expect(decodeRecords(batch).records.map((r) => r.timestamp)).toEqual([1_000n, 1_001n]);
  });

  it('computeBatchCrc covers attributes to the end', () => {
    const batch = batchOf(1);
    expect(computeBatchCrc(batch)).toBe(crc32c(batch.subarray(ATTRIBUTES_OFFSET)));
    expect(RECORD_BATCH_OVERHEAD).toBe(61);
  });
});
