import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { isStorageError } from '../storage-errors.js';
import type { SegmentChunkInput } from './segment-format.js';
import { buildSegment } from './segment-writer.js';

function chunk(overrides: Partial<SegmentChunkInput> = {}): SegmentChunkInput {
  return {
    topic: 't',
    partition: 3,
    baseOffset: 10n,
    lastOffset: 11n,
    maxTimestamp: 1_700_000_000_000n,
    recordCount: 2,
    data: Buffer.from('abc'),
    ...overrides,
  };
}

describe('buildSegment', () => {
  it('lays out header, data, footer and trailer byte for byte', () => {
    const { body, chunks } = buildSegment([chunk()]);
    const footerHex =
      '00000001' + // entry count
      '0001' + '74' + // topic "t"
      '00000003' + // partition
      '000000000000000a' + // baseOffset 10
      '000000000000000b' + // lastOffset 11
      '0000018bcfe56800' + // maxTimestamp 1700000000000
      '00000002' + // recordCount
      '0000000000000008' + // byteOffset
      '00000003' + // byteLength
      '364b3fb7'; // CRC-32C("abc")
    const trailerPrefixHex = '000000000000000b' + '00000037'; // footerOffset 11, footerLength 55
    const footerCrc = crc32c(Buffer.from(footerHex + trailerPrefixHex, 'hex'))
      .toString(16)
      .padStart(8, '0');
    const expected =
      '53485347' + '0001' + '0000' + // header
      '616263' + // data
      footerHex +
      trailerPrefixHex +
      footerCrc +
      '0001' + '0000' + '53485347';
    expect(body.toString('hex')).toBe(expected);
    expect(body.length).toBe(8 + 3 + 55 + 24);
    expect(chunks).toEqual([
      {
        topic: 't',
        partition: 3,
        baseOffset: 10n,
        lastOffset: 11n,
        maxTimestamp: 1_700_000_000_000n,
        recordCount: 2,
        byteOffset: 8,
        byteLength: 3,
        crc32c: 0x364b3fb7,
      },
    ]);
  });

  it('places chunks contiguously in input order and reports their ranges', () => {
    const datas = [Buffer.alloc(5, 1), Buffer.alloc(1, 2), Buffer.alloc(300, 3)];
    const { body, chunks } = buildSegment(
      datas.map((data, i) => chunk({ topic: `topic-${i}`, partition: i, data })),
    );
    expect(chunks.map((c) => [c.byteOffset, c.byteLength])).toEqual([
      [8, 5],
      [13, 1],
      [14, 300],
    ]);
    for (const [i, c] of chunks.entries()) {
      expect(body.subarray(c.byteOffset, c.byteOffset + c.byteLength).equals(datas[i]!)).toBe(true);
      expect(c.crc32c).toBe(crc32c(datas[i]!));
    }
    // Trailer's footer offset is the end of the data region.
    expect(body.readBigUInt64BE(body.length - 24)).toBe(314n);
  });

  it('writes an empty segment with a zero-entry footer', () => {
    const { body, chunks } = buildSegment([]);
    expect(chunks).toEqual([]);
    expect(body.length).toBe(8 + 4 + 24);
    expect(body.readUInt32BE(8)).toBe(0);
  });

  it('does not keep references to the input buffers', () => {
    const data = Buffer.from('xyz');
    const { body } = buildSegment([chunk({ data })]);
    data.fill(0);
    expect(body.subarray(8, 11).toString()).toBe('xyz');
  });

  it('rejects chunks it cannot encode', () => {
    const bad: Array<Partial<SegmentChunkInput>> = [
      { topic: '' },
      { topic: 'x'.repeat(65536) },
      { partition: -1 },
      { partition: 1.5 },
      { partition: 2 ** 31 },
      { baseOffset: -1n },
      { baseOffset: 12n, lastOffset: 11n },
      { lastOffset: 2n ** 63n },
      { maxTimestamp: 2n ** 63n },
      { recordCount: -1 },
      { recordCount: 3 }, // more records than offsets 10..11
      { recordCount: 0.5 },
      { data: Buffer.alloc(0) },
    ];
    for (const overrides of bad) {
      let caught: unknown;
      try {
        buildSegment([chunk(), chunk(overrides)]);
      } catch (err) {
        caught = err;
      }
      expect(isStorageError(caught, 'SEGMENT_INVALID_INPUT'), JSON.stringify(overrides, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(true);
    }
  });

  it('accepts the extremes of every field', () => {
    const { chunks } = buildSegment([
      chunk({
        topic: 'ü'.repeat(32767), // 65534 UTF-8 bytes
        partition: 2 ** 31 - 1,
        baseOffset: 2n ** 63n - 1n,
        lastOffset: 2n ** 63n - 1n,
        maxTimestamp: -(2n ** 63n),
        recordCount: 0,
      }),
    ]);
    expect(chunks[0]!.partition).toBe(2 ** 31 - 1);
  });
});

describe('chunks given as a list of batches', () => {
  it('lays out the parts in order, exactly as one concatenated buffer would', () => {
    const parts = [Buffer.from('first-batch'), Buffer.from('second'), Buffer.from('3')];
    const base = { topic: 't', partition: 2, baseOffset: 10n, lastOffset: 12n, maxTimestamp: 5n, recordCount: 3 };
    const fromParts = buildSegment([{ ...base, data: parts }]);
    const fromOne = buildSegment([{ ...base, data: Buffer.concat(parts) }]);
    expect(fromParts.body.equals(fromOne.body)).toBe(true);
    expect(fromParts.chunks).toEqual(fromOne.chunks);
  });
});
