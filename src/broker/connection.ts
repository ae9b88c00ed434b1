import type { Socket } from 'node:net';
import { API_VERSIONS_KEY, apiName, encodeResponse, encodeResponseSegments, requestHeaderVersion } from '../protocol/api-codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { decodeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/primitives/reader.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { NO_RESPONSE, type ConnectionState } from './handler.js';
import type { AgentCore } from '../agent/agent-core.js';
import type { ApiRoute, HandlerRegistry } from './handler-registry.js';
import type { Authenticator } from '../agent/security/authenticator.js';
import { ANONYMOUS, usesSasl, type SecurityProtocol, type SecuritySession } from '../agent/security/principal.js';
import { SASL_MAX_RECEIVE_BYTES, SaslServer, type SaslOutcome } from './sasl-server.js';
import { ResponseWriter } from './response-writer.js';

/** The listener a connection came in on, and who it is before any SASL login. */
export interface ConnectionListener {
  readonly name: string;
  readonly securityProtocol: SecurityProtocol;
  /** Required on SASL listeners. */
  readonly authenticator?: Authenticator;
  /** The TLS client certificate's session (SSL listeners); ANONYMOUS when none. */
  readonly session?: SecuritySession;
}

const PLAINTEXT_LISTENER: ConnectionListener = { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' };

/** Requests being processed at once per connection before we stop reading the socket. */
const MAX_IN_FLIGHT = 256;

interface Slot {
  done: boolean;
  /** The encoded response as buffers to write in order (Fetch records by reference). */
  response: Buffer[] | null;
}

let nextConnectionId = 1;

/**
 * One client connection: frames in, handlers run (possibly concurrently), responses out in
 * request order. Malformed input closes only this connection.
 */
export class Connection {
  readonly state: ConnectionState;
  private readonly decoder: FrameDecoder;
  private readonly queue: Slot[] = [];
  private closed = false;
  private paused = false;
  private readonly closing = new AbortController();
  /** The SASL exchange of a SASL listener (null on others). */
  private readonly sasl: SaslServer | null;
  /** Set while the SASL server works on a frame: later frames wait in `held`, in order. */
  private saslBusy = false;
  private readonly held: Buffer[] = [];
  private readonly writer: ResponseWriter;

  constructor(
    private readonly socket: Socket,
    private readonly services: AgentCore,
    private readonly registry: HandlerRegistry,
    private readonly listener: ConnectionListener = PLAINTEXT_LISTENER,
  ) {
    const sasl = usesSasl(listener.securityProtocol);
    this.state = {
      id: nextConnectionId++,
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      clientId: null,
      clientSoftwareName: null,
      clientSoftwareVersion: null,
      closed: this.closing.signal,
      listenerName: listener.name,
      securityProtocol: listener.securityProtocol,
      // SASL listeners: nobody until the login completes
      session: sasl ? null : (listener.session ?? { principal: ANONYMOUS, mechanism: null, authenticatedAtMs: Date.now() }),
    };
    if (sasl && listener.authenticator === undefined) throw new Error(`listener ${listener.name} is ${listener.securityProtocol} but has no authenticator`);
    this.sasl = sasl ? new SaslServer(listener.authenticator!, this.state, listener.name) : null;
    this.decoder = new FrameDecoder(sasl ? Math.min(SASL_MAX_RECEIVE_BYTES, services.config.socketRequestMaxBytes) : services.config.socketRequestMaxBytes);
    socket.setNoDelay(true);
    this.writer = new ResponseWriter(socket, listener.securityProtocol === 'SSL' || listener.securityProtocol === 'SASL_SSL');
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => services.logger.debug({ err, conn: this.state.id }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.closing.abort();
      services.metrics.connections.dec();
    });
    services.metrics.connections.inc();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err, 'bad frame');
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      if (this.saslBusy) this.held.push(frame);
      else this.onFrame(frame);
    }
  }

  /** @param passedBySasl the SASL server handed this frame (ApiVersions before the handshake) to the handlers */
  private onFrame(frame: Buffer, passedBySasl = false): void {
    const started = process.hrtime.bigint();
    if (this.sasl !== null && !passedBySasl) {
      const apiKey = frame.length >= 8 ? frame.readInt16BE(0) : undefined;
      if (this.sasl.rawTokens || (apiKey !== undefined && this.sasl.claims(apiKey))) {
        if (!this.sasl.rawTokens && apiKey === undefined) {
          this.fail(new ProtocolError(`request of ${frame.length} bytes is shorter than a request header`), 'bad frame');
          return;
        }
        this.onSaslFrame(frame, started);
        return;
      }
      if (apiKey === undefined && !this.sasl.authenticated) {
        this.fail(new ProtocolError('frame shorter than a request header before authentication'), 'bad frame');
        return;
      }
    }
    const expiresAt = this.state.session?.expiresAtMs;
    if (expiresAt !== undefined && Date.now() > expiresAt) {
      // KIP-368: after connections.max.reauth.ms only re-authentication is accepted
      this.services.logger.info({ conn: this.state.id, remote: this.state.remoteAddress, listener: this.listener.name }, 'SASL session expired without re-authentication; closing connection');
      this.close();
      return;
    }
    if (frame.length < 8) {
      this.fail(new ProtocolError(`request of ${frame.length} bytes is shorter than a request header`), 'bad frame');
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.registry.get(apiKey);
    if (!handler) {
      this.fail(new ProtocolError(`unsupported API key ${apiKey}`), 'unknown api');
      return;
    }
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        // a v0-format reply so that the client learns which versions we do speak
        const body = { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: this.registry.advertised() };
        this.enqueueReady([encodeResponse(API_VERSIONS_KEY, 0, correlationId, body)]);
        return;
      }
      this.fail(new ProtocolError(`${apiName(apiKey)} v${apiVersion} is not supported (${handler.minVersion}-${handler.maxVersion})`), 'unsupported version');
      return;
    }
    let header;
    let run: ReturnType<ApiRoute['decode']>;
    try {
      const reader = new Reader(frame);
      header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
      run = handler.decode(apiVersion, reader);
    } catch (err) {
      this.fail(err, `malformed ${apiName(apiKey)} v${apiVersion} request`);
      return;
    }
    if (header.clientId !== null) this.state.clientId = header.clientId;
    const slot: Slot = { done: false, response: null };
    this.queue.push(slot);
    if (this.queue.length >= MAX_IN_FLIGHT && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    const name = apiName(apiKey);
    const ctx = { header, apiVersion, connection: this.state, services: this.services };
    Promise.resolve()
      .then(() => run(ctx))
      .then(
        (result) => {
          if (result !== NO_RESPONSE) slot.response = encodeResponseSegments(apiKey, apiVersion, correlationId, result).segments;
          this.services.metrics.kafkaRequestDone(name, Number(process.hrtime.bigint() - started) / 1e9, result === NO_RESPONSE ? undefined : result);
          slot.done = true;
          this.flushQueue();
        },
        (err: unknown) => {
          this.services.metrics.kafkaRequestFailed(name, Number(process.hrtime.bigint() - started) / 1e9);
          this.services.logger.error({ err, api: name, version: apiVersion, conn: this.state.id }, 'request handler failed; closing connection');
          slot.done = true;
          this.close();
        },
      );
  }

  /** A frame for the SASL server: answered in request order, later frames held until it is done. */
  private onSaslFrame(frame: Buffer, started: bigint): void {
    const sasl = this.sasl!;
    const slot: Slot = { done: false, response: null };
    this.queue.push(slot);
    this.saslBusy = true;
    // read no more while the SASL server works (as Kafka mutes the channel): frames pipelined
    // behind a login, above all a failing one, would otherwise pile up in `held` unbounded
    this.socket.pause();
    const finish = () => {
      this.saslBusy = false;
      while (!this.saslBusy && !this.closed && this.held.length > 0) this.onFrame(this.held.shift()!);
      if (!this.saslBusy && !this.paused && !this.closed) this.socket.resume();
    };
    const wasAuthenticated = sasl.authenticated;
    sasl.onFrame(frame).then(
      async (outcome: SaslOutcome) => {
        if (this.closed) return;
        if (outcome.kind === 'pass') {
          // ApiVersions before the handshake: the normal handler answers, in this slot's place
          this.queue.splice(this.queue.indexOf(slot), 1);
          this.onFrame(frame, true);
          finish();
          return;
        }
        if (outcome.kind === 'close') {
          this.fail(new ProtocolError(outcome.reason), 'request not allowed before SASL authentication');
          return;
        }
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        if (outcome.kind === 'fail') {
          // Kafka's connection.failed.authentication.delay.ms: the answer, then the close, wait
          await this.listener.authenticator!.delayFailure(this.state.closed);
          this.services.metrics.kafkaRequestDone(outcome.api, seconds(), { errorCode: outcome.errorCode });
          slot.response = outcome.bytes === null ? null : [outcome.bytes];
          slot.done = true;
          this.flushQueue();
          this.closeAfterWrite();
          return;
        }
        this.services.metrics.kafkaRequestDone(outcome.api, seconds(), { errorCode: outcome.errorCode });
        slot.response = [outcome.bytes];
        slot.done = true;
        if (!wasAuthenticated && sasl.authenticated) this.decoder.setMaxFrameBytes(this.services.config.socketRequestMaxBytes);
        this.flushQueue();
        finish();
      },
      (err: unknown) => {
        this.fail(err, 'malformed SASL request');
      },
    );
  }

  /** Ends the connection once what is written has left (a failed login's answer). */
  private closeAfterWrite(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private enqueueReady(response: Buffer[]): void {
    this.queue.push({ done: true, response });
    this.flushQueue();
  }

  private flushQueue(): void {
    // all ready responses go to the writer together (one writev on a plaintext socket)
    let ready: Buffer[] | null = null;
    while (this.queue.length > 0 && this.queue[0]!.done) {
      const slot = this.queue.shift()!;
      if (!slot.response || this.closed) continue;
      if (ready === null) ready = slot.response;
      else for (const segment of slot.response) ready.push(segment);
    }
    if (ready !== null) this.writer.write(ready);
    if (this.paused && this.queue.length < MAX_IN_FLIGHT / 2) {
      this.paused = false;
      if (!this.saslBusy) this.socket.resume();
    }
  }

  private fail(err: unknown, what: string): void {
    this.services.metrics.protocolErrors.inc();
    const message = err instanceof Error ? err.message : String(err);
    this.services.logger.warn({ conn: this.state.id, remote: this.state.remoteAddress, clientId: this.state.clientId, reason: message }, `${what}; closing connection`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }
}
