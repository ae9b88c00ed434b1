// A small Kafka client for streamctl's user commands: plain TCP or TLS, an optional SASL
// login (PLAIN, SCRAM-SHA-256/512), then requests on our codec. Users are managed through
// Kafka's own APIs (DescribeUserScramCredentials, AlterUserScramCredentials), so the same
// rules apply as for any Kafka tool (docs/security.md).

import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ApiKey, decodeResponse, encodeRequest, type RequestOf, type ResponseOf } from '../../protocol/api-codec.js';
import { FrameDecoder } from '../../protocol/frame-decoder.js';
import { ScramClientExchange, isScramMechanism } from '../../agent/security/scram.js';
import { CommandError } from './cli-errors.js';

export interface KafkaClientSecurity {
  readonly securityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  readonly saslMechanism?: string;
  readonly saslUsername?: string;
  readonly saslPassword?: string;
  readonly sslCaLocation?: string;
  readonly sslCertificateLocation?: string;
  readonly sslKeyLocation?: string;
}

export class KafkaAdminClient {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly waiting: Array<{ resolve: (f: Buffer) => void; reject: (e: Error) => void }> = [];
  private correlationId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.waiting.shift()?.resolve(frame);
    });
    socket.on('close', () => {
      for (const w of this.waiting.splice(0)) w.reject(new CommandError('the broker closed the connection'));
    });
    socket.on('error', () => undefined);
  }

  static async connect(bootstrap: string, security: KafkaClientSecurity, timeoutMs: number): Promise<KafkaAdminClient> {
    const colon = bootstrap.lastIndexOf(':');
    const host = bootstrap.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(bootstrap.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) throw new CommandError(`--bootstrap must be host:port, got "${bootstrap}"`);
    const tls = security.securityProtocol === 'SSL' || security.securityProtocol === 'SASL_SSL';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = tls
        ? tlsConnect({
            host,
            port,
            servername: host,
            ...(security.sslCaLocation ? { ca: readFileSync(security.sslCaLocation) } : {}),
            ...(security.sslCertificateLocation ? { cert: readFileSync(security.sslCertificateLocation) } : {}),
            ...(security.sslKeyLocation ? { key: readFileSync(security.sslKeyLocation) } : {}),
          })
        : netConnect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new CommandError(`cannot reach Kafka at ${bootstrap} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new CommandError(`cannot reach Kafka at ${bootstrap}: ${err.message}`));
      });
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
    });
    const client = new KafkaAdminClient(socket);
    if (security.securityProtocol === 'SASL_PLAINTEXT' || security.securityProtocol === 'SASL_SSL') await client.login(security);
    return client;
  }

  private exchange(frame: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: RequestOf<K>): Promise<ResponseOf<K>> {
    const frame = encodeRequest({ apiKey, apiVersion, correlationId: this.correlationId++, clientId: 'streamctl' }, body);
    return decodeResponse(apiKey, apiVersion, await this.exchange(frame)).body;
  }

  private async login(s: KafkaClientSecurity): Promise<void> {
    const mechanism = (s.saslMechanism ?? 'SCRAM-SHA-512').toUpperCase();
    if (s.saslUsername === undefined || s.saslPassword === undefined) throw new CommandError('SASL needs --sasl-username and a password (STREAMCTL_SASL_PASSWORD or --sasl-password)');
    const hs = await this.request(ApiKey.SaslHandshake, 1, { mechanism });
    if (hs.errorCode !== 0) throw new CommandError(`the broker does not offer SASL ${mechanism} (it offers ${hs.mechanisms.join(', ')})`);
    const fail = (m: string | null) => new CommandError(`SASL login as ${s.saslUsername} failed: ${m ?? 'authentication failed'}`);
    if (mechanism === 'PLAIN') {
      const r = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`\u0000${s.saslUsername}\u0000${s.saslPassword}`) });
      if (r.errorCode !== 0) throw fail(r.errorMessage);
      return;
    }
    if (!isScramMechanism(mechanism)) throw new CommandError(`--sasl-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got ${mechanism}`);
    const scram = new ScramClientExchange(mechanism, s.saslUsername, s.saslPassword);
    const first = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.clientFirst() });
    if (first.errorCode !== 0) throw fail(first.errorMessage);
    const final = await this.request(ApiKey.SaslAuthenticate, 2, { authBytes: await scram.clientFinal(first.authBytes) });
    if (final.errorCode !== 0) throw fail(final.errorMessage);
    if (!scram.verifyServerFinal(final.authBytes)) throw new CommandError('the broker did not prove it knows the SCRAM credential');
  }

  close(): void {
    this.socket.destroy();
  }
}
