import { ProtocolError } from '../protocol-error.js';

const EMPTY = Buffer.alloc(0);

/**
 * Cursor over one received frame. Every read checks bounds first, so a lying length or
 * array count fails with a ProtocolError instead of allocating or reading past the frame.
 */
export class Reader {
  offset: number;
  readonly end: number;

  constructor(
    readonly buffer: Buffer,
    offset = 0,
    end = buffer.length,
  ) {
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new ProtocolError(`needs ${n} bytes at offset ${this.offset}, ${this.end - this.offset} left`);
    }
  }

  readInt8(): number {
    this.need(1);
    return this.buffer.readInt8(this.offset++);
  }

  readUInt8(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }

  readBool(): boolean {
    return this.readInt8() !== 0;
  }

  readInt16(): number {
    this.need(2);
    const v = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  readUInt16(): number {
    this.need(2);
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  readInt32(): number {
    this.need(4);
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readUInt32(): number {
    this.need(4);
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readInt64(): bigint {
    this.need(8);
    const v = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  readFloat64(): number {
    this.need(8);
    const v = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  readUnsignedVarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.readUInt8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new ProtocolError('unsigned varint overflows 32 bits');
        return result;
      }
      shift += 7;
    }
    throw new ProtocolError('unsigned varint longer than 5 bytes');
  }

  readVarint(): number {
    const u = this.readUnsignedVarint();
    // zig-zag: (u >>> 1) ^ -(u & 1), done with arithmetic to stay correct for u >= 2^31
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  readUnsignedVarlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.readUInt8();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  readVarlong(): bigint {
    const u = this.readUnsignedVarlong();
    return (u >> 1n) ^ -(u & 1n);
  }

  readUuid(): string {
    this.need(16);
    const hex = this.buffer.toString('hex', this.offset, this.offset + 16);
    this.offset += 16;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** Raw bytes as a view into the frame (no copy). */
  readRaw(length: number): Buffer {
    this.need(length);
    const v = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  private lengthOrNull(compact: boolean): number {
    if (compact) return this.readUnsignedVarint() - 1;
    return this.readInt16();
  }

  readString(compact: boolean): string {
    const s = this.readNullableString(compact);
    if (s === null) throw new ProtocolError('null string where a string is required');
    return s;
  }

  readNullableString(compact: boolean): string | null {
    const len = this.lengthOrNull(compact);
    if (len < 0) return null;
    this.need(len);
    const s = this.buffer.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  readNullableBytes(compact: boolean): Buffer | null {
    const len = compact ? this.readUnsignedVarint() - 1 : this.readInt32();
    if (len < 0) return null;
    return this.readRaw(len);
  }

  readBytes(compact: boolean): Buffer {
    const b = this.readNullableBytes(compact);
    if (b === null) throw new ProtocolError('null bytes where bytes are required');
    return b;
  }

  /**
   * Array element count, or -1 for null. Each element needs at least `minElementSize` bytes,
   * so a count larger than the bytes left is rejected before anything is allocated.
   */
  readArrayLength(compact: boolean, minElementSize = 1): number {
    const n = compact ? this.readUnsignedVarint() - 1 : this.readInt32();
    if (n < -1) throw new ProtocolError(`negative array length ${n}`);
    if (n > 0 && n * minElementSize > this.remaining) {
      throw new ProtocolError(`array length ${n} exceeds the ${this.remaining} bytes left`);
    }
    return n;
  }

  /** Reads a tagged-field section; returns unknown tags (raw) so callers may keep them. */
  readTaggedFields(onTag?: (tag: number, reader: Reader) => boolean): Map<number, Buffer> | undefined {
    const count = this.readUnsignedVarint();
    if (count > this.remaining) throw new ProtocolError(`tagged field count ${count} exceeds bytes left`);
    let unknown: Map<number, Buffer> | undefined;
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.readUnsignedVarint();
      if (tag <= lastTag) throw new ProtocolError(`tagged fields out of order (${tag} after ${lastTag})`);
      lastTag = tag;
      const size = this.readUnsignedVarint();
      this.need(size);
      const fieldEnd = this.offset + size;
      if (onTag) {
        const sub = new Reader(this.buffer, this.offset, fieldEnd);
        if (onTag(tag, sub)) {
          this.offset = fieldEnd;
          continue;
        }
      }
      (unknown ??= new Map()).set(tag, this.buffer.subarray(this.offset, fieldEnd));
      this.offset = fieldEnd;
    }
    return unknown;
  }

  static readonly EMPTY = EMPTY;
}
