import { describe, it, expect } from 'vitest';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

const hex = (w: Writer) => w.toBuffer().toString('hex');

describe('varints', () => {
  const cases: Array<[number, string]> = [
    [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'], [300, 'd804'],
    [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f'],
  ];
  for (const [value, bytes] of cases) {
    it(`zig-zag varint ${value} is ${bytes}`, () => {
      expect(hex(new Writer().writeVarint(value))).toBe(bytes);
      expect(new Reader(Buffer.from(bytes, 'hex')).readVarint()).toBe(value);
    });
  }

  it('unsigned varint round-trips the 32-bit range edges', () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1]) {
      const b = new Writer().writeUnsignedVarint(v).toBuffer();
      expect(new Reader(Buffer.from(b)).readUnsignedVarint()).toBe(v);
    }
    expect(hex(new Writer().writeUnsignedVarint(2 ** 32 - 1))).toBe('ffffffff0f');
  });

  it('rejects a varint longer than 5 bytes', () => {
    expect(() => new Reader(Buffer.from('ffffffffff01', 'hex')).readUnsignedVarint()).toThrow(/longer than 5 bytes/);
  });

  it('varlong round-trips int64 extremes', () => {
    for (const v of [0n, -1n, 1n, 9223372036854775807n, -9223372036854775808n, 1700000000000n]) {
      const b = new Writer().writeVarlong(v).toBuffer();
      expect(new Reader(Buffer.from(b)).readVarlong()).toBe(v);
    }
    expect(hex(new Writer().writeVarlong(-9223372036854775808n))).toBe('ffffffffffffffffff01');
  });
});

describe('strings, bytes, uuids', () => {
  it('classic and compact nullable strings', () => {
    expect(hex(new Writer().writeNullableString(null, false))).toBe('ffff');
    expect(hex(new Writer().writeNullableString(null, true))).toBe('00');
    expect(hex(new Writer().writeString('hé', false))).toBe('000368c3a9');
    expect(hex(new Writer().writeString('hé', true))).toBe('0468c3a9');
    expect(new Reader(Buffer.from('0468c3a9', 'hex')).readString(true)).toBe('hé');
    expect(new Reader(Buffer.from('ffff', 'hex')).readNullableString(false)).toBeNull();
  });

  it('bytes with int32 or compact length', () => {
    expect(hex(new Writer().writeNullableBytes(Buffer.from([1, 2]), false))).toBe('000000020102');
    expect(hex(new Writer().writeNullableBytes(null, true))).toBe('00');
    expect(new Reader(Buffer.from('030102', 'hex')).readBytes(true)).toEqual(Buffer.from([1, 2]));
  });

  it('uuid in canonical form', () => {
    const id = '0123abcd-4567-89ef-0123-456789abcdef';
    const b = new Writer().writeUuid(id).toBuffer();
    expect(b.toString('hex')).toBe('0123abcd456789ef0123456789abcdef');
    expect(new Reader(Buffer.from(b)).readUuid()).toBe(id);
  });

  it('a string length beyond the frame fails without reading past it', () => {
    expect(() => new Reader(Buffer.from('7fff41', 'hex')).readString(false)).toThrow(/needs 32767 bytes/);
  });
});

describe('tagged fields', () => {
  it('hands known tags to the callback and keeps unknown ones raw', () => {
    // 2 fields: tag 0 (2 bytes 0x0102), tag 5 (1 byte 0x09)
    const r = new Reader(Buffer.from('02' + '00' + '02' + '0102' + '05' + '01' + '09', 'hex'));
    const seen: number[] = [];
    const unknown = r.readTaggedFields((tag, sub) => {
      if (tag !== 0) return false;
      seen.push(sub.readInt16());
      return true;
    });
    expect(seen).toEqual([0x0102]);
    expect(unknown?.get(5)).toEqual(Buffer.from([9]));
    expect(r.remaining).toBe(0);
  });

  it('rejects tags out of order', () => {
    const r = new Reader(Buffer.from('02' + '05' + '00' + '01' + '00', 'hex'));
    expect(() => r.readTaggedFields()).toThrow(/out of order/);
  });
});

describe('writer growth', () => {
  it('grows past its initial size and keeps earlier bytes', () => {
    const w = new Writer(2);
    for (let i = 0; i < 1000; i++) w.writeInt32(i);
    const b = w.toBuffer();
    expect(b.length).toBe(4000);
    expect(b.readInt32BE(3996)).toBe(999);
  });
});
