import { createServer, connect, type Server, type Socket } from 'node:net';

const PRODUCE_API_KEY = 0;

/** Splits a byte stream into Kafka frames (4-byte size prefix). */
class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0);
      if (this.pending.length < 4 + size) break;
      frames.push(this.pending.subarray(0, 4 + size));
      this.pending = this.pending.subarray(4 + size);
    }
    return frames;
  }
}

interface ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Correlation id -> API key of requests not answered yet. */
  readonly inFlight: Map<number, number>;
  /** Whole response frames held back from the client. */
  held: Buffer[];
}

/**
 * A TCP proxy in front of the broker's Kafka port that can hold back the broker's
 * responses. Holding responses, then killing the broker and cutting the client off,
 * leaves produce requests the broker committed but the client never heard about: exactly
 * what an idempotent producer's retry has to be deduplicated against after a restart.
 */
export class HoldingProxy {
  private readonly server: Server;
  private readonly connections = new Set<ProxiedConnection>();
  private holding = false;
  /** Produce responses the client never received because they were held, then dropped. */
  droppedProduceResponses = 0;
  port = 0;

  constructor(private readonly upstreamPort: () => number) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.upstreamPort(), '127.0.0.1');
    const conn: ProxiedConnection = { client, upstream, inFlight: new Map(), held: [] };
    this.connections.add(conn);
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      for (const frame of requests.push(chunk)) {
        // request header: size, api key (int16), api version (int16), correlation id (int32)
        if (frame.length >= 12) conn.inFlight.set(frame.readInt32BE(8), frame.readInt16BE(4));
        upstream.write(frame);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const frame of responses.push(chunk)) {
        if (this.holding) conn.held.push(frame);
        else this.deliver(conn, frame);
      }
    });
    // no graceful half-close: whatever is held must never reach the client
    const close = () => this.drop(conn);
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  private deliver(conn: ProxiedConnection, frame: Buffer): void {
    if (frame.length >= 8) conn.inFlight.delete(frame.readInt32BE(4));
    conn.client.write(frame);
  }

  /** From now on, responses are held instead of forwarded. */
  hold(): void {
    this.holding = true;
  }

  /** Closes both sides; held responses are dropped (and Produce ones counted). */
  private drop(conn: ProxiedConnection): void {
    for (const frame of conn.held) {
      if (frame.length >= 8 && conn.inFlight.get(frame.readInt32BE(4)) === PRODUCE_API_KEY) this.droppedProduceResponses++;
    }
    conn.held = [];
    this.connections.delete(conn);
    conn.client.destroy();
    conn.upstream.destroy();
  }

  /** Cuts every client off, dropping held responses, and stops holding. */
  dropHeldAndCut(): void {
    for (const conn of [...this.connections]) this.drop(conn);
    this.holding = false;
  }

  async close(): Promise<void> {
    for (const conn of [...this.connections]) this.drop(conn);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
