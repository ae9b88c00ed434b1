/**
 * Bytes given as a list of parts (e.g. record batches that are views of cached chunks), so
 * that a value can be encoded without first concatenating it. `length` is the total.
 */
export class ByteParts {
  readonly length: number;

  constructor(readonly parts: readonly Buffer[]) {
    let n = 0;
    for (const p of parts) n += p.length;
    this.length = n;
  }

  /** The parts as one buffer (copies unless there is exactly one part). */
  toBuffer(): Buffer {
    if (this.parts.length === 1) return this.parts[0]!;
    return Buffer.concat(this.parts as Buffer[], this.length);
  }
}

/** Bytes values an encoder accepts: one buffer or a list of parts. */
export type BytesValue = Uint8Array | ByteParts;

/** A part at least this long is kept by reference by a segmented Writer; shorter ones are copied. */
export const MIN_REFERENCED_BYTES = 1024;

/**
 * Growable output buffer. Encoders append into one allocation that doubles as needed,
 * so a response is built without per-field Buffer objects.
 *
 * A segmented Writer (`new Writer(n, { segmented: true })`) keeps large `ByteParts` parts
 * by reference instead of copying them: `toSegments()` then returns the encoding as a list
 * of buffers (pieces of its own buffer interleaved with the referenced parts). `offset`
 * counts only the bytes in its own buffer; `size` is the total encoded length.
 */
export class Writer {
  private buf: Buffer;
  offset = 0;
  private readonly segmented: boolean;
  /** Referenced parts, each with the position in `buf` before which it goes. */
  private readonly refs: Array<{ at: number; bytes: Buffer }> = [];
  private refBytes = 0;

  constructor(initialSize = 256, opts: { segmented?: boolean } = {}) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.segmented = opts.segmented === true;
  }

  /** Total encoded bytes, referenced parts included. */
  get size(): number {
    return this.offset + this.refBytes;
  }

  /**
   * The encoding as a list of buffers whose concatenation is the whole output: views of
   * this writer's buffer (valid until the next write) and the referenced parts themselves.
   */
  toSegments(): Buffer[] {
    if (this.refs.length === 0) return [this.toBuffer()];
    const out: Buffer[] = [];
    let from = 0;
    for (const { at, bytes } of this.refs) {
      if (at > from) out.push(this.buf.subarray(from, at));
      out.push(bytes);
      from = at;
    }
    if (this.offset > from) out.push(this.buf.subarray(from, this.offset));
    return out;
  }

  /** Appends bytes; a segmented writer keeps large parts by reference. */
  writeBytesValue(v: BytesValue): this {
    if (!(v instanceof ByteParts)) return this.writeRaw(v);
    for (const part of v.parts) {
      if (this.segmented && part.length >= MIN_REFERENCED_BYTES) {
        this.refs.push({ at: this.offset, bytes: part });
        this.refBytes += part.length;
      } else {
        this.writeRaw(part);
      }
    }
    return this;
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  /** The bytes written so far (a view, valid until the next write); see `toSegments` when segmented. */
  toBuffer(): Buffer {
    if (this.refs.length > 0) throw new Error('a segmented Writer holding referenced parts has no single buffer; use toSegments()');
    return this.buf.subarray(0, this.offset);
  }

  writeInt8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset);
    this.offset += 1;
    return this;
  }

  writeUInt8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v;
    return this;
  }

  writeBool(v: boolean): this {
    return this.writeInt8(v ? 1 : 0);
  }

  writeInt16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  writeUInt16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
    return this;
  }

  writeInt32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  writeUInt32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.offset);
    this.offset += 4;
    return this;
  }

  writeInt64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.offset);
    this.offset += 8;
    return this;
  }

  writeFloat64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
    return this;
  }

  writeUnsignedVarint(v: number): this {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.offset++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.offset++] = v;
    return this;
  }

  writeVarint(v: number): this {
    // zig-zag in arithmetic so values near ±2^31 stay exact
    return this.writeUnsignedVarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  writeUnsignedVarlong(v: bigint): this {
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.offset++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.offset++] = Number(v);
    return this;
  }

  writeVarlong(v: bigint): this {
    return this.writeUnsignedVarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  writeUuid(uuid: string): this {
    const hex = uuid.replace(/-/g, '');
    if (hex.length !== 32) throw new RangeError(`not a UUID: ${uuid}`);
    this.ensure(16);
    this.buf.write(hex, this.offset, 16, 'hex');
    this.offset += 16;
    return this;
  }

  writeRaw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.offset);
    this.offset += bytes.length;
    return this;
  }

  writeNullableString(v: string | null, compact: boolean): this {
    if (v === null) return compact ? this.writeUnsignedVarint(0) : this.writeInt16(-1);
    const len = Buffer.byteLength(v);
    if (compact) this.writeUnsignedVarint(len + 1);
    else this.writeInt16(len);
    this.ensure(len);
    this.buf.write(v, this.offset, len, 'utf8');
    this.offset += len;
    return this;
  }

  writeString(v: string, compact: boolean): this {
    return this.writeNullableString(v, compact);
  }

  writeNullableBytes(v: BytesValue | null, compact: boolean): this {
    if (v === null) return compact ? this.writeUnsignedVarint(0) : this.writeInt32(-1);
    if (compact) this.writeUnsignedVarint(v.length + 1);
    else this.writeInt32(v.length);
    return this.writeBytesValue(v);
  }

  writeArrayLength(n: number | null, compact: boolean): this {
    if (n === null) return compact ? this.writeUnsignedVarint(0) : this.writeInt32(-1);
    return compact ? this.writeUnsignedVarint(n + 1) : this.writeInt32(n);
  }

  /** Reserves 4 bytes for a length or CRC filled in later with `patchInt32`. */
  reserveInt32(): number {
    const at = this.offset;
    this.ensure(4);
    this.offset += 4;
    return at;
  }

  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }
}
