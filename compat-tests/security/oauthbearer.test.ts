// SASL OAUTHBEARER (issue #14 part 3): JWTs checked against a JWKS served over HTTP by this
// test (keys made with jose at test time), with the expected issuer and audience. kafkajs and
// confluent-kafka (librdkafka, oauth_cb) log in with tokens; the principal is the token's
// sub (a super user may do anything, another principal is refused by the ACLs); bad tokens
// get RFC 7628's error challenge, then SASL_AUTHENTICATION_FAILED and a closed connection;
// the session lasts until the token expires when re-authentication is on (KIP-368).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { ApiKey } from '../../src/protocol/api-codec.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { SecureTestClient } from './sasl-client.js';

const ISSUER = 'https://idp.streamhouse.test';
const AUDIENCE = 'streamhouse-kafka';

let jwks: Server;
let key: CryptoKey;
let stranger: CryptoKey;
let broker: BrokerProcess;
let saslPort = 0;
const issued: string[] = [];

async function token(sub: string, opts: { expSeconds?: number; iss?: string; aud?: string; key?: CryptoKey } = {}): Promise<string> {
  const t = await new SignJWT({ sub })
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expSeconds ?? 300))
    .sign(opts.key ?? key);
  issued.push(t);
  return t;
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  stranger = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  saslPort = await freePort();
  broker = await startBrokerProcess({
    listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    args: [
      '--sasl-enabled-mechanisms', 'OAUTHBEARER,SCRAM-SHA-512',
      '--sasl-oauthbearer-jwks-endpoint-url', `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
      '--sasl-oauthbearer-expected-issuer', ISSUER, '--sasl-oauthbearer-expected-audience', `other-service,${AUDIENCE}`,
      '--connections-max-reauth-ms', '600000',
      '--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--super-users', 'User:svc-admin',
    ],
  });
}, 90_000);

afterAll(async () => {
  await broker?.cleanup();
  await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
  // no token in anything the broker printed
  const out = broker?.output() ?? '';
  for (const t of issued) expect(out).not.toContain(t.split('.')[2]!);
});

function kafkaWith(tokenValue: string) {
  return new Kafka({
    brokers: [`127.0.0.1:${saslPort}`],
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: tokenValue }) },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
}

describe('OAUTHBEARER', () => {
  it('kafkajs and confluent-kafka log in with JWTs; the principal is the token subject', async () => {
    const admin = kafkaWith(await token('svc-admin'));
    const a = admin.admin();
    await a.connect();
    await a.createTopics({ topics: [{ topic: 'oauth-orders', numPartitions: 1 }], waitForLeaders: true });
    await a.disconnect();
    const producer = admin.producer();
    await producer.connect();
    const acks = await producer.send({ topic: 'oauth-orders', messages: ['a', 'b', 'c'].map((value) => ({ value, partition: 0 })) });
    expect(acks.map((r) => [r.partition, r.baseOffset])).toEqual([[0, '0']]);
    await producer.disconnect();

    // librdkafka hands the token over from oauth_cb
    const py = await runCommand(PYTHON, [new URL('./confluent-oauthbearer.py', import.meta.url).pathname, `127.0.0.1:${saslPort}`, 'oauth-orders', '2', '5'], { input: await token('svc-admin'), timeoutMs: 60_000 });
    expect(py.stderr).toBe('');
    expect(py.code).toBe(0);
    // it read from the start: kafkajs's three, then its own two
    expect(py.stdout.trim()).toBe('a,b,c,oauth-0,oauth-1');

    // another subject logs in, but the ACLs (none for it) refuse it
    const other = kafkaWith(await token('svc-other')).producer();
    await other.connect();
    await expect(other.send({ topic: 'oauth-orders', messages: [{ value: 'refused', partition: 0 }] })).rejects.toMatchObject({ cause: { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED } });
    await other.disconnect();
    // the audit line names the token's subject (the log is written asynchronously)
    await waitUntil('the audit line of the denial', () => /"principal":"User:svc-other".*authorization denied|authorization denied.*"principal":"User:svc-other"/.test(broker.output()), 5000);
  });

  it('bad tokens: the error challenge, then SASL_AUTHENTICATION_FAILED and the connection closed', async () => {
    const bad: Array<[string, Promise<string>]> = [
      ['expired', token('svc-admin', { expSeconds: -120 })],
      ['wrong issuer', token('svc-admin', { iss: 'https://evil.test' })],
      ['wrong audience', token('svc-admin', { aud: 'billing' })],
      ['foreign key', token('svc-admin', { key: stranger })],
      ['not a JWT', Promise.resolve('garbage.not.jwt')],
    ];
    for (const [what, t] of bad) {
      const c = await SecureTestClient.connect(saslPort);
      const hs = await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
      expect(hs.errorCode, what).toBe(ErrorCode.NONE);
      const first = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`n,,\u0001auth=Bearer ${await t}\u0001\u0001`) });
      expect([first.errorCode, first.authBytes.toString()], what).toEqual([ErrorCode.NONE, '{"status":"invalid_token"}']);
      const ack = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from([1]) });
      expect(ack.errorCode, what).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      await c.closed;
      expect(c.wasClosed).toBe(true);
    }
    // a malformed initial response fails at once
    const c = await SecureTestClient.connect(saslPort);
    await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    expect((await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('auth=Bearer x') })).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    await c.closed;
  });

  it('a session lasts until the token expires (connections.max.reauth.ms is longer)', async () => {
    const c = await SecureTestClient.connect(saslPort);
    await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    const res = await c.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from(`n,,\u0001auth=Bearer ${await token('svc-admin', { expSeconds: 90 })}\u0001\u0001`) });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    const lifetime = Number(res.sessionLifetimeMs);
    expect(lifetime).toBeGreaterThan(80_000);
    expect(lifetime).toBeLessThanOrEqual(90_000);
    c.close();
  });
});
