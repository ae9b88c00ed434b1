import { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
// the binding is CommonJS over a .node file, so Node's ESM loader only offers a default export
import zstdBinding from 'zstd-napi/binding.js';
import { ProtocolError } from '../protocol-error.js';

/** Codec ids as stored in bits 0-2 of a record batch's attributes. */
export const CompressionType = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

export function isCompressionType(v: number): v is CompressionType {
  return Number.isInteger(v) && v >= 0 && v <= 4;
}

export function compressionName(type: CompressionType): (typeof NAMES)[number] {
  return NAMES[type];
}

/** Ceiling used when a caller does not pass `maxOutputBytes`. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export interface DecompressOptions {
  /** Output larger than this fails with a ProtocolError (decompression-bomb guard). */
  maxOutputBytes?: number;
}

const EMPTY = Buffer.alloc(0);

export function compress(type: CompressionType, data: Buffer): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data);
    case CompressionType.Snappy:
      return xerialSnappyCompress(data);
    case CompressionType.Lz4:
      // LZ4 frame format (magic 0x184D2204, independent blocks), the format Kafka
      // clients write for magic v2; lz4-napi's compressSync is the block format instead.
      return compressFrameSync(data);
    case CompressionType.Zstd:
      return zstdCompress(data);
    default:
      throw new ProtocolError(`unknown compression type ${String(type)}`, 'attributes');
  }
}

export function decompress(type: CompressionType, data: Buffer, options: DecompressOptions = {}): Buffer {
  const max = options.maxOutputBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`invalid maxOutputBytes ${max}`);
  const name = NAMES[type] ?? String(type);
  let out: Buffer;
  try {
    switch (type) {
      case CompressionType.None:
        out = data;
        break;
      case CompressionType.Gzip:
        out = gunzip(data, max);
        break;
      case CompressionType.Snappy:
        out = snappyDecompress(data, max);
        break;
      case CompressionType.Lz4:
        // lz4-napi has no bounded or streaming decoder: the limit is checked afterwards.
        out = data.length === 0 ? EMPTY : decompressFrameSync(data);
        break;
      case CompressionType.Zstd:
        out = zstdDecompress(data, max);
        break;
      default:
        throw new ProtocolError(`unknown compression type ${String(type)}`, 'attributes');
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError(`${name} decompression failed: ${(err as Error).message}`, 'records');
  }
  if (out.length > max) throw tooLarge(name, max);
  return out;
}

function tooLarge(name: string, max: number): ProtocolError {
  return new ProtocolError(`${name} data decompresses to more than ${max} bytes`, 'records');
}

function gunzip(data: Buffer, max: number): Buffer {
  try {
    // maxOutputLength must be >= 1; a limit of 0 is then enforced by the caller's check
    return gunzipSync(data, { maxOutputLength: Math.max(1, max) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', max);
    throw err;
  }
}

// ---- snappy: raw blocks, plus the xerial (snappy-java) framing Kafka's Java client writes ----

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]); // \x82SNAPPY\0
const XERIAL_HEADER_SIZE = 16; // magic + int32 version + int32 min-compatible version
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, so our output chunks like the Java client's. */
export const XERIAL_BLOCK_SIZE = 32 * 1024;

function isXerial(data: Buffer, at = 0): boolean {
  return data.length - at >= XERIAL_MAGIC.length && data.compare(XERIAL_MAGIC, 0, 8, at, at + 8) === 0;
}

/** Frames `data` as snappy-java does: a 16-byte header, then [int32 BE length][raw snappy block]*. */
export function xerialSnappyCompress(data: Buffer, blockSize = XERIAL_BLOCK_SIZE): Buffer {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0) throw new RangeError(`invalid block size ${blockSize}`);
  const blocks: Buffer[] = [];
  let total = XERIAL_HEADER_SIZE;
  for (let at = 0; at < data.length; at += blockSize) {
    const block = snappyCompressSync(data.subarray(at, Math.min(data.length, at + blockSize)));
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(total);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(XERIAL_VERSION, 8);
  out.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  let pos = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    block.copy(out, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

/** Accepts xerial-framed snappy (possibly several concatenated streams) or one raw snappy block. */
export function snappyDecompress(data: Buffer, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  if (!isXerial(data)) return rawSnappyBlock(data, maxOutputBytes, maxOutputBytes);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos < data.length) {
    if (isXerial(data, pos)) {
      // a block length can never start with 0x82 (it would exceed 2 GiB), so this is a new stream
      if (data.length - pos < XERIAL_HEADER_SIZE) throw new ProtocolError('truncated xerial snappy header', 'records');
      pos += XERIAL_HEADER_SIZE;
      continue;
    }
    if (data.length - pos < 4) throw new ProtocolError(`truncated xerial snappy block length at byte ${pos}`, 'records');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos) {
      throw new ProtocolError(`xerial snappy block of ${len} bytes at byte ${pos - 4} overruns the ${data.length - pos} bytes left`, 'records');
    }
    if (len > 0) {
      const part = rawSnappyBlock(data.subarray(pos, pos + len), maxOutputBytes - total, maxOutputBytes);
      total += part.length;
      parts.push(part);
    }
    pos += len;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** A raw snappy block starts with its uncompressed length as an unsigned varint: check it before allocating. */
function rawSnappyBlock(block: Buffer, room: number, max: number): Buffer {
  let declared = 0;
  let i = 0;
  for (; ; i++) {
    if (i >= block.length || i >= 5) throw new ProtocolError('invalid snappy length preamble', 'records');
    const b = block[i]!;
    declared += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) break;
  }
  if (declared > room) throw tooLarge('snappy', max);
  const out = snappyUncompressSync(block, { asBuffer: true });
  if (typeof out === 'string') throw new ProtocolError('snappy returned a string', 'records');
  return out;
}

// ---- zstd: streamed through a fixed-size window so a bomb stops at the limit ----

let dctx: InstanceType<typeof zstdBinding.DCtx> | undefined;
const ZSTD_OUT_CHUNK = 128 * 1024;

function zstdDecompress(data: Buffer, max: number): Buffer {
  dctx ??= new zstdBinding.DCtx();
  dctx.reset(zstdBinding.ResetDirective.sessionOnly);
  const parts: Buffer[] = [];
  let total = 0;
  let input: Buffer = data;
  for (;;) {
    // never ask for more than the limit allows (+1 byte so an overrun is seen)
    const room = Math.min(ZSTD_OUT_CHUNK, max - total + 1);
    const out = Buffer.allocUnsafe(room);
    const [hint, produced, consumed] = dctx.decompressStream(out, input);
    input = input.subarray(consumed);
    if (produced > 0) {
      total += produced;
      if (total > max) throw tooLarge('zstd', max);
      parts.push(out.subarray(0, produced));
    }
    if (hint === 0 && input.length === 0) break; // frame complete and flushed, nothing more
    if (produced === 0 && consumed === 0) throw new ProtocolError('truncated zstd frame', 'records');
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}
