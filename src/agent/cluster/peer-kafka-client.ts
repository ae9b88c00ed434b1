// Agent-to-agent requests over the other agent's Kafka listener, on our own protocol codec.
// One connection per peer address, opened on first use and dropped on any failure; requests
// on it are pipelined and answered in order (as Kafka answers one connection), so what one
// agent forwards to another in a given order is handled there in that order.

import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../../protocol/api-codec.js';
import { FrameDecoder } from '../../protocol/frame-decoder.js';

/** Largest response frame accepted from a peer (group answers are small). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A peer that could not be reached or did not answer in time (nothing is known about the request). */
export class PeerUnavailableError extends Error {
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`agent at ${address}: ${message}`);
    this.name = 'PeerUnavailableError';
  }
}

interface Waiter {
  readonly correlationId: number;
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (err: Error) => void;
}

class PeerConnection {
  private readonly decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
  private readonly waiting: Waiter[] = [];
  private nextCorrelationId = 1;
  private failure: Error | undefined;
  private readonly connected: Promise<void>;

  constructor(
    readonly address: string,
    private readonly socket: Socket,
    private readonly onGone: (conn: PeerConnection) => void,
  ) {
    socket.setNoDelay(true);
    this.connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // a failed connect is reported to whoever waits on `connected`; keep it from going unhandled
    this.connected.catch(() => {});
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.fail(err instanceof Error ? err.message : String(err));
        return;
      }
      for (const frame of frames) {
        const waiter = this.waiting.shift();
        if (!waiter) {
          this.fail('answer to no request');
          return;
        }
        if (frame.length < 4 || frame.readInt32BE(0) !== waiter.correlationId) {
          waiter.reject(new PeerUnavailableError(this.address, 'answer out of order'));
          this.fail('answer out of order');
          return;
        }
        waiter.resolve(frame);
      }
    });
    socket.on('error', (err) => this.fail(err.message));
    socket.on('close', () => this.fail('connection closed'));
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  async send(build: (correlationId: number) => Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.failure) throw this.failure;
    const correlationId = this.nextCorrelationId++;
    const frame = build(correlationId);
    const answer = new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ correlationId, resolve, reject });
    });
    // rejected by fail() even when the connect failed first and nobody awaits it
    answer.catch(() => {});
    const timer = setTimeout(() => this.fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    try {
      await this.connected;
      this.socket.write(frame);
      return await answer;
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      throw this.failure ?? err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails every request in flight and drops the connection (the next request opens a new one). */
  fail(reason: string): void {
    if (!this.failure) {
      this.failure = new PeerUnavailableError(this.address, reason);
      this.socket.destroy();
      this.onGone(this);
    }
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

export interface PeerKafkaClientOptions {
  /** Client id the peer sees in request headers. */
  readonly clientId: string;
  /** How long one request may take, connecting included (default 10 s). */
  readonly requestTimeoutMs?: number;
}

/** Kafka requests to other agents, one pipelined connection per address. */
export class PeerKafkaClient {
  private readonly connections = new Map<string, PeerConnection>();
  private closed = false;

  constructor(private readonly options: PeerKafkaClientOptions) {}

  /**
   * Sends one request and decodes its answer. Throws PeerUnavailableError when the peer
   * cannot be reached, the connection breaks or the answer is late: the request may or may
   * not have been handled.
   */
  async request<K extends ApiKey>(host: string, port: number, apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<ResponseOf<K>> {
    const address = `${host}:${port}`;
    if (this.closed) throw new PeerUnavailableError(address, 'client closed');
    const conn = this.connection(address, host, port);
    const frame = await conn.send((correlationId) => encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.options.clientId }, body), this.options.requestTimeoutMs ?? 10_000);
    return decodeResponse(apiKey, apiVersion, frame).body;
  }

  close(): void {
    this.closed = true;
    for (const c of [...this.connections.values()]) c.fail('client closed');
  }

  private connection(address: string, host: string, port: number): PeerConnection {
    const existing = this.connections.get(address);
    if (existing && !existing.broken) return existing;
    const conn = new PeerConnection(address, connect({ host, port }), (gone) => {
      if (this.connections.get(address) === gone) this.connections.delete(address);
    });
    this.connections.set(address, conn);
    return conn;
  }
}
