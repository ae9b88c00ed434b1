import { crc32c } from '@node-rs/crc32';
import { SegmentInputError } from '../storage-errors.js';
import {
  INT32_MAX,
  INT64_MAX,
  INT64_MIN,
  MAX_CHUNK_BYTES,
  MAX_TOPIC_NAME_BYTES,
  SEGMENT_ENTRY_FIXED_SIZE,
  SEGMENT_FOOTER_PREFIX_SIZE,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_CRC_PREFIX,
  SEGMENT_TRAILER_SIZE,
  type SegmentChunkEntry,
  type SegmentChunkInput,
} from './segment-format.js';

export interface BuiltSegment {
  body: Buffer;
  chunks: SegmentChunkEntry[];
}

function checkChunk(chunk: SegmentChunkInput, index: number): number {
  const where = `chunk ${index} (${chunk.topic}-${chunk.partition})`;
  if (typeof chunk.topic !== 'string' || chunk.topic.length === 0) {
    throw new SegmentInputError(`chunk ${index}: topic must be a non-empty string`);
  }
  const topicBytes = Buffer.byteLength(chunk.topic, 'utf8');
  if (topicBytes > MAX_TOPIC_NAME_BYTES) {
    throw new SegmentInputError(`${where}: topic name is longer than ${MAX_TOPIC_NAME_BYTES} bytes`);
  }
  if (!Number.isInteger(chunk.partition) || chunk.partition < 0 || chunk.partition > INT32_MAX) {
    throw new SegmentInputError(`${where}: partition must be an int32 >= 0`);
  }
  if (chunk.baseOffset < 0n || chunk.lastOffset < chunk.baseOffset || chunk.lastOffset > INT64_MAX) {
    throw new SegmentInputError(
      `${where}: offsets must satisfy 0 <= baseOffset (${chunk.baseOffset}) <= lastOffset (${chunk.lastOffset}) <= int64 max`,
    );
  }
  if (chunk.maxTimestamp < INT64_MIN || chunk.maxTimestamp > INT64_MAX) {
    throw new SegmentInputError(`${where}: maxTimestamp is outside int64`);
  }
  const span = chunk.lastOffset - chunk.baseOffset + 1n;
  if (
    !Number.isInteger(chunk.recordCount) ||
    chunk.recordCount < 0 ||
    chunk.recordCount > INT32_MAX ||
    BigInt(chunk.recordCount) > span
  ) {
    throw new SegmentInputError(
      `${where}: recordCount ${chunk.recordCount} must be an int32 between 0 and the offset span ${span}`,
    );
  }
  const parts = chunkParts(chunk);
  const length = parts.reduce((n, b) => n + (Buffer.isBuffer(b) ? b.length : NaN), 0);
  if (!(length > 0) || length > MAX_CHUNK_BYTES) {
    throw new SegmentInputError(`${where}: data must be a non-empty Buffer of at most ${MAX_CHUNK_BYTES} bytes`);
  }
  return topicBytes;
}

function chunkParts(chunk: SegmentChunkInput): readonly Buffer[] {
  return Buffer.isBuffer(chunk.data) ? [chunk.data] : (chunk.data as readonly Buffer[]);
}

function chunkLength(chunk: SegmentChunkInput): number {
  let n = 0;
  for (const b of chunkParts(chunk)) n += b.length;
  return n;
}

/**
 * Lays out one segment object: header, the chunks in the given order, the footer index
 * and the trailer. The whole object is sized up front so each chunk is copied once.
 */
export function buildSegment(chunks: readonly SegmentChunkInput[]): BuiltSegment {
  const topicBytes = chunks.map(checkChunk);

  let dataLength = 0;
  for (const chunk of chunks) dataLength += chunkLength(chunk);
  let footerLength = SEGMENT_FOOTER_PREFIX_SIZE;
  for (const bytes of topicBytes) footerLength += SEGMENT_ENTRY_FIXED_SIZE + bytes;
  const footerOffset = SEGMENT_HEADER_SIZE + dataLength;
  const total = footerOffset + footerLength + SEGMENT_TRAILER_SIZE;

  const body = Buffer.allocUnsafe(total);
  SEGMENT_MAGIC.copy(body, 0);
  body.writeUInt16BE(SEGMENT_FORMAT_VERSION, 4);
  body.writeUInt16BE(0, 6);

  const entries: SegmentChunkEntry[] = [];
  let dataPos = SEGMENT_HEADER_SIZE;
  let pos = footerOffset;
  pos = body.writeUInt32BE(chunks.length, pos);
  chunks.forEach((chunk, i) => {
    const start = dataPos;
    for (const part of chunkParts(chunk)) {
      part.copy(body, dataPos);
      dataPos += part.length;
    }
    const entry: SegmentChunkEntry = {
      topic: chunk.topic,
      partition: chunk.partition,
      baseOffset: chunk.baseOffset,
      lastOffset: chunk.lastOffset,
      maxTimestamp: chunk.maxTimestamp,
      recordCount: chunk.recordCount,
      byteOffset: start,
      byteLength: dataPos - start,
      crc32c: crc32c(body.subarray(start, dataPos)),
    };
    entries.push(entry);

    pos = body.writeUInt16BE(topicBytes[i]!, pos);
    pos += body.write(chunk.topic, pos, 'utf8');
    pos = body.writeInt32BE(entry.partition, pos);
    pos = body.writeBigInt64BE(entry.baseOffset, pos);
    pos = body.writeBigInt64BE(entry.lastOffset, pos);
    pos = body.writeBigInt64BE(entry.maxTimestamp, pos);
    pos = body.writeInt32BE(entry.recordCount, pos);
    pos = body.writeBigUInt64BE(BigInt(entry.byteOffset), pos);
    pos = body.writeUInt32BE(entry.byteLength, pos);
    pos = body.writeUInt32BE(entry.crc32c, pos);
  });

  pos = body.writeBigUInt64BE(BigInt(footerOffset), pos);
  pos = body.writeUInt32BE(footerLength, pos);
  const footerCrc = crc32c(
    body.subarray(pos - SEGMENT_TRAILER_CRC_PREFIX, pos),
    crc32c(body.subarray(footerOffset, footerOffset + footerLength)),
  );
  pos = body.writeUInt32BE(footerCrc, pos);
  pos = body.writeUInt16BE(SEGMENT_FORMAT_VERSION, pos);
  pos = body.writeUInt16BE(0, pos);
  pos += SEGMENT_MAGIC.copy(body, pos);
  if (pos !== total) throw new Error(`segment layout bug: wrote ${pos} of ${total} bytes`);

  return { body, chunks: entries };
}
