import { CompressionType } from '../protocol/records/compression.js';
import { readBatchHeader } from '../protocol/records/record-batch.js';
import { buildRecordBatch, decodeRecords } from '../protocol/records/record-codec.js';

const BY_TOPIC_SETTING: Record<string, CompressionType> = {
  uncompressed: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
};

/** The codec a topic's `compression.type` forces, or undefined for `producer`. */
export function forcedCompression(setting: string | null): CompressionType | undefined {
  if (setting === null || setting === 'producer') return undefined;
  return BY_TOPIC_SETTING[setting];
}

/**
 * Re-encodes a batch with another codec, keeping producer identity, sequences, offset
 * deltas and timestamps, as Kafka does for a topic whose compression.type is not `producer`.
 * Only this path decodes records on produce; the default keeps batches as received.
 */
export function recompressBatch(batch: Buffer, codec: CompressionType): Buffer {
  const header = readBatchHeader(batch);
  if (header.compression === codec) return batch;
  const { records } = decodeRecords(batch);
  return buildRecordBatch({
    baseOffset: header.baseOffset,
    records: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offsetDelta: r.offsetDelta })),
    compression: codec,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    isTransactional: header.isTransactional,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType: header.timestampType,
    maxTimestamp: header.maxTimestamp,
    lastOffsetDelta: header.lastOffsetDelta,
  });
}
