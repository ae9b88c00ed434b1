import { ProtocolError } from './protocol-error.js';

/**
 * Splits a byte stream into Kafka frames (int32 big-endian size, then that many bytes).
 * Chunks are kept as received and joined only once a whole frame is present, so a length
 * prefix that lies never makes us allocate more than the bytes that actually arrived.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  constructor(private maxFrameBytes: number) {}

  /** Changes the largest frame accepted from now on (a SASL listener allows less before login). */
  setMaxFrameBytes(bytes: number): void {
    this.maxFrameBytes = bytes;
  }

  /** Feeds bytes; returns every frame now complete (bodies without the size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.maxFrameBytes) {
          throw new ProtocolError(`frame size ${size} is outside 0..${this.maxFrameBytes} (socket.request.max.bytes)`);
        }
        this.consume(4);
        this.expected = size;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.consume(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  get pendingBytes(): number {
    return this.buffered;
  }

  private peekInt32(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    return this.join(4).readInt32BE(0);
  }

  /** Concatenates the first `n` buffered bytes into the head chunk (n <= buffered). */
  private join(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let i = 0;
    while (copied < n) {
      const c = this.chunks[i]!;
      const take = Math.min(c.length, n - copied);
      c.copy(out, copied, 0, take);
      copied += take;
      if (take === c.length) i++;
      else {
        this.chunks[i] = c.subarray(take);
        break;
      }
    }
    this.chunks.splice(0, i, out);
    // the joined bytes are now the head chunk; the next consume() slices it
    return out;
  }

  private consume(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = this.join(n);
      this.chunks.shift();
    }
    this.buffered -= n;
    return out;
  }
}
