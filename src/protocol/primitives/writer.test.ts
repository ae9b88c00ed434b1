import { describe, expect, it } from 'vitest';
import { ByteParts, MIN_REFERENCED_BYTES, Writer } from './writer.js';

describe('Writer with ByteParts', () => {
  const big = Buffer.alloc(MIN_REFERENCED_BYTES * 3, 7);
  const big2 = Buffer.alloc(MIN_REFERENCED_BYTES, 9);
  const small = Buffer.from('tiny');

  function encode(w: Writer): void {
    const at = w.reserveInt32();
    w.writeInt16(3).writeNullableBytes(new ByteParts([big, small, big2]), false);
    w.writeNullableBytes(new ByteParts([big2]), true).writeInt32(42);
    w.patchInt32(at, w.size - 4);
  }

  it('a segmented writer keeps large parts by reference; the segments concatenate to the plain encoding', () => {
    const plain = new Writer(8);
    encode(plain);
    const segmented = new Writer(8, { segmented: true });
    encode(segmented);
    const segments = segmented.toSegments();
    expect(Buffer.concat(segments)).toEqual(plain.toBuffer());
    expect(segmented.size).toBe(plain.toBuffer().length);
    expect(plain.toBuffer().readInt32BE(0)).toBe(plain.toBuffer().length - 4);
    // the large parts are the very objects given, in order; the small one was copied
    expect(segments.filter((s) => s === big || s === big2)).toEqual([big, big2, big2]);
    expect(segments.some((s) => s === small)).toBe(false);
    expect(() => segmented.toBuffer()).toThrow(/toSegments/);
  });

  it('without large parts a segmented writer returns one segment', () => {
    const w = new Writer(8, { segmented: true });
    w.writeInt32(1).writeNullableBytes(new ByteParts([small, small]), false);
    expect(w.toSegments()).toHaveLength(1);
    expect(w.toSegments()[0]).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 0, 8, ...small, ...small]));
  });

  it('ByteParts counts its length and joins its parts', () => {
    const p = new ByteParts([small, big2]);
    expect(p.length).toBe(small.length + big2.length);
    expect(p.toBuffer()).toEqual(Buffer.concat([small, big2]));
    expect(new ByteParts([big]).toBuffer()).toBe(big);
  });
});
