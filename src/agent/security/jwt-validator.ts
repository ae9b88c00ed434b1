// Validation of OAUTHBEARER tokens (docs/security.md), Kafka's `sasl.oauthbearer.*` settings:
// a JWT signed by a key of the configured JWKS (fetched over HTTP(S), refreshed, and fetched
// again when a token names an unknown key id), within its exp/nbf give or take the clock skew,
// with the expected issuer and audience when set. The principal is the configured claim
// (sub by default). Reasons never include the token.

import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

export interface OAuthBearerConfig {
  /** sasl.oauthbearer.jwks.endpoint.url */
  readonly jwksEndpointUrl: string;
  /** sasl.oauthbearer.jwks.endpoint.refresh.ms: how long fetched keys are trusted before fetching again. */
  readonly jwksRefreshMs: number;
  /** sasl.oauthbearer.expected.issuer */
  readonly expectedIssuer?: string;
  /** sasl.oauthbearer.expected.audience: the token's aud must name one of them. */
  readonly expectedAudience?: readonly string[];
  /** sasl.oauthbearer.sub.claim.name */
  readonly subClaimName: string;
  /** sasl.oauthbearer.clock.skew.seconds */
  readonly clockSkewSeconds: number;
}

export type JwtVerdict = { readonly principalName: string; readonly expiresAtMs: number } | { readonly reason: string };

export class JwtValidator {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly cfg: OAuthBearerConfig) {
    // cooldown: a token with an unknown kid refetches at most this often
    this.keys = createRemoteJWKSet(new URL(cfg.jwksEndpointUrl), { cacheMaxAge: cfg.jwksRefreshMs, cooldownDuration: 5_000, timeoutDuration: 5_000 });
  }

  async validate(token: string): Promise<JwtVerdict> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        clockTolerance: this.cfg.clockSkewSeconds,
        requiredClaims: ['exp'],
        ...(this.cfg.expectedIssuer !== undefined ? { issuer: this.cfg.expectedIssuer } : {}),
        ...(this.cfg.expectedAudience !== undefined ? { audience: [...this.cfg.expectedAudience] } : {}),
      }));
    } catch (err) {
      return { reason: reasonOf(err) };
    }
    const name = payload[this.cfg.subClaimName];
    if (typeof name !== 'string' || name === '') return { reason: `token has no ${this.cfg.subClaimName} claim` };
    return { principalName: name, expiresAtMs: payload.exp! * 1000 };
  }
}

/** A fixed description of why jose refused a token (its messages do not carry the token). */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `token claim ${err.claim} is not acceptable`;
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by a key the JWKS does not hold';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (err instanceof errors.JWKSTimeout) return 'JWKS endpoint did not answer';
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return 'token is not a valid JWT';
  if (err instanceof errors.JOSEError) return `token refused (${err.code})`;
  return 'JWKS endpoint could not be read';
}
