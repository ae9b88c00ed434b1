import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtValidator } from './jwt-validator.js';
import { isOAuthBearerErrorAck, parseOAuthBearerMessage } from './oauthbearer.js';

const message = (text: string) => Buffer.from(text, 'utf8');

describe('parseOAuthBearerMessage (RFC 7628)', () => {
  it('takes the Bearer token of the auth pair, with or without an authzid and other pairs', () => {
    expect(parseOAuthBearerMessage(message('n,,\u0001auth=Bearer abc.def.ghi\u0001\u0001'))).toEqual({ token: 'abc.def.ghi' });
    expect(parseOAuthBearerMessage(message('n,a=svc,\u0001host=h\u0001auth=Bearer t1\u0001port=9\u0001\u0001'))).toEqual({ token: 't1', authzid: 'svc' });
    expect(parseOAuthBearerMessage(message('y,,\u0001auth=bearer   t2\u0001\u0001'))).toEqual({ token: 't2' });
  });

  it('refuses what is not a well-formed initial response', () => {
    for (const bad of ['', 'n,,', 'x,,\u0001auth=Bearer t\u0001\u0001', 'p=tls-unique,,\u0001auth=Bearer t\u0001\u0001', 'n,,\u0001auth=Bearer t\u0001', 'n,,\u0001host=h\u0001\u0001', 'n,,\u0001auth=Basic dXNlcg==\u0001\u0001', 'n,,\u0001=x\u0001\u0001']) {
      expect(parseOAuthBearerMessage(message(bad)), JSON.stringify(bad)).toHaveProperty('error');
    }
    expect(isOAuthBearerErrorAck(Buffer.from([1]))).toBe(true);
    expect(isOAuthBearerErrorAck(Buffer.from([1, 1]))).toBe(false);
  });
});

describe('JwtValidator', () => {
  let server: Server;
  let url: string;
  let key: CryptoKey;
  let strangerKey: CryptoKey;
  let jwksFetches = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      jwksFetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (claims: Record<string, unknown>, opts: { key?: CryptoKey; kid?: string; expSeconds?: number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1' })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expSeconds ?? 600))
      .sign(opts.key ?? key);

  it('accepts a token of the JWKS with the expected issuer and audience; the principal is the sub claim', async () => {
    const v = new JwtValidator({ jwksEndpointUrl: url, jwksRefreshMs: 60_000, subClaimName: 'sub', clockSkewSeconds: 30, expectedIssuer: 'https://idp.test', expectedAudience: ['kafka', 'other'] });
    const token = await sign({ sub: 'svc-orders', iss: 'https://idp.test', aud: 'kafka' }, { expSeconds: 300 });
    const verdict = await v.validate(token);
    expect(verdict).toMatchObject({ principalName: 'svc-orders' });
    expect('expiresAtMs' in verdict && Math.abs(verdict.expiresAtMs - (Date.now() + 300_000)) < 2000).toBe(true);
    // keys are cached: a second token does not fetch the JWKS again
    const before = jwksFetches;
    await v.validate(await sign({ sub: 'svc-2', iss: 'https://idp.test', aud: 'other' }));
    expect(jwksFetches).toBe(before);
  });

  it('refuses expired, wrongly addressed, foreign and malformed tokens with a reason that holds no token', async () => {
    const v = new JwtValidator({ jwksEndpointUrl: url, jwksRefreshMs: 60_000, subClaimName: 'sub', clockSkewSeconds: 5, expectedIssuer: 'https://idp.test', expectedAudience: ['kafka'] });
    const good = { sub: 's', iss: 'https://idp.test', aud: 'kafka' };
    const cases: Array<[string, Promise<string>]> = [
      ['token expired', sign(good, { expSeconds: -60 })],
      ['token claim iss is not acceptable', sign({ ...good, iss: 'https://evil.test' })],
      ['token claim aud is not acceptable', sign({ ...good, aud: 'billing' })],
      ['token signature does not verify', sign(good, { key: strangerKey })],
      ['token signed by a key the JWKS does not hold', sign(good, { kid: 'k2' })],
      ['token has no sub claim', sign({ iss: 'https://idp.test', aud: 'kafka' })],
      ['token is not a valid JWT', Promise.resolve('not-a-jwt')],
    ];
    for (const [reason, token] of cases) {
      const t = await token;
      const verdict = await v.validate(t);
      expect(verdict, reason).toEqual({ reason });
    }
    // a claim other than sub names the principal when configured
    const byEmail = new JwtValidator({ jwksEndpointUrl: url, jwksRefreshMs: 60_000, subClaimName: 'email', clockSkewSeconds: 5 });
    expect(await byEmail.validate(await sign({ sub: 's', email: 'ops@example.test' }))).toMatchObject({ principalName: 'ops@example.test' });
  });
});
