import { ProtocolError } from '../protocol-error.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import { CompressionType, compress, decompress } from './compression.js';
import {
  CRC_OFFSET,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  MIN_RECORD_SIZE,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
  CONTROL_FLAG_MASK,
  TimestampType,
  computeBatchCrc,
  readBatchHeader,
  validateBatch,
  type BatchHeader,
} from './record-batch.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One record as encoded inside a batch (fields relative to the batch header). */
export interface Record {
  attributes: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Alias for code that also uses TypeScript's global `Record<K, V>`. */
export type KafkaRecord = Record;

/** A decoded record with its absolute offset and effective timestamp. */
export interface DecodedRecord extends Record {
  offset: bigint;
  /** baseTimestamp + timestampDelta, or the batch maxTimestamp under LogAppendTime. */
  timestamp: bigint;
}

export interface DecodedBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

export interface DecodeOptions {
  /** Passed to decompress(); bounds the uncompressed size of the records. */
  maxDecompressedBytes?: number;
  /** Run validateBatch (magic, length, CRC) first; default true. */
  verify?: boolean;
}

/**
 * Decodes every record of one v2 batch. Keys, values and header values are views into
 * the batch (uncompressed) or into the decompressed buffer, never copies.
 */
export function decodeRecords(batch: Buffer, options: DecodeOptions = {}): DecodedBatch {
  const header = options.verify === false ? readBatchHeader(batch, 0) : validateBatch(batch);
  if (header.magic !== CURRENT_MAGIC) {
    throw new ProtocolError(`unsupported record batch magic ${header.magic}`, 'records.magic');
  }
  const end = Math.min(batch.length, LOG_OVERHEAD + Math.max(0, header.batchLength));
  const body = batch.subarray(RECORDS_OFFSET, Math.max(RECORDS_OFFSET, end));
  const data =
    header.compression === CompressionType.None
      ? body
      : decompress(header.compression as CompressionType, body, { maxOutputBytes: options.maxDecompressedBytes });

  const count = header.recordCount;
  if (count < 0 || count * MIN_RECORD_SIZE > data.length) {
    throw new ProtocolError(`record count ${count} cannot fit in ${data.length} bytes`, 'records.recordCount');
  }
  const reader = new Reader(data);
  const records: DecodedRecord[] = new Array(count);
  const logAppend = header.timestampType === TimestampType.LogAppendTime;
  for (let i = 0; i < count; i++) records[i] = readRecord(reader, i, header, logAppend);
  if (reader.remaining !== 0) {
    throw new ProtocolError(`${reader.remaining} bytes left after ${count} records`, 'records');
  }
  return { header, records };
}

function readRecord(reader: Reader, index: number, header: BatchHeader, logAppend: boolean): DecodedRecord {
  const path = `records[${index}]`;
  try {
    const length = reader.readVarint();
    if (length < MIN_RECORD_SIZE - 1 || length > reader.remaining) {
      throw new ProtocolError(`record length ${length} with ${reader.remaining} bytes left`, path);
    }
    const start = reader.offset;
    const r = new Reader(reader.buffer, start, start + length);
    const attributes = r.readInt8();
    const timestampDelta = r.readVarlong();
    const offsetDelta = r.readVarint();
    const key = readVarBytes(r);
    const value = readVarBytes(r);
    const headerCount = r.readVarint();
    // each header needs at least two length bytes
    if (headerCount < 0 || headerCount * 2 > r.remaining) {
      throw new ProtocolError(`header count ${headerCount} with ${r.remaining} bytes left`, `${path}.headers`);
    }
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyLength = r.readVarint();
      if (keyLength < 0) throw new ProtocolError(`negative header key length ${keyLength}`, `${path}.headers[${h}]`);
      const headerKey = r.readRaw(keyLength).toString('utf8');
      headers[h] = { key: headerKey, value: readVarBytes(r) };
    }
    if (r.remaining !== 0) {
      throw new ProtocolError(`record declares ${length} bytes but its fields use ${length - r.remaining}`, path);
    }
    reader.offset = start + length;
    return {
      attributes,
      timestampDelta,
      offsetDelta,
      key,
      value,
      headers,
      offset: header.baseOffset + BigInt(offsetDelta),
      timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
    };
  } catch (err) {
    if (err instanceof ProtocolError && !err.path) throw new ProtocolError(err.message, path);
    throw err;
  }
}

function readVarBytes(r: Reader): Buffer | null {
  const len = r.readVarint();
  if (len < -1) throw new ProtocolError(`invalid length ${len}`);
  return len === -1 ? null : r.readRaw(len);
}

// ---------------------------------------------------------------- encoding

export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp: bigint;
  /** Defaults to the record's index; set it to keep gaps (e.g. after compaction). */
  offsetDelta?: number;
}

export interface BuildBatchOptions {
  baseOffset: bigint;
  records: RecordInput[];
  compression?: CompressionType;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /** A control batch (transaction marker). */
  isControl?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
  /** Defaults to the largest record timestamp (-1 with no records). */
  maxTimestamp?: bigint;
  /** Defaults to the last record's offsetDelta (0 with no records). */
  lastOffsetDelta?: number;
}

/** Encodes one v2 batch with a correct CRC. The returned buffer is exactly one batch. */
export function buildRecordBatch(options: BuildBatchOptions): Buffer {
  const {
    baseOffset,
    records,
    compression = CompressionType.None,
    producerId = -1n,
    producerEpoch = -1,
    baseSequence = -1,
    isTransactional = false,
    isControl = false,
    partitionLeaderEpoch = -1,
    timestampType = TimestampType.CreateTime,
  } = options;

  const baseTimestamp = records.length > 0 ? records[0]!.timestamp : -1n;
  let maxTimestamp = records.length > 0 ? baseTimestamp : -1n;
  let previousDelta = -1;
  // Pre-size everything so the records section is written into one exact allocation.
  const encoded: EncodedRecord[] = new Array(records.length);
  let recordsSize = 0;
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const offsetDelta = rec.offsetDelta ?? i;
    if (!Number.isInteger(offsetDelta) || offsetDelta <= previousDelta || offsetDelta > 0x7fffffff) {
      throw new RangeError(`record ${i}: offsetDelta ${offsetDelta} must be an int32 above ${previousDelta}`);
    }
    previousDelta = offsetDelta;
    if (rec.timestamp > maxTimestamp) maxTimestamp = rec.timestamp;
    const e = sizeRecord(rec, offsetDelta, rec.timestamp - baseTimestamp);
    encoded[i] = e;
    recordsSize += sizeOfVarint(e.bodySize) + e.bodySize;
  }
  if (options.maxTimestamp !== undefined) maxTimestamp = options.maxTimestamp;
  const lastOffsetDelta = options.lastOffsetDelta ?? (records.length > 0 ? previousDelta : 0);

  let batch: Buffer;
  if (compression === CompressionType.None) {
    const w = new Writer(RECORDS_OFFSET + recordsSize);
    w.writeRaw(HEADER_PLACEHOLDER);
    for (const e of encoded) writeRecord(w, e);
    batch = w.toBuffer();
    if (batch.length !== RECORDS_OFFSET + recordsSize) throw new Error('record size precomputation is wrong');
  } else {
    const w = new Writer(Math.max(1, recordsSize));
    for (const e of encoded) writeRecord(w, e);
    const payload = compress(compression, w.toBuffer());
    batch = Buffer.allocUnsafe(RECORDS_OFFSET + payload.length);
    payload.copy(batch, RECORDS_OFFSET);
  }

  let attributes = compression;
  if (timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (isControl) attributes |= CONTROL_FLAG_MASK;
  batch.writeBigInt64BE(baseOffset, 0);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, 8);
  batch.writeInt32BE(partitionLeaderEpoch, 12);
  batch.writeInt8(CURRENT_MAGIC, 16);
  batch.writeInt16BE(attributes, 21);
  batch.writeInt32BE(lastOffsetDelta, 23);
  batch.writeBigInt64BE(baseTimestamp, 27);
  batch.writeBigInt64BE(maxTimestamp, 35);
  batch.writeBigInt64BE(producerId, 43);
  batch.writeInt16BE(producerEpoch, 51);
  batch.writeInt32BE(baseSequence, 53);
  batch.writeInt32BE(records.length, 57);
  batch.writeUInt32BE(computeBatchCrc(batch), CRC_OFFSET);
  return batch;
}

const HEADER_PLACEHOLDER = Buffer.alloc(RECORDS_OFFSET);

interface EncodedRecord {
  bodySize: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headerKeys: Buffer[];
  headerValues: Array<Buffer | null>;
}

function sizeRecord(rec: RecordInput, offsetDelta: number, timestampDelta: bigint): EncodedRecord {
  const headers = rec.headers ?? [];
  const headerKeys: Buffer[] = new Array(headers.length);
  const headerValues: Array<Buffer | null> = new Array(headers.length);
  let size =
    1 + // attributes
    sizeOfVarlong(timestampDelta) +
    sizeOfVarint(offsetDelta) +
    sizeOfVarBytes(rec.key) +
    sizeOfVarBytes(rec.value) +
    sizeOfVarint(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const k = Buffer.from(headers[h]!.key, 'utf8');
    headerKeys[h] = k;
    headerValues[h] = headers[h]!.value;
    size += sizeOfVarBytes(k) + sizeOfVarBytes(headers[h]!.value);
  }
  return { bodySize: size, timestampDelta, offsetDelta, key: rec.key, value: rec.value, headerKeys, headerValues };
}

function writeRecord(w: Writer, e: EncodedRecord): void {
  w.writeVarint(e.bodySize);
  w.writeInt8(0); // record attributes: unused by Kafka so far
  w.writeVarlong(e.timestampDelta);
  w.writeVarint(e.offsetDelta);
  writeVarBytes(w, e.key);
  writeVarBytes(w, e.value);
  w.writeVarint(e.headerKeys.length);
  for (let h = 0; h < e.headerKeys.length; h++) {
    writeVarBytes(w, e.headerKeys[h]!);
    writeVarBytes(w, e.headerValues[h] ?? null);
  }
}

function writeVarBytes(w: Writer, b: Buffer | null): void {
  if (b === null) {
    w.writeVarint(-1);
    return;
  }
  w.writeVarint(b.length);
  w.writeRaw(b);
}

function sizeOfVarBytes(b: Buffer | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

/** Encoded size of a zig-zag varint. */
export function sizeOfVarint(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

/** Encoded size of a zig-zag varlong. */
export function sizeOfVarlong(v: bigint): number {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}
