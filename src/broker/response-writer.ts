import type { Socket } from 'node:net';

/** Bytes handed to a TLS socket at a time; the rest wait here until it drains. */
export const TLS_WRITE_WINDOW_BYTES = 1024 * 1024;
/** Largest single write to a TLS socket (a segment is split into views of this size). */
const TLS_WRITE_SLICE_BYTES = 256 * 1024;

/**
 * Writes a connection's response buffers to its socket, in order.
 *
 * Plaintext: every buffer goes to the socket at once (corked into one writev when there are
 * several); the kernel copies them, and Fetch records leave by reference.
 *
 * TLS: Node encrypts a buffer the moment it is written, into memory it holds until the
 * kernel takes it. A 50 MB Fetch response written whole was encrypted whole, through memory
 * far larger than the CPU caches, and cost the broker about 2.5 times the CPU per GB of
 * writing it as the socket drains (bench/security-throughput.ts, docs/benchmarks.md). So
 * only TLS_WRITE_WINDOW_BYTES are handed over at a time, in slices, and the rest waits.
 */
export class ResponseWriter {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private waitingForDrain = false;
  private endRequested = false;

  constructor(
    private readonly socket: Socket,
    private readonly paced: boolean,
  ) {
    if (paced) socket.on('drain', () => this.onDrain());
  }

  /** Bytes accepted but not yet handed to the socket (TLS only). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Queues one or more responses' buffers, in order after everything written before. */
  write(segments: readonly Buffer[]): void {
    if (this.endRequested || segments.length === 0) return;
    if (!this.paced) {
      if (segments.length === 1) {
        this.socket.write(segments[0]!);
        return;
      }
      this.socket.cork();
      for (const s of segments) this.socket.write(s);
      this.socket.uncork();
      return;
    }
    for (const s of segments) {
      if (s.length === 0) continue;
      this.pending.push(s);
      this.pendingBytes += s.length;
    }
    if (!this.waitingForDrain) this.pump();
  }

  /** Ends the socket once everything queued has been handed to it. */
  end(): void {
    this.endRequested = true;
    if (this.pendingBytes === 0) this.socket.end();
  }

  private onDrain(): void {
    this.waitingForDrain = false;
    this.pump();
  }

  private pump(): void {
    if (this.pending.length === 0 || this.socket.destroyed) return;
    this.socket.cork();
    while (this.pending.length > 0 && this.socket.writableLength < TLS_WRITE_WINDOW_BYTES) {
      const head = this.pending[0]!;
      if (head.length <= TLS_WRITE_SLICE_BYTES) {
        this.pending.shift();
        this.pendingBytes -= head.length;
        this.socket.write(head);
      } else {
        this.pending[0] = head.subarray(TLS_WRITE_SLICE_BYTES);
        this.pendingBytes -= TLS_WRITE_SLICE_BYTES;
        this.socket.write(head.subarray(0, TLS_WRITE_SLICE_BYTES));
      }
    }
    this.socket.uncork();
    // past the window the last write returned false, so 'drain' follows once the socket empties
    if (this.pending.length > 0) this.waitingForDrain = true;
    else if (this.endRequested) this.socket.end();
  }
}
