import { gzipSync } from 'node:zlib';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../protocol-error.js';
import {
  CompressionType,
  XERIAL_BLOCK_SIZE,
  compress,
  compressionName,
  decompress,
  isCompressionType,
  snappyDecompress,
  xerialSnappyCompress,
} from './compression.js';

const ALL: CompressionType[] = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

/** Deterministic, partly compressible bytes (xorshift noise mixed with runs). */
function sample(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = i % 64 < 40 ? 0x61 + (i % 7) : x & 0xff;
  }
  return out;
}

const XERIAL_HEADER_HEX = '82534e415050590000000001' + '00000001';

function expectProtocolError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('CompressionType', () => {
  it('uses the Kafka attribute codec ids', () => {
    expect(CompressionType).toEqual({ None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 });
    expect(ALL.map(compressionName)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    expect([0, 4, 5, -1, 1.5].map(isCompressionType)).toEqual([true, true, false, false, false]);
  });
});

describe('compress/decompress round trip', () => {
  const inputs: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x7f])],
    ['text', Buffer.from('hello hello hello kafka')],
    ['200 KiB mixed', sample(200 * 1024)],
  ];
  for (const type of ALL) {
    for (const [label, data] of inputs) {
      it(`${compressionName(type)}: ${label}`, () => {
        const packed = compress(type, data);
        const unpacked = decompress(type, packed);
        expect(unpacked.equals(data)).toBe(true);
        if (type === CompressionType.None) expect(packed).toBe(data);
      });
    }
  }

  it('writes each codec in the container format Kafka clients read', () => {
    const data = Buffer.from('abcabcabcabc');
    expect(compress(CompressionType.Gzip, data).subarray(0, 2).toString('hex')).toBe('1f8b');
    // LZ4 frame magic 0x184D2204 (little-endian), FLG version 01 with independent blocks
    const lz4 = compress(CompressionType.Lz4, data);
    expect(lz4.subarray(0, 4).toString('hex')).toBe('04224d18');
    expect(lz4[4]! & 0xe0).toBe(0x60);
    expect(compress(CompressionType.Zstd, data).subarray(0, 4).toString('hex')).toBe('28b52ffd');
    expect(compress(CompressionType.Snappy, data).subarray(0, 16).toString('hex')).toBe(XERIAL_HEADER_HEX);
  });
});

describe('snappy xerial framing', () => {
  it('writes a 16-byte header then 32 KiB blocks each behind a big-endian length', () => {
    const data = sample(100_000, 7);
    const framed = xerialSnappyCompress(data);
    expect(framed.subarray(0, 16).toString('hex')).toBe(XERIAL_HEADER_HEX);
    const blocks: Buffer[] = [];
    let pos = 16;
    while (pos < framed.length) {
      const len = framed.readInt32BE(pos);
      blocks.push(framed.subarray(pos + 4, pos + 4 + len));
      pos += 4 + len;
    }
    expect(pos).toBe(framed.length);
    const sizes = blocks.map((b) => (snappyUncompressSync(b) as Buffer).length);
    expect(sizes).toEqual([XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, XERIAL_BLOCK_SIZE, 100_000 - 3 * XERIAL_BLOCK_SIZE]);
    expect(Buffer.concat(blocks.map((b) => snappyUncompressSync(b) as Buffer)).equals(data)).toBe(true);
    expect(decompress(CompressionType.Snappy, framed).equals(data)).toBe(true);
  });

  it('frames empty input as the header alone', () => {
    const framed = xerialSnappyCompress(Buffer.alloc(0));
    expect(framed.toString('hex')).toBe(XERIAL_HEADER_HEX);
    expect(snappyDecompress(framed).length).toBe(0);
  });

  it('decodes a hand-built xerial stream with two blocks', () => {
    // raw snappy blocks written by hand: varint length, then one literal (tag (len-1)<<2)
    const block1 = Buffer.from('06' + '14' + Buffer.from('hello ').toString('hex'), 'hex');
    const block2 = Buffer.from('05' + '10' + Buffer.from('world').toString('hex'), 'hex');
    const stream = Buffer.from(
      XERIAL_HEADER_HEX + '00000008' + block1.toString('hex') + '00000007' + block2.toString('hex'),
      'hex',
    );
    expect(decompress(CompressionType.Snappy, stream).toString()).toBe('hello world');
  });

  it('decodes concatenated xerial streams', () => {
    const a = xerialSnappyCompress(Buffer.from('first '));
    const b = xerialSnappyCompress(Buffer.from('second'));
    expect(decompress(CompressionType.Snappy, Buffer.concat([a, b])).toString()).toBe('first second');
  });

  it('rejects a block length that overruns the stream', () => {
    const stream = Buffer.from(XERIAL_HEADER_HEX + '00000010' + '0510776f726c64', 'hex');
    expectProtocolError(() => decompress(CompressionType.Snappy, stream), /overruns/);
    const truncatedLength = Buffer.from(XERIAL_HEADER_HEX + '0000', 'hex');
    expectProtocolError(() => decompress(CompressionType.Snappy, truncatedLength), /truncated xerial/);
  });
});

describe('raw snappy', () => {
  it('decodes a hand-built raw block with a literal and a back-reference', () => {
    // length 9; literal "abc"; copy-1 (tag 0x09: len 6, offset high bits 0) with offset 3
    const raw = Buffer.from('09' + '08616263' + '0903', 'hex');
    expect(decompress(CompressionType.Snappy, raw).toString()).toBe('abcabcabc');
  });

  it('decodes raw snappy produced by the library', () => {
    const data = sample(70_000, 3);
    expect(decompress(CompressionType.Snappy, snappyCompressSync(data)).equals(data)).toBe(true);
  });
});

describe('interoperable vectors from the reference CLIs', () => {
  // 3000 lines "line <i % 97> of the lz4 test vector\n" (92 690 bytes)
  const text = (() => {
    let s = '';
    for (let i = 0; i < 3000; i++) s += `line ${i % 97} of the lz4 test vector\n`;
    return Buffer.from(s);
  })();

  it('decodes an LZ4 frame from `lz4 -BD -B4 --content-size` (linked 64 KiB blocks, content checksum)', () => {
    const frame = Buffer.from(LZ4_CLI_VECTOR, 'base64');
    expect(text.length).toBe(92_690);
    expect(frame[4]).toBe(0x4c); // FLG: version 01, dependent blocks, content size + checksum
    expect(decompress(CompressionType.Lz4, frame).equals(text)).toBe(true);
  });

  it('decodes a zstd frame from `zstd -c < file` (no content size in the header)', () => {
    const frame = Buffer.from(ZSTD_CLI_VECTOR, 'base64');
    expect(frame[4]! & 0xc0).toBe(0); // frame content size flag unset
    expect(decompress(CompressionType.Zstd, frame).equals(text)).toBe(true);
  });
});

describe('decompression limits', () => {
  const zeros = Buffer.alloc(2 * 1024 * 1024);
  const limit = 1024 * 1024;

  it('gzip stops at maxOutputBytes', () => {
    const packed = gzipSync(zeros);
    expectProtocolError(() => decompress(CompressionType.Gzip, packed, { maxOutputBytes: limit }), /gzip.*more than 1048576/);
    expect(decompress(CompressionType.Gzip, packed, { maxOutputBytes: zeros.length }).length).toBe(zeros.length);
  });

  it('zstd stops at maxOutputBytes, with or without a declared content size', () => {
    const declared = zstdCompress(zeros);
    expectProtocolError(() => decompress(CompressionType.Zstd, declared, { maxOutputBytes: limit }), /zstd.*more than/);
    expect(decompress(CompressionType.Zstd, declared, { maxOutputBytes: zeros.length }).equals(zeros)).toBe(true);
    const cliFrame = Buffer.from(ZSTD_CLI_VECTOR, 'base64');
    expectProtocolError(() => decompress(CompressionType.Zstd, cliFrame, { maxOutputBytes: 92_689 }), /zstd/);
    expect(decompress(CompressionType.Zstd, cliFrame, { maxOutputBytes: 92_690 }).length).toBe(92_690);
  });

  it('raw snappy is refused from its length preamble before decoding', () => {
    // preamble claims 2^31 bytes; the body is junk that would fail if it were decoded
    const liar = Buffer.from('8080808008' + 'ffffffff', 'hex');
    expectProtocolError(() => decompress(CompressionType.Snappy, liar), /more than 268435456/);
    const packed = snappyCompressSync(zeros);
    expectProtocolError(() => decompress(CompressionType.Snappy, packed, { maxOutputBytes: limit }), /snappy/);
  });

  it('xerial snappy counts the running total across blocks', () => {
    const framed = xerialSnappyCompress(zeros);
    expectProtocolError(() => decompress(CompressionType.Snappy, framed, { maxOutputBytes: limit }), /more than 1048576/);
    expect(decompress(CompressionType.Snappy, framed, { maxOutputBytes: zeros.length }).length).toBe(zeros.length);
  });

  it('lz4 is checked after decoding', () => {
    const frame = compressFrameSync(zeros);
    expectProtocolError(() => decompress(CompressionType.Lz4, frame, { maxOutputBytes: limit }), /lz4.*more than/);
  });

  it('uncompressed data is held to the same limit', () => {
    expectProtocolError(() => decompress(CompressionType.None, Buffer.alloc(11), { maxOutputBytes: 10 }), /more than 10/);
  });
});

describe('corrupt input', () => {
  const junk = Buffer.from('this is not compressed data at all');
  for (const type of [CompressionType.Gzip, CompressionType.Lz4, CompressionType.Zstd, CompressionType.Snappy]) {
    it(`${compressionName(type)} raises a ProtocolError`, () => {
      expectProtocolError(() => decompress(type, junk), new RegExp(compressionName(type)));
    });
  }

  it('truncated zstd and gzip raise ProtocolErrors', () => {
    const data = sample(50_000, 9);
    const z = compress(CompressionType.Zstd, data);
    expectProtocolError(() => decompress(CompressionType.Zstd, z.subarray(0, z.length - 10)), /zstd/);
    const g = compress(CompressionType.Gzip, data);
    expectProtocolError(() => decompress(CompressionType.Gzip, g.subarray(0, g.length - 10)), /gzip/);
  });

  it('an unknown codec id is refused', () => {
    expectProtocolError(() => decompress(5 as CompressionType, junk), /unknown compression type 5/);
    expectProtocolError(() => compress(7 as CompressionType, junk), /unknown compression type 7/);
  });
});

const LZ4_CLI_VECTOR =
  'BCJNGExAEmoBAAAAAABiJgMAAPEPbGluZSAwIG9mIHRoZSBsejQgdGVzdCB2ZWN0b3IKHgAfMR4ACh8yHgAKHzMeAAofNB4ACh81HgAKHzYeAAofNx4ACh84HgAKHzkeAAofMS0BDA8uAQsfMS8BCx8xMAELHzExAQsfMTIBCx8xMwELHzE0AQsfMTUBCx8xNgELHzI2AQsfMjYBCx8yNgELHzI2AQsfMjYBCx8yNgELHzI2AQsfMjYBCx8yNgELHzI2AQsfMzYBCx8zNgELHzM2AQsfMzYBCx8zNgELHzM2AQsfMzYBCx8zNgELHzM2AQsfMzYBCx80NgELHzQ2AQsfNDYBCx80NgELHzQ2AQsfNDYBCx80NgELHzQ2AQsfNDYBCx80NgELHzU2AQsfNTYBCx81NgELHzU2AQsfNTYBCx81NgELHzU2AQsfNTYBCx81NgELHzU2AQsfNjYBCx82NgELHzY2AQsfNjYBCx82NgELHzY2AQsfNjYBCx82NgELHzY2AQsfNjYBCx83NgELHzc2AQsfNzYBCx83NgELHzc2AQsfNzYBCx83NgELHzc2AQsfNzYBCx83NgELHzg2AQsfODYBCx84NgELHzg2AQsfODYBCx84NgELHzg2AQsfODYBCx84NgELHzg2AQsfOTYBCx85NgELHzk2AQsfOTYBCx85NgELHzk2AQsfOTYBCw/YAAsP1wALD9YACw/VAAsP1AALD9MACw/SAAsPBwIMD5cLCg8FAgsPtQv////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////1UGxpbmUgeQAAAB84z/MLD9n1/////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////0VQY3RvcgoAAAAAlPZLoQ==';

const ZSTD_CLI_VECTOR =
  'KLUv/QRYFQUAokgYGJA1aQMAJaVGc/h5Iv/P3N29UyYUznQaEIlndTczMzMREREREe/u7u7uzMzMzMyqqqqqqv7//3/btm27bdu2JSIiIqLEs7pLQwyiCBiOMiAAUw6kzAOKIYUyhGMEQwyiCGuoMfj9fwPAMyrXEvj/z8Jf/38DKV24K1pNH0do01oUL6ihosLC52wc3ogN1wgazogMvRiZYCaGu1KUwdSqTPzPsg==';
