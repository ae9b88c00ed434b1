import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { AgentCore } from '../agent/agent-core.js';
import type { HandlerRegistry } from './handler-registry.js';
import { Connection, type ConnectionListener } from './connection.js';
import type { HostPort } from '../agent/config/broker-config.js';
import type { Authenticator } from '../agent/security/authenticator.js';
import { ANONYMOUS, userPrincipal, usesTls, type SecurityProtocol, type SecuritySession } from '../agent/security/principal.js';
import type { TlsFiles, TlsMaterial } from '../agent/security/tls-files.js';
import { mapDistinguishedName, parseMappingRules, rfc2253FromNodeSubject, type MappingRule } from '../agent/security/ssl-principal-mapper.js';

/** One Kafka listener as the door runs it (docs/security.md). */
export interface KafkaListenerSpec {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Needed on SASL listeners (and counts failed TLS client certificates). */
  readonly authenticator?: Authenticator;
  /** Needed on SSL and SASL_SSL listeners. */
  readonly tls?: TlsFiles;
}

const PLAINTEXT: KafkaListenerSpec = { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' };

/** A TLS handshake that did not finish in this long is dropped. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The Kafka TCP (or TLS) listener of one listener name. */
export class KafkaServer {
  private server: Server | TlsServer | undefined;
  private closing: Promise<void> | undefined;
  private readonly connections = new Set<Connection>();
  private readonly rules: MappingRule[];

  constructor(
    private readonly services: AgentCore,
    private readonly registry: HandlerRegistry,
    private readonly listener: KafkaListenerSpec = PLAINTEXT,
  ) {
    this.rules = parseMappingRules(listener.tls?.config.principalMappingRules ?? 'DEFAULT');
    if (usesTls(listener.securityProtocol) && listener.tls === undefined) throw new Error(`listener ${listener.name} is ${listener.securityProtocol} but has no TLS files`);
  }

  get name(): string {
    return this.listener.name;
  }

  private tlsOptions(m: TlsMaterial): TlsOptions {
    // ssl.client.auth applies to SSL listeners; on SASL_SSL the principal comes from SASL
    const clientAuth = this.listener.securityProtocol === 'SSL' ? (this.listener.tls?.config.clientAuth ?? 'none') : 'none';
    return {
      cert: m.cert,
      key: m.key,
      ...(m.passphrase !== undefined ? { passphrase: m.passphrase } : {}),
      ...(m.ca ? { ca: m.ca } : {}),
      minVersion: 'TLSv1.2',
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'required',
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    };
  }

  private accept(socket: Socket, session?: SecuritySession): void {
    const spec: ConnectionListener = {
      name: this.listener.name,
      securityProtocol: this.listener.securityProtocol,
      ...(this.listener.authenticator ? { authenticator: this.listener.authenticator } : {}),
      ...(session ? { session } : {}),
    };
    const conn = new Connection(socket, this.services, this.registry, spec);
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  /** The session of an SSL connection from its client certificate; undefined refuses it (already counted). */
  private certificateSession(socket: TLSSocket): SecuritySession | undefined {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const refuse = (reason: string): undefined => {
      this.listener.authenticator?.failed({ mechanism: 'SSL', listener: this.listener.name, client: remote, reason });
      return undefined;
    };
    if (this.listener.securityProtocol !== 'SSL') return { principal: ANONYMOUS, mechanism: null, authenticatedAtMs: Date.now() };
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return { principal: ANONYMOUS, mechanism: null, authenticatedAtMs: Date.now() };
    // ssl.client.auth=requested: a certificate that does not verify is refused, not ignored
    if (!socket.authorized) return refuse(`client certificate not trusted: ${String(socket.authorizationError)}`);
    const dn = rfc2253FromNodeSubject(cert.subject);
    const name = mapDistinguishedName(this.rules, dn);
    if (name === undefined) return refuse(`no ssl.principal.mapping.rules rule applies to ${dn}`);
    return { principal: userPrincipal(name), mechanism: 'SSL', authenticatedAtMs: Date.now() };
  }

  async listen(listener: HostPort): Promise<HostPort> {
    let server: Server | TlsServer;
    const tls = this.listener.tls;
    if (usesTls(this.listener.securityProtocol) && tls !== undefined) {
      const tlsServer = createTlsServer(this.tlsOptions(tls.material), (socket: TLSSocket) => {
        const session = this.certificateSession(socket);
        if (session === undefined) {
          socket.destroy();
          return;
        }
        this.accept(socket, session);
      });
      // new material (reloaded files) for new connections; established ones keep theirs
      tls.onChange((m) => tlsServer.setSecureContext(this.tlsOptions(m)));
      tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
        const remote = `${socket.remoteAddress}:${socket.remotePort}`;
        const certificateProblem = /certificate|CERT/i.test(`${err.code ?? ''} ${err.message}`);
        if (certificateProblem) this.listener.authenticator?.failed({ mechanism: 'SSL', listener: this.listener.name, client: remote, reason: `TLS handshake failed: ${err.code ?? err.message}` });
        else this.services.logger.debug({ remote, listener: this.listener.name, code: err.code }, 'TLS handshake failed');
        socket.destroy();
      });
      server = tlsServer;
    } else {
      server = createServer((socket: Socket) => this.accept(socket));
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listener.port, listener.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') return { host: addr.address, port: addr.port };
    return listener;
  }

  /** True while the listener takes new connections (after listen(), before stopAccepting()). */
  get accepting(): boolean {
    return this.server?.listening === true && this.closing === undefined;
  }

  /** Stops accepting new connections; existing ones keep being served. */
  stopAccepting(): void {
    // close() stops listening at once; its callback waits for every client to leave, which
    // is close()'s business, not this one's (a draining agent must not wait for clients).
    if (this.server && !this.closing) this.closing = new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const c of this.connections) c.close();
    await this.closing;
  }
}
