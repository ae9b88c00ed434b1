// A minimal Kafka client for the security tests: plain TCP or TLS, requests on our codec,
// SASL logins driven by hand (so tests can send what real clients would not).

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { decodeResponse, encodeRequest, ApiKey, type RequestOf, type ResponseOf } from '../../src/protocol/api-codec.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import type { Loose } from '../../src/broker/handler.js';
import { ScramClientExchange } from '../../src/agent/security/scram.js';
import type { ScramMechanismName } from '../../src/metadata/metadata-store.js';

export class SecureTestClient {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly waiting: Array<{ resolve: (f: Buffer) => void; reject: (e: Error) => void }> = [];
  private correlationId = 1;
  /** Resolves when the broker closed the connection. */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.waiting.shift()?.resolve(frame);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed by the broker'));
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  get wasClosed(): boolean {
    return this.isClosed;
  }

  static connect(port: number, tls?: ConnectionOptions): Promise<SecureTestClient> {
    return new Promise((resolve, reject) => {
      const socket = tls ? tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...tls }) : netConnect({ host: '127.0.0.1', port });
      socket.once('error', reject);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve(new SecureTestClient(socket));
      });
    });
  }

  /** Writes a frame (size-prefixed) and waits for the next frame back. */
  exchange(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('connection closed by the broker'));
      this.waiting.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: Loose<RequestOf<K>>): Promise<ResponseOf<K>> {
    const frame = encodeRequest({ apiKey, apiVersion, correlationId: this.correlationId++, clientId: 'security-test' }, body);
    return decodeResponse(apiKey, apiVersion, await this.exchange(frame)).body;
  }

  /** A raw SASL token (after a v0 handshake): length-prefixed bytes, the answer likewise. */
  async token(bytes: Buffer): Promise<Buffer> {
    const frame = Buffer.alloc(4 + bytes.length);
    frame.writeInt32BE(bytes.length, 0);
    bytes.copy(frame, 4);
    return this.exchange(frame);
  }

  async loginPlain(user: string, password: string): Promise<ResponseOf<typeof ApiKey.SaslAuthenticate>> {
    const hs = await this.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    if (hs.errorCode !== 0) throw new Error(`handshake ${hs.errorCode}`);
    return this.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`\u0000${user}\u0000${password}`) });
  }

  /** A SCRAM login; the last SaslAuthenticate response (its error code tells the outcome). */
  async loginScram(mechanism: ScramMechanismName, user: string, password: string, handshake = true): Promise<ResponseOf<typeof ApiKey.SaslAuthenticate>> {
    if (handshake) {
      const hs = await this.request(ApiKey.SaslHandshake, 1, { mechanism });
      if (hs.errorCode !== 0) throw new Error(`handshake ${hs.errorCode}`);
    }
    const client = new ScramClientExchange(mechanism, user, password);
    const first = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes: client.clientFirst() });
    if (first.errorCode !== 0) return first;
    const final = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes: await client.clientFinal(first.authBytes) });
    if (final.errorCode === 0 && !client.verifyServerFinal(final.authBytes)) throw new Error('server signature does not verify');
    return final;
  }

  close(): void {
    this.socket.destroy();
  }
}
