import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import type { Loose } from '../src/broker/handler.js';
import { decodeResponse, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../src/protocol/api-codec.js';
import { ScramClientExchange } from '../src/agent/security/scram.js';
import type { ScramMechanismName } from '../src/metadata/metadata-store.js';

/** Big enough for a Fetch response with max_bytes in the hundreds of MiB. */
const MAX_RESPONSE_BYTES = 1024 * 1024 * 1024;
/** Offset of the correlation id in a length-prefixed request frame. */
const CORRELATION_AT = 8;

/**
 * A request encoded once and sent many times: only the correlation id changes, so each send
 * writes a fresh 12-byte prefix plus the shared (never mutated) rest of the frame.
 */
export interface PrebuiltRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly prefix: Buffer;
  readonly rest: Buffer;
  readonly bytes: number;
}

export function prebuildRequest<K extends ApiKey>(apiKey: K, apiVersion: number, body: Loose<RequestOf<K>>, clientId = 'bench'): PrebuiltRequest {
  const frame = encodeRequest({ apiKey, apiVersion, correlationId: 0, clientId }, body);
  return { apiKey, apiVersion, prefix: frame.subarray(0, CORRELATION_AT + 4), rest: frame.subarray(CORRELATION_AT + 4), bytes: frame.length };
}

/** A SASL login made right after connecting (SaslHandshake v1, SaslAuthenticate v2). */
export interface SaslLogin {
  readonly mechanism: 'PLAIN' | ScramMechanismName;
  readonly username: string;
  readonly password: string;
}

/** How to reach a listener that is not PLAINTEXT: TLS (SSL, SASL_SSL) and/or a SASL login. */
export interface SecureConnectOptions {
  readonly tls?: ConnectionOptions;
  readonly sasl?: SaslLogin;
}

export type ResponseCallback = (err: Error | null, frame: Buffer | null) => void;

interface Pending {
  readonly correlationId: number;
  readonly callback: ResponseCallback;
}

/**
 * The test kit's raw Kafka client, on our own codec and frame decoder: one connection with any
 * number of requests in flight (Kafka answers a connection's requests in order, so a FIFO of
 * callbacks is all the bookkeeping needed). Tests use it to send exactly the bytes a client of
 * some version would send, byte-identical frames, or pipelined ones; benchmarks send prebuilt
 * requests through it.
 */
export class KafkaConnection {
  private readonly decoder = new FrameDecoder(MAX_RESPONSE_BYTES);
  private readonly pending: Pending[] = [];
  private head = 0;
  private nextCorrelationId = 1;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly clientId: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.failAll(err));
    socket.on('close', () => {
      this.closed = true;
      this.failAll(new Error('connection closed by the broker'));
    });
  }

  /** `connect('127.0.0.1', 9092)` or `connect('127.0.0.1:9092')`; over TLS and logged in with `secure`. */
  static async connect(host: string, port?: number, clientId = 'streamhouse-raw', secure: SecureConnectOptions = {}): Promise<KafkaConnection> {
    let target = { host, port: port ?? 0 };
    if (port === undefined) {
      const colon = host.lastIndexOf(':');
      target = { host: host.slice(0, colon), port: Number(host.slice(colon + 1)) };
    }
    const conn = await new Promise<KafkaConnection>((resolve, reject) => {
      const socket = secure.tls ? tlsConnect({ ...target, ...secure.tls }) : connect(target);
      socket.once('error', reject);
      socket.once(secure.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve(new KafkaConnection(socket, clientId));
      });
    });
    if (secure.sasl) await conn.login(secure.sasl);
    return conn;
  }

  /** A SASL login; throws with Kafka's error when it fails. */
  async login({ mechanism, username, password }: SaslLogin): Promise<void> {
    const handshake = await this.request(17, 1, { mechanism });
    if (handshake.errorCode !== 0) throw new Error(`SaslHandshake ${mechanism}: error ${handshake.errorCode} (enabled: ${handshake.mechanisms.join(', ')})`);
    const authenticate = async (authBytes: Buffer) => {
      const res = await this.request(36, 2, { authBytes });
      if (res.errorCode !== 0) throw new Error(`SaslAuthenticate ${mechanism}: error ${res.errorCode} ${res.errorMessage ?? ''}`);
      return res.authBytes;
    };
    if (mechanism === 'PLAIN') {
      await authenticate(Buffer.from(`\u0000${username}\u0000${password}`, 'utf8'));
      return;
    }
    const scram = new ScramClientExchange(mechanism, username, password);
    const serverFirst = await authenticate(scram.clientFirst());
    const serverFinal = await authenticate(await scram.clientFinal(serverFirst));
    if (!scram.verifyServerFinal(serverFinal)) throw new Error(`${mechanism}: the server's signature does not verify`);
  }

  get inFlight(): number {
    return this.pending.length - this.head;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Encodes (absent fields take their defaults), sends and decodes one request; with timeoutMs, fails after it. */
  request<K extends ApiKey>(apiKey: K, apiVersion: number, body: Loose<RequestOf<K>>, timeoutMs?: number): Promise<ResponseOf<K>> {
    const frame = encodeRequest({ apiKey, apiVersion, correlationId: 0, clientId: this.clientId }, body);
    return new Promise((resolve, reject) => {
      // no timer unless asked: the benchmarks send many requests a second through here
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`no answer to API ${apiKey} v${apiVersion} within ${timeoutMs} ms`)), timeoutMs);
      this.send([frame], (err, response) => {
        clearTimeout(timer);
        if (err) reject(err);
        else {
          try {
            resolve(decodeResponse(apiKey, apiVersion, response!).body);
          } catch (e) {
            reject(e as Error);
          }
        }
      });
    });
  }

  /** Sends an encoded, size-prefixed request exactly as it is (its own correlation id); resolves with the response frame. */
  sendFrame(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.sendAsIs(frame, (err, response) => (err ? reject(err) : resolve(response!))));
  }

  /** Sends several encoded requests in one socket write (pipelined); resolves with their response frames in order. */
  sendFrames(frames: readonly Buffer[]): Promise<Buffer[]> {
    const answers = frames.map((frame) => new Promise<Buffer>((resolve, reject) => this.queue(frame.readInt32BE(CORRELATION_AT), (err, response) => (err ? reject(err) : resolve(response!)))));
    if (!this.failure) this.socket.write(Buffer.concat(frames));
    return Promise.all(answers);
  }

  private sendAsIs(frame: Buffer, callback: ResponseCallback): void {
    if (this.queue(frame.readInt32BE(CORRELATION_AT), callback)) this.socket.write(frame);
  }

  /** Registers the callback of a request about to be written; false (callback already failed) when the connection is gone. */
  private queue(correlationId: number, callback: ResponseCallback): boolean {
    if (this.failure) {
      const err = this.failure;
      queueMicrotask(() => callback(err, null));
      return false;
    }
    this.pending.push({ correlationId, callback });
    return true;
  }

  /** Sends a prebuilt request; the callback gets the response frame (without its length). */
  sendPrebuilt(req: PrebuiltRequest, callback: ResponseCallback): void {
    const prefix = Buffer.allocUnsafe(req.prefix.length);
    req.prefix.copy(prefix);
    this.send([prefix, req.rest], callback);
  }

  /** The first part must start with the length prefix; its correlation id is overwritten. */
  private send(parts: Buffer[], callback: ResponseCallback): void {
    if (this.failure) {
      const err = this.failure;
      queueMicrotask(() => callback(err, null));
      return;
    }
    const correlationId = this.nextCorrelationId++ & 0x7fffffff;
    parts[0]!.writeInt32BE(correlationId, CORRELATION_AT);
    this.pending.push({ correlationId, callback });
    if (parts.length === 1) this.socket.write(parts[0]!);
    else {
      this.socket.cork();
      for (const p of parts) this.socket.write(p);
      this.socket.uncork();
    }
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.failAll(err as Error);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const p = this.pending[this.head];
      if (!p) {
        this.failAll(new Error('response without a request'));
        this.socket.destroy();
        return;
      }
      this.pending[this.head++] = undefined as unknown as Pending;
      if (this.head > 4096 && this.head * 2 > this.pending.length) {
        this.pending.splice(0, this.head);
        this.head = 0;
      }
      const got = frame.readInt32BE(0);
      if (got !== p.correlationId) p.callback(new Error(`correlation id ${got}, expected ${p.correlationId}`), null);
      else p.callback(null, frame);
    }
  }

  private failAll(err: Error): void {
    if (!this.failure) this.failure = err;
    while (this.head < this.pending.length) {
      const p = this.pending[this.head++]!;
      p.callback(err, null);
    }
    this.pending.length = 0;
    this.head = 0;
  }

  close(): void {
    this.failure ??= new Error('connection closed');
    this.socket.end();
    this.socket.destroy();
  }
}
