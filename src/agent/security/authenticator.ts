// Authentication in the agent core (docs/security.md): SASL mechanisms checked against the
// SCRAM credentials of the metadata store, the session a login opens (with its KIP-368
// lifetime), the delay on a failed login, and the audit of failures: one log line
// (principal, client address, mechanism, listener) and
// streamhouse_authentication_failures_total{mechanism,listener}. Nothing here logs or
// returns a password, a salted password or a key. Doors run the wire exchange.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { ScramCredential, ScramCredentialStore, ScramMechanismName } from '../../metadata/metadata-store.js';
import type { SecurityConfig } from '../config/security-config.js';
import { parsePlainMessage } from './plain.js';
import { principalToString, userPrincipal, type KafkaPrincipal, type SecuritySession } from './principal.js';
import { createScramCredential, isScramMechanism, passwordMatches, ScramServerExchange, SCRAM_MECHANISMS } from './scram.js';
import { JwtValidator } from './jwt-validator.js';
import { isOAuthBearerErrorAck, oauthBearerErrorChallenge, parseOAuthBearerMessage } from './oauthbearer.js';

export type SaslStep =
  | { readonly kind: 'continue'; readonly response: Buffer }
  /** `credentialExpiresAtMs`: when the credential itself ends (an OAUTHBEARER token's exp). */
  | { readonly kind: 'done'; readonly response: Buffer; readonly principal: KafkaPrincipal; readonly credentialExpiresAtMs?: number }
  | { readonly kind: 'failed'; readonly user: string | undefined; readonly reason: string };

/** One SASL exchange of one mechanism: tokens in, tokens out, until done or failed. */
export interface SaslExchange {
  readonly mechanism: string;
  step(token: Buffer): Promise<SaslStep>;
}

export interface AuthenticationFailure {
  readonly mechanism: string;
  readonly listener: string;
  /** The client address, host:port. */
  readonly client: string;
  /** The user the client claimed, when it got that far. */
  readonly user?: string;
  /** A fixed description of what failed; never a secret. */
  readonly reason: string;
}

export interface AuthenticatorOptions {
  readonly credentials: ScramCredentialStore;
  readonly config: SecurityConfig;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly now?: () => number;
}

/** A made-up credential that PLAIN logins of unknown users are checked against, so they cost as much. */
let decoy: Promise<ScramCredential> | undefined;

export class Authenticator {
  readonly enabledMechanisms: readonly string[];
  private readonly failures: Counter<'mechanism' | 'listener'>;
  private readonly now: () => number;
  private readonly jwt: JwtValidator | undefined;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.jwt = opts.config.oauthBearer ? new JwtValidator(opts.config.oauthBearer) : undefined;
    this.enabledMechanisms = opts.config.saslEnabledMechanisms;
    this.now = opts.now ?? Date.now;
    this.failures = new Counter({
      name: 'streamhouse_authentication_failures_total',
      help: 'Failed authentications (SASL logins and TLS client certificates), by mechanism and listener',
      labelNames: ['mechanism', 'listener'],
      registers: opts.registry ? [opts.registry] : [],
    });
  }

  get failedAuthenticationDelayMs(): number {
    return this.opts.config.failedAuthenticationDelayMs;
  }

  get maxReauthMs(): number {
    return this.opts.config.connectionsMaxReauthMs;
  }

  /** super.users, for the authorizer to come: whether the principal may do anything. */
  isSuperUser(principal: KafkaPrincipal): boolean {
    return this.opts.config.superUsers.some((p) => p.type === principal.type && p.name === principal.name);
  }

  isEnabled(mechanism: string): boolean {
    return this.enabledMechanisms.includes(mechanism);
  }

  /** An exchange of an enabled mechanism; undefined for any other. */
  start(mechanism: string): SaslExchange | undefined {
    if (!this.isEnabled(mechanism)) return undefined;
    if (mechanism === 'PLAIN') return this.plain();
    if (isScramMechanism(mechanism)) return this.scram(mechanism);
    if (mechanism === 'OAUTHBEARER' && this.jwt) return this.oauthBearer(this.jwt);
    return undefined;
  }

  /**
   * The session a completed login opens: with connections.max.reauth.ms set it expires after
   * that, or when its credential does (a token's exp) if sooner (KIP-368).
   */
  session(principal: KafkaPrincipal, mechanism: string | null, credentialExpiresAtMs?: number): SecuritySession {
    const at = this.now();
    const max = this.opts.config.connectionsMaxReauthMs;
    if (!(max > 0 && mechanism !== null && mechanism !== 'SSL')) return { principal, mechanism, authenticatedAtMs: at };
    return { principal, mechanism, authenticatedAtMs: at, expiresAtMs: Math.min(at + max, credentialExpiresAtMs ?? Number.POSITIVE_INFINITY) };
  }

  /** Logs the failure (one line) and counts it. */
  failed(f: AuthenticationFailure): void {
    this.failures.inc({ mechanism: f.mechanism, listener: f.listener });
    this.opts.logger.warn(
      { principal: f.user === undefined ? undefined : principalToString(userPrincipal(f.user)), client: f.client, mechanism: f.mechanism, listener: f.listener, reason: f.reason },
      'authentication failed',
    );
  }

  /** Waits connection.failed.authentication.delay.ms before a failure is answered. */
  async delayFailure(signal?: AbortSignal): Promise<void> {
    const ms = this.opts.config.failedAuthenticationDelayMs;
    if (ms > 0) await sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
  }

  /** Creates the --add-scram users that have no credential for the mechanism yet; returns those created. */
  async createBootstrapUsers(): Promise<string[]> {
    const created: string[] = [];
    for (const u of this.opts.config.bootstrapScramUsers) {
      const credential = await createScramCredential(u.name, u.mechanism, u.password, u.iterations);
      if (await this.opts.credentials.insertIfAbsent(credential)) created.push(`${u.mechanism}:${u.name}`);
    }
    return created;
  }

  /**
   * Checks a password against the user's strongest stored SCRAM credential (SASL PLAIN, and
   * the Basic credentials of the HTTP and gRPC doors): the principal, or why not. An unknown
   * user costs as much as a wrong password, so timing does not tell which it was.
   */
  async verifyPassword(user: string, password: string): Promise<{ readonly principal: KafkaPrincipal } | { readonly reason: string }> {
    let credential: ScramCredential | undefined;
    for (const m of [...SCRAM_MECHANISMS].reverse()) {
      credential = await this.opts.credentials.get(user, m);
      if (credential) break;
    }
    if (credential === undefined) {
      decoy ??= createScramCredential('', 'SCRAM-SHA-512', 'decoy');
      await passwordMatches(await decoy, password);
      return { reason: 'unknown user' };
    }
    if (!(await passwordMatches(credential, password))) return { reason: 'wrong password' };
    return { principal: userPrincipal(user) };
  }

  private plain(): SaslExchange {
    return {
      mechanism: 'PLAIN',
      step: async (token: Buffer): Promise<SaslStep> => {
        const parsed = parsePlainMessage(token);
        if ('error' in parsed) return { kind: 'failed', user: parsed.user, reason: parsed.error };
        const verdict = await this.verifyPassword(parsed.user, parsed.password);
        if ('reason' in verdict) return { kind: 'failed', user: parsed.user, reason: verdict.reason };
        return { kind: 'done', response: Buffer.alloc(0), principal: verdict.principal };
      },
    };
  }

  /** RFC 7628: one message with the token; a refusal is an error challenge, acknowledged, then a failure. */
  private oauthBearer(jwt: JwtValidator): SaslExchange {
    let refused: string | undefined;
    return {
      mechanism: 'OAUTHBEARER',
      async step(token: Buffer): Promise<SaslStep> {
        if (refused !== undefined) {
          return { kind: 'failed', user: undefined, reason: isOAuthBearerErrorAck(token) ? refused : `${refused}; then a message that is not the error acknowledgement` };
        }
        const parsed = parseOAuthBearerMessage(token);
        if ('error' in parsed) return { kind: 'failed', user: undefined, reason: parsed.error };
        const verdict = await jwt.validate(parsed.token);
        if ('reason' in verdict) {
          refused = verdict.reason;
          return { kind: 'continue', response: oauthBearerErrorChallenge() };
        }
        if (parsed.authzid !== undefined && parsed.authzid !== verdict.principalName) return { kind: 'failed', user: verdict.principalName, reason: 'an authorization id other than the token subject is not supported' };
        return { kind: 'done', response: Buffer.alloc(0), principal: userPrincipal(verdict.principalName), credentialExpiresAtMs: verdict.expiresAtMs };
      },
    };
  }

  private scram(mechanism: ScramMechanismName): SaslExchange {
    const exchange = new ScramServerExchange(mechanism, (user) => this.opts.credentials.get(user, mechanism));
    return {
      mechanism,
      async step(token: Buffer): Promise<SaslStep> {
        const r = await exchange.step(token);
        if (r.kind === 'continue') return r;
        if (r.kind === 'done') return { kind: 'done', response: r.response, principal: userPrincipal(r.user) };
        return { kind: 'failed', user: r.user, reason: r.reason };
      },
    };
  }
}
