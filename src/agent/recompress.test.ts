import { describe, it, expect } from 'vitest';
import { CompressionType } from '../protocol/records/compression.js';
import { readBatchHeader, validateBatch } from '../protocol/records/record-batch.js';
import { buildRecordBatch, decodeRecords } from '../protocol/records/record-codec.js';
import { forcedCompression, recompressBatch } from './recompress.js';

describe('topic compression.type', () => {
  it('maps Kafka setting names to codecs', () => {
    expect(forcedCompression('producer')).toBeUndefined();
    expect(forcedCompression(null)).toBeUndefined();
    expect(forcedCompression('uncompressed')).toBe(CompressionType.None);
    expect(forcedCompression('zstd')).toBe(CompressionType.Zstd);
  });

  it('re-encodes a batch keeping records, producer identity and sequences', () => {
    const original = buildRecordBatch({
      baseOffset: 0n,
      records: [
        { key: Buffer.from('a'), value: Buffer.from('1'), headers: [{ key: 'h', value: null }], timestamp: 1000n },
        { key: null, value: Buffer.from('2'), headers: [], timestamp: 999n },
      ],
      compression: CompressionType.Gzip,
      producerId: 1234n,
      producerEpoch: 3,
      baseSequence: 17,
    });
    const out = recompressBatch(original, CompressionType.Lz4);
    validateBatch(out, { produce: true });
    const h = readBatchHeader(out);
    expect([h.compression, h.producerId, h.producerEpoch, h.baseSequence, h.recordCount, h.maxTimestamp]).toEqual([CompressionType.Lz4, 1234n, 3, 17, 2, 1000n]);
    const strip = (b: Buffer) => decodeRecords(b).records.map((r) => ({ offset: r.offset, ts: r.timestamp, key: r.key?.toString() ?? null, value: r.value?.toString(), headers: r.headers }));
    expect(strip(out)).toEqual(strip(original));
    expect(recompressBatch(out, CompressionType.Lz4)).toBe(out);
  });
});
