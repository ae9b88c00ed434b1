// Who a request of the HTTP or gRPC door is (docs/security.md): the user and password of an
// `Authorization: Basic` header, checked against the SCRAM users of the metadata store (the
// ones Kafka clients log in with); else the subject of a verified TLS client certificate
// (ssl.client.auth on the door), mapped by ssl.principal.mapping.rules as on an SSL listener;
// else, with authentication `none`, ANONYMOUS as on a PLAINTEXT listener (`basic` refuses).
// Doors only read the header and certificate and map the verdict to their status codes. A check costs a PBKDF2 run, so a verified password is remembered for a short while
// under a hash of the credentials (never the password itself); failures are never cached.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Authenticator } from './authenticator.js';
import { mapDistinguishedName, parseMappingRules, rfc2253FromNodeSubject, type MappingRule } from './ssl-principal-mapper.js';
import { hostOfAddress, type Requester } from './authorizer.js';
import { ANONYMOUS, userPrincipal, type KafkaPrincipal } from './principal.js';

export const DOOR_AUTHENTICATION_MODES = ['none', 'basic'] as const;
export type DoorAuthenticationMode = (typeof DOOR_AUTHENTICATION_MODES)[number];

/** How long a verified password is trusted without a new check (a changed password takes effect after it). */
export const VERIFIED_PASSWORD_TTL_MS = 30_000;

export type DoorVerdict =
  | { readonly ok: true; readonly requester: Requester }
  /** `missing`: no credentials where they are required; `failed`: wrong or malformed ones. */
  | { readonly ok: false; readonly problem: 'missing' | 'failed'; readonly message: string };

/** The user and password of an `Authorization: Basic <base64(user:password)>` value, or why not. */
export function parseBasicAuthorization(header: string): { readonly user: string; readonly password: string } | { readonly error: string } {
  const m = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return { error: 'the Authorization header is not Basic credentials' };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { error: 'Basic credentials must be user:password with a user name' };
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A TLS client certificate the door received: its subject as Node prints it, and whether it verified. */
export interface ClientCertificate {
  readonly subject: string;
  readonly verified: boolean;
  readonly error?: string;
}

export class DoorAuthenticator {
  private readonly verified = new LRUCache<string, KafkaPrincipal>({ max: 10_000, ttl: VERIFIED_PASSWORD_TTL_MS });
  private readonly rules: MappingRule[];

  constructor(
    private readonly authenticator: Authenticator,
    readonly mode: DoorAuthenticationMode,
    /** The door's name in audit lines and the failure metric's listener label: http or grpc. */
    private readonly door: 'http' | 'grpc',
    /** ssl.principal.mapping.rules for client certificates. */
    mappingRules = 'DEFAULT',
  ) {
    this.rules = parseMappingRules(mappingRules);
  }

  /**
   * The requester of a request with this Authorization value (undefined: none sent) and
   * client certificate (undefined: none) from `client` (host:port).
   */
  async authenticate(authorization: string | undefined, client: string, certificate?: ClientCertificate): Promise<DoorVerdict> {
    const requester = (principal: KafkaPrincipal): DoorVerdict => ({ ok: true, requester: { principal, host: hostOfAddress(client), client } });
    const sentCredentials = authorization !== undefined && authorization !== '';
    if (!sentCredentials && certificate !== undefined) {
      if (!certificate.verified) return this.fail(client, undefined, `client certificate not trusted: ${certificate.error ?? 'unverified'}`, 'SSL');
      const dn = rfc2253FromNodeSubject(certificate.subject);
      const name = mapDistinguishedName(this.rules, dn);
      if (name === undefined) return this.fail(client, undefined, `no ssl.principal.mapping.rules rule applies to ${dn}`, 'SSL');
      return requester(userPrincipal(name));
    }
    if (this.mode === 'none') return requester(ANONYMOUS);
    if (authorization === undefined || authorization === '') return { ok: false, problem: 'missing', message: 'authentication required: send Basic credentials of a StreamHouse (SCRAM) user, or a client certificate' };
    const parsed = parseBasicAuthorization(authorization);
    if ('error' in parsed) return this.fail(client, undefined, parsed.error);
    const key = createHash('sha256').update(parsed.user).update('\u0000').update(parsed.password).digest('base64');
    const known = this.verified.get(key);
    if (known) return requester(known);
    const verdict = await this.authenticator.verifyPassword(parsed.user, parsed.password);
    if ('reason' in verdict) return this.fail(client, parsed.user, verdict.reason);
    this.verified.set(key, verdict.principal);
    return requester(verdict.principal);
  }

  private async fail(client: string, user: string | undefined, reason: string, mechanism: 'BASIC' | 'SSL' = 'BASIC'): Promise<DoorVerdict> {
    this.authenticator.failed({ mechanism, listener: this.door, client, ...(user !== undefined ? { user } : {}), reason });
    // as a Kafka listener does: the answer to a failed login waits
    await this.authenticator.delayFailure();
    return { ok: false, problem: 'failed', message: 'authentication failed: invalid credentials' };
  }
}
