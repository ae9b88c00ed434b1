import { crc32c } from '@node-rs/crc32';
import type { ObjectStore } from '../object-store.js';
import { isStorageError, SegmentCorruptError } from '../storage-errors.js';
import {
  SEGMENT_ENTRY_FIXED_SIZE,
  SEGMENT_FOOTER_PREFIX_SIZE,
  SEGMENT_FORMAT_VERSION,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_CRC_PREFIX,
  SEGMENT_TRAILER_SIZE,
  type SegmentChunkEntry,
  type SegmentFooter,
} from './segment-format.js';

/** What the fixed-size trailer says about where the footer is. */
export interface SegmentTrailer {
  version: number;
  footerOffset: number;
  footerLength: number;
  footerCrc32c: number;
}

export interface SegmentChunk extends SegmentChunkEntry {
  /** A view into the parsed body, not a copy. */
  data: Buffer;
}

export interface ParsedSegment extends SegmentFooter {
  chunks: SegmentChunk[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function corrupt(where: string, message: string): SegmentCorruptError {
  return new SegmentCorruptError(`${where}: ${message}`);
}

/** Parses and sanity-checks the last SEGMENT_TRAILER_SIZE bytes of an object. */
export function parseSegmentTrailer(trailer: Buffer, where = 'segment'): SegmentTrailer {
  if (trailer.length !== SEGMENT_TRAILER_SIZE) {
    throw corrupt(where, `object is ${trailer.length} bytes, shorter than the ${SEGMENT_TRAILER_SIZE}-byte trailer (truncated?)`);
  }
  if (!trailer.subarray(20, 24).equals(SEGMENT_MAGIC)) {
    throw corrupt(where, 'trailer magic missing (not a segment, or truncated)');
  }
  const version = trailer.readUInt16BE(16);
  if (version !== SEGMENT_FORMAT_VERSION) {
    throw corrupt(where, `unsupported segment format version ${version}`);
  }
  if (trailer.readUInt16BE(18) !== 0) throw corrupt(where, 'unknown trailer flags');
  const footerOffset = trailer.readBigUInt64BE(0);
  const footerLength = trailer.readUInt32BE(8);
  if (footerOffset < BigInt(SEGMENT_HEADER_SIZE) || footerOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw corrupt(where, `footer offset ${footerOffset} is out of range`);
  }
  if (footerLength < SEGMENT_FOOTER_PREFIX_SIZE) {
    throw corrupt(where, `footer length ${footerLength} is too small`);
  }
  return {
    version,
    footerOffset: Number(footerOffset),
    footerLength,
    footerCrc32c: trailer.readUInt32BE(12),
  };
}

/**
 * Verifies the footer CRC (which also covers the trailer's offset and length) and
 * decodes the chunk entries, checking each lies inside the data region.
 */
export function parseSegmentFooter(
  footer: Buffer,
  trailerBytes: Buffer,
  trailer: SegmentTrailer,
  where = 'segment',
): SegmentFooter {
  if (footer.length !== trailer.footerLength) {
    throw corrupt(where, `footer is ${footer.length} bytes, trailer says ${trailer.footerLength}`);
  }
  const actualCrc = crc32c(trailerBytes.subarray(0, SEGMENT_TRAILER_CRC_PREFIX), crc32c(footer));
  if (actualCrc !== trailer.footerCrc32c) {
    throw corrupt(
      where,
      `footer CRC-32C mismatch (stored ${trailer.footerCrc32c.toString(16)}, computed ${actualCrc.toString(16)})`,
    );
  }

  const count = footer.readUInt32BE(0);
  // Refuse counts the footer cannot hold before allocating anything for them.
  if (count * (SEGMENT_ENTRY_FIXED_SIZE + 1) > footer.length - SEGMENT_FOOTER_PREFIX_SIZE) {
    throw corrupt(where, `footer claims ${count} entries but is only ${footer.length} bytes`);
  }
  const chunks: SegmentChunkEntry[] = [];
  let pos = SEGMENT_FOOTER_PREFIX_SIZE;
  for (let i = 0; i < count; i++) {
    const entryWhere = `${where}: footer entry ${i}`;
    if (pos + 2 > footer.length) throw corrupt(entryWhere, 'runs past the end of the footer');
    const topicLength = footer.readUInt16BE(pos);
    pos += 2;
    if (topicLength === 0 || pos + topicLength + SEGMENT_ENTRY_FIXED_SIZE - 2 > footer.length) {
      throw corrupt(entryWhere, 'runs past the end of the footer or has an empty topic');
    }
    let topic: string;
    try {
      topic = utf8.decode(footer.subarray(pos, pos + topicLength));
    } catch {
      throw corrupt(entryWhere, 'topic name is not valid UTF-8');
    }
    pos += topicLength;
    const partition = footer.readInt32BE(pos);
    const baseOffset = footer.readBigInt64BE(pos + 4);
    const lastOffset = footer.readBigInt64BE(pos + 12);
    const maxTimestamp = footer.readBigInt64BE(pos + 20);
    const recordCount = footer.readInt32BE(pos + 28);
    const byteOffset = footer.readBigUInt64BE(pos + 32);
    const byteLength = footer.readUInt32BE(pos + 40);
    const chunkCrc = footer.readUInt32BE(pos + 44);
    pos += SEGMENT_ENTRY_FIXED_SIZE - 2;

    if (partition < 0) throw corrupt(entryWhere, `negative partition ${partition}`);
    if (baseOffset < 0n || lastOffset < baseOffset) {
      throw corrupt(entryWhere, `bad offsets ${baseOffset}..${lastOffset}`);
    }
    if (recordCount < 0 || BigInt(recordCount) > lastOffset - baseOffset + 1n) {
      throw corrupt(entryWhere, `record count ${recordCount} does not fit offsets ${baseOffset}..${lastOffset}`);
    }
    if (
      byteLength === 0 ||
      byteOffset < BigInt(SEGMENT_HEADER_SIZE) ||
      byteOffset + BigInt(byteLength) > BigInt(trailer.footerOffset)
    ) {
      throw corrupt(entryWhere, `byte range ${byteOffset}+${byteLength} lies outside the data region`);
    }
    chunks.push({
      topic,
      partition,
      baseOffset,
      lastOffset,
      maxTimestamp,
      recordCount,
      byteOffset: Number(byteOffset),
      byteLength,
      crc32c: chunkCrc,
    });
  }
  if (pos !== footer.length) {
    throw corrupt(where, `footer has ${footer.length - pos} unexpected trailing bytes`);
  }
  return {
    version: trailer.version,
    footerOffset: trailer.footerOffset,
    footerLength: trailer.footerLength,
    chunks,
  };
}

/** Throws SegmentCorruptError unless `data` is exactly the chunk `entry` describes. */
export function verifySegmentChunk(entry: SegmentChunkEntry, data: Buffer, where = 'segment'): void {
  const label = `${where}: chunk ${entry.topic}-${entry.partition}@${entry.baseOffset}`;
  if (data.length !== entry.byteLength) {
    throw corrupt(label, `is ${data.length} bytes, footer says ${entry.byteLength}`);
  }
  const actual = crc32c(data);
  if (actual !== entry.crc32c) {
    throw corrupt(label, `CRC-32C mismatch (stored ${entry.crc32c.toString(16)}, computed ${actual.toString(16)})`);
  }
}

/**
 * Parses a whole segment object held in memory. Chunk CRCs are verified unless
 * `verifyChunks` is false (the footer CRC always is).
 */
export function parseSegment(body: Buffer, options: { verifyChunks?: boolean } = {}): ParsedSegment {
  if (body.length < SEGMENT_HEADER_SIZE + SEGMENT_FOOTER_PREFIX_SIZE + SEGMENT_TRAILER_SIZE) {
    throw corrupt('segment', `object is only ${body.length} bytes (truncated?)`);
  }
  if (!body.subarray(0, 4).equals(SEGMENT_MAGIC)) throw corrupt('segment', 'header magic missing');
  const headerVersion = body.readUInt16BE(4);
  if (headerVersion !== SEGMENT_FORMAT_VERSION) {
    throw corrupt('segment', `unsupported segment format version ${headerVersion}`);
  }
  if (body.readUInt16BE(6) !== 0) throw corrupt('segment', 'unknown header flags');

  const trailerBytes = body.subarray(body.length - SEGMENT_TRAILER_SIZE);
  const trailer = parseSegmentTrailer(trailerBytes);
  if (trailer.footerOffset + trailer.footerLength + SEGMENT_TRAILER_SIZE !== body.length) {
    throw corrupt(
      'segment',
      `trailer places the footer at ${trailer.footerOffset}+${trailer.footerLength}, which does not end the ${body.length}-byte object`,
    );
  }
  const footer = parseSegmentFooter(
    body.subarray(trailer.footerOffset, trailer.footerOffset + trailer.footerLength),
    trailerBytes,
    trailer,
  );
  const chunks = footer.chunks.map((entry) => {
    const data = body.subarray(entry.byteOffset, entry.byteOffset + entry.byteLength);
    if (options.verifyChunks !== false) verifySegmentChunk(entry, data);
    return { ...entry, data };
  });
  return { ...footer, chunks };
}

/** Re-throws an out-of-range GET as corruption: the trailer pointed past the object. */
async function getOrCorrupt(
  store: ObjectStore,
  key: string,
  range: { start: number; end: number },
  what: string,
): Promise<Buffer> {
  try {
    return await store.get(key, range);
  } catch (err) {
    if (isStorageError(err, 'INVALID_RANGE')) {
      throw corrupt(`segment ${key}`, `${what} [${range.start}, ${range.end}) lies beyond the object (truncated?)`);
    }
    throw err;
  }
}

/**
 * Reads only the index of a segment object: one suffix GET for the trailer, then one
 * ranged GET for the footer.
 */
export async function readSegmentFooter(store: ObjectStore, key: string): Promise<SegmentFooter> {
  const where = `segment ${key}`;
  const trailerBytes = await store.get(key, { suffixLength: SEGMENT_TRAILER_SIZE });
  const trailer = parseSegmentTrailer(trailerBytes, where);
  const footer = await getOrCorrupt(
    store,
    key,
    { start: trailer.footerOffset, end: trailer.footerOffset + trailer.footerLength },
    'footer',
  );
  return parseSegmentFooter(footer, trailerBytes, trailer, where);
}

/** Fetches one chunk with a ranged GET and verifies its CRC. */
export async function readSegmentChunk(
  store: ObjectStore,
  key: string,
  entry: SegmentChunkEntry,
): Promise<Buffer> {
  const data = await getOrCorrupt(
    store,
    key,
    { start: entry.byteOffset, end: entry.byteOffset + entry.byteLength },
    'chunk',
  );
  verifySegmentChunk(entry, data, `segment ${key}`);
  return data;
}
