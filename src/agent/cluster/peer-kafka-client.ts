// Agent-to-agent requests over the other agent's Kafka listener, on our own protocol codec.
// One connection per peer address, opened on first use and dropped on any failure; requests
// on it are pipelined and answered in order (as Kafka answers one connection), so what one
// agent forwards to another in a given order is handled there in that order. On a SASL or
// TLS inter-broker listener the connection logs in (as the broker user) before any request.

import { isIP, connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { ApiKey as Api, decodeResponse, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../../protocol/api-codec.js';
import { FrameDecoder } from '../../protocol/frame-decoder.js';
import { ScramClientExchange } from '../security/scram.js';

/** The broker user an agent logs in as on a SASL inter-broker listener (sasl.mechanism.inter.broker.protocol). */
export interface PeerLogin {
  readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly username: string;
  readonly password: string;
}

/** How an agent reaches the others' inter-broker listener: TLS (trusting these CAs) and/or a SASL login. */
export interface PeerSecurity {
  readonly tls?: { readonly ca?: Buffer };
  readonly login?: PeerLogin;
}

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
  /** Connected (TLS included) and logged in: requests go out only then, in call order. */
  private readonly ready: Promise<void>;

  constructor(
    readonly address: string,
    private readonly socket: Socket,
    private readonly onGone: (conn: PeerConnection) => void,
    secure: boolean,
    private readonly clientId: string,
    login: PeerLogin | undefined,
  ) {
    socket.setNoDelay(true);
    const connected = new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    this.ready = connected.then(() => (login ? this.login(login) : undefined));
    // a failed connect is reported to whoever waits on `ready`; keep it from going unhandled
    this.ready.catch(() => {});
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
    const timer = setTimeout(() => this.fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    try {
      // callers resume in the order they called: their requests leave in that order
      await this.ready;
      if (this.failure) throw this.failure;
      return await this.exchange(build);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      throw this.failure ?? err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes one request now and waits for its answer (the connection is up). */
  private exchange(build: (correlationId: number) => Buffer): Promise<Buffer> {
    const correlationId = this.nextCorrelationId++;
    const answer = new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ correlationId, resolve, reject });
    });
    this.socket.write(build(correlationId));
    return answer;
  }

  private async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<ResponseOf<K>> {
    const frame = await this.exchange((correlationId) => encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body));
    return decodeResponse(apiKey, apiVersion, frame).body;
  }

  /** SaslHandshake v1 and SaslAuthenticate v2 as the broker user; a refusal breaks the connection. */
  private async login({ mechanism, username, password }: PeerLogin): Promise<void> {
    const handshake = await this.request(Api.SaslHandshake, 1, { mechanism });
    if (handshake.errorCode !== 0) throw new PeerUnavailableError(this.address, `inter-broker SASL mechanism ${mechanism} refused (error ${handshake.errorCode})`);
    const step = async (authBytes: Buffer) => {
      const res = await this.request(Api.SaslAuthenticate, 2, { authBytes, });
      if (res.errorCode !== 0) throw new PeerUnavailableError(this.address, `inter-broker login as ${username} failed (error ${res.errorCode})`);
      return res.authBytes;
    };
    if (mechanism === 'PLAIN') {
      await step(Buffer.from(`\u0000${username}\u0000${password}`, 'utf8'));
      return;
    }
    const scram = new ScramClientExchange(mechanism, username, password);
    const serverFinal = await step(await scram.clientFinal(await step(scram.clientFirst())));
    if (!scram.verifyServerFinal(serverFinal)) throw new PeerUnavailableError(this.address, 'the peer could not prove it knows the broker user');
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
  /** TLS and the login of a secured inter-broker listener (default: PLAINTEXT). */
  readonly security?: PeerSecurity;
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
    const security = this.options.security ?? {};
    const tls: ConnectionOptions | undefined = security.tls ? { host, port, ...(security.tls.ca ? { ca: security.tls.ca } : {}), ...(isIP(host) === 0 ? { servername: host } : {}) } : undefined;
    const socket = tls ? tlsConnect(tls) : connect({ host, port });
    const onGone = (gone: PeerConnection) => {
      if (this.connections.get(address) === gone) this.connections.delete(address);
    };
    const conn = new PeerConnection(address, socket, onGone, tls !== undefined, this.options.clientId, security.login);
    this.connections.set(address, conn);
    return conn;
  }
}
