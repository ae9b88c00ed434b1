// The Kafka side of SASL on one connection of a SASL listener (docs/security.md), following
// Kafka 3.9's server authenticator: before a login only ApiVersions and SaslHandshake are
// accepted, then SaslAuthenticate (handshake v1+) or raw length-prefixed tokens (handshake
// v0, as kafka-python speaks it) until the mechanism completes. Anything else closes the
// connection. A failed login is answered after connection.failed.authentication.delay.ms
// and the connection closed. Re-authentication (KIP-368): a client that used
// SaslAuthenticate v1+ may send SaslHandshake again on an authenticated connection, with
// the same mechanism, and must log in as the same principal. The mechanisms themselves
// (PLAIN, SCRAM) and the session live in the agent core (src/agent/security).

import { apiName, decodeRequestBody, encodeResponse, requestHeaderVersion, ApiKey } from '../protocol/api-codec.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { decodeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/primitives/reader.js';
import type { Authenticator, SaslExchange } from '../agent/security/authenticator.js';
import { principalToString, samePrincipal } from '../agent/security/principal.js';
import type { ConnectionState } from './handler.js';

/** Kafka's sasl.server.max.receive.size: the largest frame accepted before authentication. */
export const SASL_MAX_RECEIVE_BYTES = 524288;

const HANDSHAKE_VERSIONS = [0, 1] as const;
const AUTHENTICATE_VERSIONS = [0, 2] as const;

/** What the connection does with a frame the SASL server took. */
export type SaslOutcome =
  /** Not for the SASL server: dispatch as a normal request (ApiVersions before the handshake). */
  | { readonly kind: 'pass' }
  | { readonly kind: 'respond'; readonly bytes: Buffer; readonly api: string; readonly errorCode: number }
  /** A failed login: wait the failure delay, write `bytes` (if any), close. */
  | { readonly kind: 'fail'; readonly bytes: Buffer | null; readonly api: string; readonly errorCode: number }
  /** A request that has no place here: close without an answer, as Kafka does. */
  | { readonly kind: 'close'; readonly reason: string };

type Phase = 'handshake' | 'authenticate' | 'raw' | 'complete' | 'failed';

function rawToken(token: Buffer): Buffer {
  const out = Buffer.alloc(4 + token.length);
  out.writeInt32BE(token.length, 0);
  token.copy(out, 4);
  return out;
}

export class SaslServer {
  private phase: Phase = 'handshake';
  private exchange: SaslExchange | undefined;
  /** The mechanism of the completed login (re-authentication must keep it). */
  private mechanism: string | undefined;
  private reauthenticating = false;
  private badReauthMechanism: string | undefined;
  private supportsReauth = false;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly state: ConnectionState,
    private readonly listenerName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True once a login completed (and while re-authenticating: the old session holds). */
  get authenticated(): boolean {
    return this.state.session !== null && this.state.session !== undefined;
  }

  /** Whether the next frame belongs to the SASL server rather than the request handlers. */
  claims(apiKey: number | undefined): boolean {
    if (this.phase !== 'complete') return true;
    return apiKey === ApiKey.SaslHandshake && this.supportsReauth;
  }

  /** Frames of the SASL exchange are raw tokens, not requests (after a v0 handshake). */
  get rawTokens(): boolean {
    return this.phase === 'raw';
  }

  async onFrame(frame: Buffer): Promise<SaslOutcome> {
    if (this.phase === 'raw') return this.onRawToken(frame);
    if (this.phase === 'failed') return { kind: 'close', reason: 'authentication already failed' };
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    if (this.phase === 'handshake' || this.phase === 'complete') {
      if (apiKey === ApiKey.ApiVersions && this.phase === 'handshake') return { kind: 'pass' };
      if (apiKey !== ApiKey.SaslHandshake) return this.unexpected(`Unexpected Kafka request of type ${apiName(apiKey)} during SASL handshake`);
      if (apiVersion < HANDSHAKE_VERSIONS[0] || apiVersion > HANDSHAKE_VERSIONS[1]) return this.unexpected(`SaslHandshake v${apiVersion} is not supported`);
      const request = this.decode(ApiKey.SaslHandshake, apiVersion, frame);
      const reauth = this.phase === 'complete';
      const mechanisms = [...this.authenticator.enabledMechanisms];
      const exchange = this.authenticator.start(request.mechanism);
      const respond = (errorCode: number) => encodeResponse(ApiKey.SaslHandshake, apiVersion, correlationId, { errorCode, mechanisms });
      if (exchange === undefined) {
        this.phase = 'failed';
        // the client's mechanism name is not a label: it would let clients create series
        this.authenticator.failed({ mechanism: 'unsupported', listener: this.listenerName, client: this.state.remoteAddress, reason: `unsupported SASL mechanism (enabled: ${mechanisms.join(', ')})` });
        return { kind: 'fail', bytes: respond(ErrorCode.UNSUPPORTED_SASL_MECHANISM), api: 'SaslHandshake', errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM };
      }
      if (reauth && apiVersion === 0) return this.unexpected('re-authentication needs SaslHandshake v1');
      this.exchange = exchange;
      this.reauthenticating = reauth;
      this.badReauthMechanism = reauth && request.mechanism !== this.mechanism ? request.mechanism : undefined;
      this.phase = apiVersion >= 1 ? 'authenticate' : 'raw';
      return { kind: 'respond', bytes: respond(ErrorCode.NONE), api: 'SaslHandshake', errorCode: ErrorCode.NONE };
    }
    // phase 'authenticate': only SaslAuthenticate
    if (apiKey === ApiKey.SaslHandshake && apiVersion >= HANDSHAKE_VERSIONS[0] && apiVersion <= HANDSHAKE_VERSIONS[1]) {
      this.phase = 'failed';
      const bytes = encodeResponse(ApiKey.SaslHandshake, apiVersion, correlationId, { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [...this.authenticator.enabledMechanisms] });
      this.authenticator.failed({ mechanism: this.exchange!.mechanism, listener: this.listenerName, client: this.state.remoteAddress, reason: 'SaslHandshake during SASL authentication' });
      return { kind: 'fail', bytes, api: 'SaslHandshake', errorCode: ErrorCode.ILLEGAL_SASL_STATE };
    }
    if (apiKey !== ApiKey.SaslAuthenticate) return this.unexpected(`Unexpected Kafka request of type ${apiName(apiKey)} during SASL authentication`);
    if (apiVersion < AUTHENTICATE_VERSIONS[0] || apiVersion > AUTHENTICATE_VERSIONS[1]) return this.unexpected(`SaslAuthenticate v${apiVersion} is not supported`);
    const request = this.decode(ApiKey.SaslAuthenticate, apiVersion, frame);
    if (apiVersion > 0) this.supportsReauth = true;
    const exchange = this.exchange!;
    const failure = (user: string | undefined, reason: string, message: string): SaslOutcome => {
      this.phase = 'failed';
      this.authenticator.failed({ mechanism: exchange.mechanism, listener: this.listenerName, client: this.state.remoteAddress, ...(user !== undefined ? { user } : {}), reason });
      const bytes = encodeResponse(ApiKey.SaslAuthenticate, apiVersion, correlationId, { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n });
      return { kind: 'fail', bytes, api: 'SaslAuthenticate', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED };
    };
    if (this.badReauthMechanism !== undefined) {
      return failure(undefined, 'mechanism changed on re-authentication', `SASL mechanism '${this.badReauthMechanism}' requested by client is not supported for re-authentication of mechanism '${this.mechanism}'`);
    }
    const step = await exchange.step(request.authBytes);
    const what = this.reauthenticating ? 're-authentication' : 'authentication';
    if (step.kind === 'failed') return failure(step.user, step.reason, `Authentication failed during ${what} due to invalid credentials with SASL mechanism ${exchange.mechanism}`);
    let lifetimeMs = 0n;
    if (step.kind === 'done') {
      const previous = this.state.session;
      if (this.reauthenticating && previous && !samePrincipal(previous.principal, step.principal)) {
        return failure(step.principal.name, 'principal changed on re-authentication', `Cannot change principals during re-authentication from ${principalToString(previous.principal)}: ${principalToString(step.principal)}`);
      }
      const session = this.authenticator.session(step.principal, exchange.mechanism, step.credentialExpiresAtMs);
      this.complete(session, exchange.mechanism);
      if (session.expiresAtMs !== undefined) lifetimeMs = BigInt(Math.max(0, session.expiresAtMs - this.now()));
    }
    const bytes = encodeResponse(ApiKey.SaslAuthenticate, apiVersion, correlationId, { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: lifetimeMs });
    return { kind: 'respond', bytes, api: 'SaslAuthenticate', errorCode: ErrorCode.NONE };
  }

  private async onRawToken(token: Buffer): Promise<SaslOutcome> {
    const exchange = this.exchange!;
    const step = await exchange.step(token);
    if (step.kind === 'failed') {
      this.phase = 'failed';
      this.authenticator.failed({ mechanism: exchange.mechanism, listener: this.listenerName, client: this.state.remoteAddress, ...(step.user !== undefined ? { user: step.user } : {}), reason: step.reason });
      // the v0 exchange has no error response: the connection is closed
      return { kind: 'fail', bytes: null, api: 'SaslAuthenticate', errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED };
    }
    if (step.kind === 'done') this.complete(this.authenticator.session(step.principal, exchange.mechanism, step.credentialExpiresAtMs), exchange.mechanism);
    return { kind: 'respond', bytes: rawToken(step.response), api: 'SaslAuthenticate', errorCode: ErrorCode.NONE };
  }

  private complete(session: NonNullable<ConnectionState['session']>, mechanism: string): void {
    this.state.session = session;
    this.mechanism = mechanism;
    this.phase = 'complete';
    this.exchange = undefined;
    this.reauthenticating = false;
  }

  private unexpected(reason: string): SaslOutcome {
    this.phase = 'failed';
    return { kind: 'close', reason };
  }

  private decode<K extends typeof ApiKey.SaslHandshake | typeof ApiKey.SaslAuthenticate>(apiKey: K, apiVersion: number, frame: Buffer) {
    const reader = new Reader(frame);
    const header = decodeRequestHeader(reader, requestHeaderVersion(apiKey, apiVersion));
    if (header.clientId !== null) this.state.clientId = header.clientId;
    return decodeRequestBody(apiKey, apiVersion, reader);
  }
}
