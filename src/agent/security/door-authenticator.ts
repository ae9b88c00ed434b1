// Who a request of the HTTP or gRPC door is (docs/security.md): with authentication `basic`,
// the user and password of an `Authorization: Basic` header, checked against the SCRAM users
// of the metadata store (the ones Kafka clients log in with); with `none`, ANONYMOUS as on a
// PLAINTEXT Kafka listener. Doors only read the header and map the verdict to their status
// codes. A check costs a PBKDF2 run, so a verified password is remembered for a short while
// under a hash of the credentials (never the password itself); failures are never cached.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Authenticator } from './authenticator.js';
import { hostOfAddress, type Requester } from './authorizer.js';
import { ANONYMOUS, type KafkaPrincipal } from './principal.js';

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

export class DoorAuthenticator {
  private readonly verified = new LRUCache<string, KafkaPrincipal>({ max: 10_000, ttl: VERIFIED_PASSWORD_TTL_MS });

  constructor(
    private readonly authenticator: Authenticator,
    readonly mode: DoorAuthenticationMode,
    /** The door's name in audit lines and the failure metric's listener label: http or grpc. */
    private readonly door: 'http' | 'grpc',
  ) {}

  /** The requester of a request with this Authorization value (undefined: none sent) from `client` (host:port). */
  async authenticate(authorization: string | undefined, client: string): Promise<DoorVerdict> {
    const requester = (principal: KafkaPrincipal): DoorVerdict => ({ ok: true, requester: { principal, host: hostOfAddress(client), client } });
    if (this.mode === 'none') return requester(ANONYMOUS);
    if (authorization === undefined || authorization === '') return { ok: false, problem: 'missing', message: 'authentication required: send Basic credentials of a StreamHouse (SCRAM) user' };
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

  private async fail(client: string, user: string | undefined, reason: string): Promise<DoorVerdict> {
    this.authenticator.failed({ mechanism: 'BASIC', listener: this.door, client, ...(user !== undefined ? { user } : {}), reason });
    // as a Kafka listener does: the answer to a failed login waits
    await this.authenticator.delayFailure();
    return { ok: false, problem: 'failed', message: 'authentication failed: invalid credentials' };
  }
}
