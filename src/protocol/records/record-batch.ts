import { crc32c } from '@node-rs/crc32';
import { ProtocolError } from '../protocol-error.js';
import { isCompressionType } from './compression.js';

/*
 * Record batch v2 header (61 bytes, big-endian):
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32
 * batchLength counts the bytes after itself; the CRC-32C covers attributes..end of batch.
 */
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the part of the header not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** Smallest encoded record: length, attributes, timestampDelta, offsetDelta, key, value, header count. */
export const MIN_RECORD_SIZE = 7;

export const TimestampType = {
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

export interface BatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** Unsigned 32-bit value as stored. */
  crc: number;
  attributes: number;
  /** Raw codec id (bits 0-2); validateBatch rejects ids other than 0-4. */
  compression: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function readBatchHeader(buf: Buffer, offset = 0): BatchHeader {
  if (offset < 0 || buf.length - offset < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError(
      `record batch needs ${RECORD_BATCH_OVERHEAD} header bytes, ${Math.max(0, buf.length - offset)} available`,
      'records',
    );
  }
  const attributes = buf.readInt16BE(offset + ATTRIBUTES_OFFSET);
  return {
    baseOffset: buf.readBigInt64BE(offset + BASE_OFFSET_OFFSET),
    batchLength: buf.readInt32BE(offset + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(offset + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(offset + MAGIC_OFFSET),
    crc: buf.readUInt32BE(offset + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_CODEC_MASK,
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(offset + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(offset + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(offset + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(offset + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(offset + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(offset + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(offset + RECORD_COUNT_OFFSET),
  };
}

/** CRC-32C of attributes..end, i.e. the value the crc field must hold. */
export function computeBatchCrc(batch: Buffer): number {
  return crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0;
}

export interface ValidateOptions {
  /**
   * Apply the extra rules Kafka enforces on batches a client produces: at least one
   * record, and offset deltas exactly 0..recordCount-1. Fetched or compacted batches may
   * legitimately have gaps or no records, so this is off by default.
   */
  produce?: boolean;
}

/**
 * Checks that `buf` is exactly one well-formed v2 batch with a matching CRC, without
 * decoding records. Returns the parsed header.
 */
export function validateBatch(buf: Buffer, options: ValidateOptions = {}): BatchHeader {
  if (buf.length < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError(
      `record batch is ${buf.length} bytes, smaller than the ${RECORD_BATCH_OVERHEAD}-byte v2 header`,
      'records',
    );
  }
  const h = readBatchHeader(buf, 0);
  if (h.magic !== CURRENT_MAGIC) {
    throw new ProtocolError(`unsupported record batch magic ${h.magic} (only v2 is supported)`, 'records.magic');
  }
  if (h.batchLength !== buf.length - LOG_OVERHEAD) {
    throw new ProtocolError(
      `batchLength ${h.batchLength} does not match the ${buf.length - LOG_OVERHEAD} bytes after it`,
      'records.batchLength',
    );
  }
  const crc = computeBatchCrc(buf);
  if (crc !== h.crc) {
    throw new ProtocolError(
      `record batch is corrupt: stored CRC ${hex32(h.crc)}, computed ${hex32(crc)}`,
      'records.crc',
    );
  }
  if (!isCompressionType(h.compression)) {
    throw new ProtocolError(`unknown compression codec ${h.compression}`, 'records.attributes');
  }
  if (h.recordCount < 0) {
    throw new ProtocolError(`negative record count ${h.recordCount}`, 'records.recordCount');
  }
  if (h.lastOffsetDelta < 0 || h.lastOffsetDelta < h.recordCount - 1) {
    throw new ProtocolError(
      `lastOffsetDelta ${h.lastOffsetDelta} cannot cover ${h.recordCount} records`,
      'records.lastOffsetDelta',
    );
  }
  if (h.compression === 0 && h.recordCount * MIN_RECORD_SIZE > buf.length - RECORDS_OFFSET) {
    throw new ProtocolError(
      `record count ${h.recordCount} cannot fit in ${buf.length - RECORDS_OFFSET} bytes`,
      'records.recordCount',
    );
  }
  if (options.produce) {
    if (h.recordCount === 0) throw new ProtocolError('produced record batch has no records', 'records.recordCount');
    if (h.lastOffsetDelta !== h.recordCount - 1) {
      throw new ProtocolError(
        `inconsistent batch: lastOffsetDelta ${h.lastOffsetDelta} with ${h.recordCount} records`,
        'records.lastOffsetDelta',
      );
    }
  }
  return h;
}

function hex32(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

export interface SplitBatches {
  /** Complete batches, as views into the input (no copy), in order. */
  batches: Buffer[];
  /** Bytes after the last complete batch, or null when the input ends on a batch boundary. */
  partial: Buffer | null;
}

/**
 * Cuts a records field into batches using only each batch's length prefix (no CRC check:
 * run validateBatch on each). A trailing partial batch is legal in fetch responses and
 * must be rejected by the caller for produce requests.
 */
export function splitBatches(records: Buffer): SplitBatches {
  const batches: Buffer[] = [];
  let pos = 0;
  while (pos < records.length) {
    const left = records.length - pos;
    if (left < LOG_OVERHEAD) break;
    const batchLength = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
      throw new ProtocolError(
        `record batch at byte ${pos} declares length ${batchLength}, below the v2 minimum ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}`,
        'records.batchLength',
      );
    }
    const size = LOG_OVERHEAD + batchLength;
    if (size > left) break;
    batches.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return { batches, partial: pos < records.length ? records.subarray(pos) : null };
}

/** Patches baseOffset in place; the field is outside the CRC, so nothing else changes. */
export function setBaseOffset(batch: Buffer, baseOffset: bigint): void {
  batch.writeBigInt64BE(baseOffset, BASE_OFFSET_OFFSET);
}

/** Patches partitionLeaderEpoch in place (outside the CRC). */
export function setPartitionLeaderEpoch(batch: Buffer, epoch: number): void {
  batch.writeInt32BE(epoch, PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Stamps the batch's maxTimestamp and timestamp type (used for LogAppendTime) in place.
 * Both fields are inside the CRC, so the CRC is recomputed over the whole body.
 */
export function setMaxTimestampAndType(batch: Buffer, maxTimestamp: bigint, timestampType: TimestampType): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) throw new ProtocolError('record batch shorter than its header', 'records');
  batch.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  const next =
    timestampType === TimestampType.LogAppendTime ? attributes | TIMESTAMP_TYPE_MASK : attributes & ~TIMESTAMP_TYPE_MASK;
  batch.writeInt16BE(next, ATTRIBUTES_OFFSET);
  batch.writeUInt32BE(computeBatchCrc(batch), CRC_OFFSET);
}

/** Recomputes and stores the CRC after any in-place edit of the covered bytes. */
export function updateBatchCrc(batch: Buffer): void {
  batch.writeUInt32BE(computeBatchCrc(batch), CRC_OFFSET);
}
