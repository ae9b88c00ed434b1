// Constants and types shared by the segment writer and reader. The byte layout is
// documented in docs/segment-format.md; keep the two in step.

/** "SHSG": starts the header and ends the trailer. */
export const SEGMENT_MAGIC = Buffer.from('SHSG', 'latin1');
export const SEGMENT_FORMAT_VERSION = 1;

/** magic(4) version(u16) flags(u16) */
export const SEGMENT_HEADER_SIZE = 8;
/** footerOffset(u64) footerLength(u32) footerCrc32c(u32) version(u16) flags(u16) magic(4) */
export const SEGMENT_TRAILER_SIZE = 24;
/** Bytes of the trailer that the footer CRC covers after the footer: footerOffset, footerLength. */
export const SEGMENT_TRAILER_CRC_PREFIX = 12;
/** entryCount(u32) */
export const SEGMENT_FOOTER_PREFIX_SIZE = 4;
/**
 * Fixed part of one footer entry: topicLength(u16) partition(i32) baseOffset(i64)
 * lastOffset(i64) maxTimestamp(i64) recordCount(i32) byteOffset(u64) byteLength(u32)
 * crc32c(u32); the topic's UTF-8 bytes follow topicLength.
 */
export const SEGMENT_ENTRY_FIXED_SIZE = 2 + 4 + 8 + 8 + 8 + 4 + 8 + 4 + 4;

export const MAX_TOPIC_NAME_BYTES = 0xffff;
export const MAX_CHUNK_BYTES = 0xffffffff;
export const INT64_MAX = 0x7fffffffffffffffn;
export const INT64_MIN = -0x8000000000000000n;
export const INT32_MAX = 0x7fffffff;

/** One partition's consecutive record batches, as handed to the writer. */
export interface SegmentChunkInput {
  topic: string;
  partition: number;
  baseOffset: bigint;
  /** Offset of the last record in `data` (inclusive). */
  lastOffset: bigint;
  maxTimestamp: bigint;
  recordCount: number;
  /** Already-encoded Kafka record batches: one buffer, or the batches in order (copied once). */
  data: Buffer | readonly Buffer[];
}

/** One footer entry: where a chunk sits in the object and what it holds. */
export interface SegmentChunkEntry {
  topic: string;
  partition: number;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  recordCount: number;
  /** Absolute position of the chunk's first byte in the object. */
  byteOffset: number;
  byteLength: number;
  /** CRC-32C (Castagnoli) of the chunk's bytes. */
  crc32c: number;
}

export interface SegmentFooter {
  version: number;
  /** Where the footer starts; also the end of the data region. */
  footerOffset: number;
  footerLength: number;
  /** In the order the chunks were written (ascending byteOffset). */
  chunks: SegmentChunkEntry[];
}
