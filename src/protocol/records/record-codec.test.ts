import { crc32c } from '@node-rs/crc32';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Writer } from '../primitives/writer.js';
import { ProtocolError } from '../protocol-error.js';
import { CompressionType, compressionName } from './compression.js';
import { TimestampType, updateBatchCrc, validateBatch } from './record-batch.js';
import { buildRecordBatch, decodeRecords, sizeOfVarint, sizeOfVarlong, type RecordInput } from './record-codec.js';

const require = createRequire(import.meta.url);

function thrown(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

const ALL: CompressionType[] = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

describe('known-answer batch', () => {
  it('encodes one record (key "k", value "v", header h=x) byte for byte', () => {
    const batch = buildRecordBatch({
      baseOffset: 0n,
      records: [
        { key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: 1_700_000_000_000n },
      ],
    });
    // record: length 12 (zig-zag 0x18), attributes 0, timestampDelta 0, offsetDelta 0,
    // key len 1 (0x02) "k", value len 1 "v", 1 header (0x02): key len 1 "h", value len 1 "x"
    const record = '18' + '00' + '00' + '00' + '026b' + '0276' + '02' + '0268' + '0278';
    const covered =
      '0000' + // attributes: no compression, CreateTime, not transactional
      '00000000' + // lastOffsetDelta
      '0000018bcfe56800' + // baseTimestamp 1_700_000_000_000
      '0000018bcfe56800' + // maxTimestamp
      'ffffffffffffffff' + // producerId -1
      'ffff' + // producerEpoch -1
      'ffffffff' + // baseSequence -1
      '00000001' + // recordCount
      record;
    const crc = crc32c(Buffer.from(covered, 'hex'));
    // kafkajs ships an independent pure-JS CRC-32C: both must agree
    const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
    expect(kafkajsCrc32C(Buffer.from(covered, 'hex')) >>> 0).toBe(crc);
    const expected =
      '0000000000000000' + // baseOffset
      '0000003e' + // batchLength: 74 - 12
      'ffffffff' + // partitionLeaderEpoch -1
      '02' + // magic
      crc.toString(16).padStart(8, '0') +
      covered;
    expect(batch.length).toBe(74);
    expect(batch.toString('hex')).toBe(expected);

    const { header, records } = decodeRecords(batch);
    expect(header.recordCount).toBe(1);
    expect(records).toEqual([
      {
        attributes: 0,
        timestampDelta: 0n,
        offsetDelta: 0,
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        headers: [{ key: 'h', value: Buffer.from('x') }],
        offset: 0n,
        timestamp: 1_700_000_000_000n,
      },
    ]);
  });
});

const mixed: RecordInput[] = [
  { key: Buffer.from('alpha'), value: Buffer.from('first value'), headers: [], timestamp: 1_000_000n },
  { key: null, value: Buffer.from('no key'), headers: [{ key: 'trace', value: Buffer.from('abc') }], timestamp: 999_000n },
  { key: Buffer.alloc(0), value: null, headers: [{ key: 'clé-ü', value: null }, { key: 'dup', value: Buffer.from([1]) }, { key: 'dup', value: Buffer.alloc(0) }], timestamp: 1_500_000n },
  { key: Buffer.from('big'), value: Buffer.alloc(70_000, 0x5a), timestamp: 1_000_001n },
];

describe('round trip through every codec', () => {
  for (const compression of ALL) {
    it(compressionName(compression), () => {
      const batch = buildRecordBatch({
        baseOffset: 500n,
        records: mixed,
        compression,
        producerId: 77n,
        producerEpoch: 2,
        baseSequence: 10,
        isTransactional: true,
        partitionLeaderEpoch: 4,
      });
      const h = validateBatch(batch, { produce: true });
      expect(h).toMatchObject({
        baseOffset: 500n,
        partitionLeaderEpoch: 4,
        compression,
        attributes: compression | 0x10,
        isTransactional: true,
        isControl: false,
        timestampType: TimestampType.CreateTime,
        lastOffsetDelta: 3,
        baseTimestamp: 1_000_000n,
        maxTimestamp: 1_500_000n,
        producerId: 77n,
        producerEpoch: 2,
        baseSequence: 10,
        recordCount: 4,
      });
      const { records } = decodeRecords(batch);
      expect(records).toEqual(
        mixed.map((r, i) => ({
          attributes: 0,
          timestampDelta: r.timestamp - 1_000_000n,
          offsetDelta: i,
          key: r.key,
          value: r.value,
          headers: r.headers ?? [],
          offset: 500n + BigInt(i),
          timestamp: r.timestamp,
        })),
      );
    });
  }

  it('keys and values of an uncompressed batch are views, not copies', () => {
    const batch = buildRecordBatch({ baseOffset: 0n, records: mixed });
    const { records } = decodeRecords(batch);
    expect(records[0]!.key!.buffer).toBe(batch.buffer);
    expect(records[0]!.key!.byteOffset).toBe(batch.indexOf('alpha'));
  });

  it('keeps offset gaps, an explicit lastOffsetDelta and a LogAppendTime stamp', () => {
    const batch = buildRecordBatch({
      baseOffset: 10n,
      records: [
        { key: null, value: Buffer.from('a'), timestamp: 5n, offsetDelta: 0 },
        { key: null, value: Buffer.from('b'), timestamp: 6n, offsetDelta: 3 },
      ],
      lastOffsetDelta: 7,
      timestampType: TimestampType.LogAppendTime,
      maxTimestamp: 99n,
    });
    const { header, records } = decodeRecords(batch);
    expect(header.lastOffsetDelta).toBe(7);
    expect(header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(records.map((r) => [r.offset, r.timestamp, r.timestampDelta])).toEqual([
      [10n, 99n, 0n],
      [13n, 99n, 1n],
    ]);
    expect(() =>
      buildRecordBatch({
        baseOffset: 0n,
        records: [
          { key: null, value: null, timestamp: 0n, offsetDelta: 2 },
          { key: null, value: null, timestamp: 0n, offsetDelta: 2 },
        ],
      }),
    ).toThrow(RangeError);
  });

  it('builds an empty batch with Kafka\'s no-timestamp markers', () => {
    const batch = buildRecordBatch({ baseOffset: 3n, records: [], compression: CompressionType.Zstd });
    const { header, records } = decodeRecords(batch);
    expect(records).toEqual([]);
    expect(header).toMatchObject({ recordCount: 0, lastOffsetDelta: 0, baseTimestamp: -1n, maxTimestamp: -1n });
  });
});

describe('decode errors', () => {
  const base = buildRecordBatch({ baseOffset: 0n, records: mixed.slice(0, 3) });

  it('refuses bytes left after the declared records', () => {
    const fewer = Buffer.from(base);
    fewer.writeInt32BE(2, 57);
    updateBatchCrc(fewer);
    expect(thrown(() => decodeRecords(fewer)).message).toMatch(/bytes left after 2 records/);
  });

  it('refuses a record whose length disagrees with its fields', () => {
    const lie = Buffer.from(base);
    // first record's length varint: 0x2c (22) -> 0x2e (23)
    expect(lie[61]).toBe(0x2c);
    lie[61] = 0x2e;
    updateBatchCrc(lie);
    const err = thrown(() => decodeRecords(lie));
    expect(err.path).toBe('records[0]');
  });

  it('refuses a record count the bytes cannot hold', () => {
    const more = Buffer.from(base);
    more.writeInt32BE(4, 57);
    more.writeInt32BE(3, 23);
    updateBatchCrc(more);
    expect(thrown(() => decodeRecords(more)).path).toMatch(/^records\[3\]/);
  });

  it('checks the CRC unless told not to', () => {
    const bad = Buffer.from(base);
    const at = bad.indexOf('first value');
    bad[at] = bad[at]! ^ 0x20;
    expect(thrown(() => decodeRecords(bad)).path).toBe('records.crc');
    expect(decodeRecords(bad, { verify: false }).records[0]!.value!.toString()).toBe('First value');
  });

  it('bounds the decompressed size', () => {
    const batch = buildRecordBatch({ baseOffset: 0n, records: mixed, compression: CompressionType.Gzip });
    expect(thrown(() => decodeRecords(batch, { maxDecompressedBytes: 50_000 })).message).toMatch(/more than 50000/);
  });
});

describe('varint sizes', () => {
  it('match the zig-zag encoding lengths', () => {
    const ints = [0, -1, 63, -64, 64, -65, 8191, 8192, 2 ** 31 - 1, -(2 ** 31)];
    expect(ints.map(sizeOfVarint)).toEqual(ints.map((v) => new Writer(16).writeVarint(v).offset));
    const longs = [0n, -1n, 63n, 64n, 2n ** 61n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n];
    expect(longs.map(sizeOfVarlong)).toEqual(longs.map((v) => new Writer(16).writeVarlong(v).offset));
    expect([0, -1, 63, -64, 64, -65, 8191, 8192, 2 ** 31 - 1, -(2 ** 31)].map(sizeOfVarint)).toEqual([1, 1, 1, 1, 2, 2, 2, 3, 5, 5]);
    expect([0n, -1n, 63n, 64n, 2n ** 61n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n].map(sizeOfVarlong)).toEqual([1, 1, 1, 2, 9, 10, 10, 10]);
  });
});

// ---------------------------------------------------------------- kafkajs interop

interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer | Buffer[] };
}
interface KafkajsBatch {
  firstOffset: string;
  lastOffsetDelta: number;
  inTransaction: boolean;
  records: KafkajsRecord[];
}
type KafkajsEncoder = { buffer: Buffer };

const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (opts: object) => Promise<KafkajsEncoder>;
};
const KafkajsRecordEncoder = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (opts: object) => KafkajsEncoder;
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<KafkajsBatch>;
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const KafkajsLong = require('kafkajs/src/utils/long.js') as { fromValue: (v: bigint | string | number) => unknown };

const KAFKAJS_CODECS: CompressionType[] = [CompressionType.None, CompressionType.Gzip];

const interopRecords = [
  { key: Buffer.from('user-1'), value: Buffer.from('{"n":1}'), headers: { a: Buffer.from('1') }, timestamp: 1_650_000_000_000n },
  { key: null, value: Buffer.from('second'), headers: {}, timestamp: 1_650_000_000_250n },
  { key: Buffer.from('user-3'), value: null, headers: { b: [Buffer.from('x'), Buffer.from('y')] }, timestamp: 1_649_999_999_000n },
];

describe('kafkajs interop', () => {
  for (const compression of KAFKAJS_CODECS) {
    it(`decodes a ${compressionName(compression)} batch built by kafkajs`, async () => {
      const base = interopRecords[0]!.timestamp;
      const encoder = await RecordBatch({
        compression,
        firstOffset: KafkajsLong.fromValue(42n),
        firstTimestamp: Number(base),
        maxTimestamp: 1_650_000_000_250,
        partitionLeaderEpoch: 0,
        lastOffsetDelta: interopRecords.length - 1,
        producerId: KafkajsLong.fromValue(-1n),
        producerEpoch: 0,
        firstSequence: 0,
        records: interopRecords.map((r, i) =>
          KafkajsRecordEncoder({
            offsetDelta: i,
            timestampDelta: Number(r.timestamp - base),
            key: r.key,
            value: r.value,
            headers: r.headers,
          }),
        ),
      });
      const batch = encoder.buffer;
      const h = validateBatch(batch, { produce: true });
      expect(h).toMatchObject({ baseOffset: 42n, compression, recordCount: 3, lastOffsetDelta: 2, maxTimestamp: 1_650_000_000_250n });
      const { records } = decodeRecords(batch);
      expect(records).toEqual([
        { attributes: 0, timestampDelta: 0n, offsetDelta: 0, key: Buffer.from('user-1'), value: Buffer.from('{"n":1}'), headers: [{ key: 'a', value: Buffer.from('1') }], offset: 42n, timestamp: 1_650_000_000_000n },
        { attributes: 0, timestampDelta: 250n, offsetDelta: 1, key: null, value: Buffer.from('second'), headers: [], offset: 43n, timestamp: 1_650_000_000_250n },
        {
          attributes: 0,
          timestampDelta: -1000n,
          offsetDelta: 2,
          key: Buffer.from('user-3'),
          value: null,
          headers: [
            { key: 'b', value: Buffer.from('x') },
            { key: 'b', value: Buffer.from('y') },
          ],
          offset: 44n,
          timestamp: 1_649_999_999_000n,
        },
      ]);
    });

    it(`kafkajs decodes a ${compressionName(compression)} batch built here`, async () => {
      const batch = buildRecordBatch({
        baseOffset: 1_000n,
        compression,
        isTransactional: true,
        records: interopRecords.map((r) => ({
          key: r.key,
          value: r.value,
          timestamp: r.timestamp,
          headers: Object.entries(r.headers).flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ key, value }))),
        })),
      });
      const decoded = await decodeKafkajsBatch(new KafkajsDecoder(batch));
      expect(decoded.firstOffset).toBe('1000');
      expect(decoded.lastOffsetDelta).toBe(2);
      expect(decoded.inTransaction).toBe(true);
      expect(
        decoded.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers })),
      ).toEqual([
        { offset: '1000', timestamp: '1650000000000', key: Buffer.from('user-1'), value: Buffer.from('{"n":1}'), headers: { a: Buffer.from('1') } },
        { offset: '1001', timestamp: '1650000000250', key: null, value: Buffer.from('second'), headers: {} },
        { offset: '1002', timestamp: '1649999999000', key: Buffer.from('user-3'), value: null, headers: { b: [Buffer.from('x'), Buffer.from('y')] } },
      ]);
    });
  }
});
