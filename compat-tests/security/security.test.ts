// Security on real sockets with real clients (docs/security.md): kcat (librdkafka) with
// SASL_SSL + SCRAM-SHA-512 and with mutual TLS, kafkajs with SASL PLAIN and SCRAM-SHA-256
// over TLS, kafka-python with SASL PLAIN, Kafka's errors for bad logins and requests before
// login, AlterUserScramCredentials then a login, certificate reload, re-authentication.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { ApiKey } from '../../src/protocol/api-codec.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { saltedPassword } from '../../src/agent/security/scram.js';
import { makeTestPki, type TestPki } from './certificates.js';
import { SecureTestClient } from './sasl-client.js';

const KCAT = '/usr/bin/kcat';
const SECRETS = ['alice-secret-512', 'bob-secret-256', 'admin-secret', 'dave-new-secret', 'wrong-password-xyz', 'frank-first-secret', 'frank-second-secret'];
const ADD_SCRAM = 'SCRAM-SHA-512=[name=alice,password=alice-secret-512];SCRAM-SHA-256=[name=bob,password=bob-secret-256];SCRAM-SHA-512=[name=admin,password=admin-secret]';

let pki: TestPki;
let broker: BrokerProcess;
const ports = { saslPlaintext: 0, saslSsl: 0, ssl: 0 };

async function metricValue(httpPort: number, mechanism: string, listener: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = new RegExp(`^streamhouse_authentication_failures_total\\{mechanism="${mechanism}",listener="${listener}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function kcat(args: string[], input?: string) {
  return runCommand(KCAT, args, { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
}

function topic(label: string): string {
  return `sec-${label}-${randomUUID().slice(0, 8)}`;
}

beforeAll(async () => {
  pki = await makeTestPki();
  ports.saslPlaintext = await freePort();
  ports.saslSsl = await freePort();
  ports.ssl = await freePort();
  broker = await startBrokerProcess({
    listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${ports.saslPlaintext},SASL_SSL://127.0.0.1:${ports.saslSsl},SSL://127.0.0.1:${ports.ssl}`,
    args: [
      '--ssl-certificate-location', pki.serverCert, '--ssl-key-location', pki.serverKey, '--ssl-ca-location', pki.caPem,
      '--ssl-client-auth', 'required', '--ssl-principal-mapping-rules', 'RULE:^CN=(.*?),.*$/$1/,DEFAULT',
      '--ssl-reload-interval-ms', '300', '--super-users', 'User:admin;User:alice',
    ],
    env: { STREAMHOUSE_ADD_SCRAM: ADD_SCRAM },
  });
}, 90_000);

afterAll(async () => {
  await broker?.cleanup();
  // no password, salted password or key in anything the broker printed
  const out = broker?.output() ?? '';
  for (const s of SECRETS) expect(out).not.toContain(s);
  pki?.cleanup();
});

describe('kcat (librdkafka)', () => {
  it('produces and consumes over SASL_SSL with SCRAM-SHA-512, and Metadata names the SASL_SSL listener', async () => {
    const t = topic('kcat-scram');
    const auth = ['-b', `127.0.0.1:${ports.saslSsl}`, '-X', 'security.protocol=SASL_SSL', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret-512', '-X', `ssl.ca.location=${pki.caPem}`];
    const produced = await kcat(['-P', '-t', t, ...auth], 'one\ntwo\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat(['-C', '-e', '-t', t, ...auth]);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two']);
    const listing = await kcat(['-L', '-J', ...auth]);
    const meta = JSON.parse(listing.stdout) as { brokers: Array<{ name: string }> };
    expect(meta.brokers.map((b) => b.name)).toEqual([`127.0.0.1:${ports.saslSsl}`]);
  });

  it('produces and consumes over mutual TLS with a client certificate', async () => {
    const cert = await pki.client('kcat-client', '/O=StreamHouse/CN=kcat-user');
    const t = topic('kcat-mtls');
    const tls = ['-b', `127.0.0.1:${ports.ssl}`, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${pki.caPem}`, '-X', `ssl.certificate.location=${cert.cert}`, '-X', `ssl.key.location=${cert.key}`];
    expect((await kcat(['-P', '-t', t, ...tls], 'm1\n')).code).toBe(0);
    expect((await kcat(['-C', '-e', '-t', t, ...tls])).stdout.trim()).toBe('m1');
    // without a certificate the TLS handshake is refused (ssl.client.auth=required)
    const before = await metricValue(broker.httpPort, 'SSL', 'SSL');
    const refused = await kcat(['-L', '-m', '5', '-b', `127.0.0.1:${ports.ssl}`, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${pki.caPem}`]);
    expect(refused.code).not.toBe(0);
    await expect.poll(() => metricValue(broker.httpPort, 'SSL', 'SSL')).toBeGreaterThan(before);
  });
});

describe('kafkajs', () => {
  for (const [mechanism, username, password] of [
    ['plain', 'bob', 'bob-secret-256'],
    ['scram-sha-256', 'bob', 'bob-secret-256'],
  ] as const) {
    it(`produces and consumes with SASL ${mechanism} over TLS`, async () => {
      const kafka = new Kafka({
        clientId: `sec-${mechanism}`,
        brokers: [`127.0.0.1:${ports.saslSsl}`],
        ssl: { ca: [readFileSync(pki.caPem, 'utf8')], servername: 'localhost' },
        sasl: mechanism === 'plain' ? { mechanism, username, password } : { mechanism, username, password },
        logLevel: logLevel.NOTHING,
      });
      const t = topic(`kjs-${mechanism}`);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: t, messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `g-${randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topic: t, fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${seen.join(',')} consumed`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(message.value?.toString() ?? '');
            if (seen.length === 2) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      await consumer.disconnect();
      expect(seen).toEqual(['a', 'b']);
    });
  }

  it('gets SASL_AUTHENTICATION_FAILED for a wrong password', async () => {
    const kafka = new Kafka({ brokers: [`127.0.0.1:${ports.saslSsl}`], ssl: { ca: [readFileSync(pki.caPem, 'utf8')], servername: 'localhost' }, sasl: { mechanism: 'scram-sha-256', username: 'bob', password: 'wrong-password-xyz' }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow(/SASL SCRAM SHA256 authentication failed|SASL_AUTHENTICATION_FAILED|Authentication failed/);
  });
});

describe('kafka-python', () => {
  it('produces and consumes with SASL PLAIN', async () => {
    const t = topic('python');
    const r = await runCommand(PYTHON, [new URL('./kafka-python-plain.py', import.meta.url).pathname, `127.0.0.1:${ports.saslPlaintext}`, t, 'bob', 'bob-secret-256'], { timeoutMs: 60_000 });
    expect(r.stdout.trim(), r.stderr).toBe('python-0,python-1,python-2');
  });
});

describe("Kafka's errors, and the broker stays up", () => {
  it('wrong password and unknown user: SASL_AUTHENTICATION_FAILED after the delay, then the connection closes', async () => {
    const before = await metricValue(broker.httpPort, 'SCRAM-SHA-512', 'SASL_PLAINTEXT');
    for (const [user, password] of [['alice', 'wrong-password-xyz'], ['nobody', 'wrong-password-xyz']] as const) {
      const c = await SecureTestClient.connect(ports.saslPlaintext);
      const started = Date.now();
      const r = await c.loginScram('SCRAM-SHA-512', user, password);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90); // connection.failed.authentication.delay.ms 100
      expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      expect(r.errorMessage).toBe('Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
      await c.closed;
    }
    const plain = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await plain.loginPlain('alice', 'wrong-password-xyz')).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    await plain.closed;
    expect(await metricValue(broker.httpPort, 'SCRAM-SHA-512', 'SASL_PLAINTEXT')).toBe(before + 2);
    expect(await metricValue(broker.httpPort, 'PLAIN', 'SASL_PLAINTEXT')).toBeGreaterThanOrEqual(1);
    // one log line per failure: principal, client address, mechanism; never the password
    await expect.poll(() => broker.output()).toContain('"User:nobody"');
    const lines = broker.output().split('\n').filter((l) => l.includes('"msg":"authentication failed"') && l.includes('"User:nobody"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"client":"127\.0\.0\.1:\d+".*"mechanism":"SCRAM-SHA-512"/);
  });

  it('an unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed', async () => {
    const c = await SecureTestClient.connect(ports.saslPlaintext);
    const r = await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    expect(r).toEqual({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    await c.closed;
  });

  it('requests before authentication: ApiVersions answered, anything else closes the connection', async () => {
    const c = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await c.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    await expect(c.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false })).rejects.toThrow(/closed/);
    // SaslAuthenticate before SaslHandshake: closed, as Kafka does
    const d = await SecureTestClient.connect(ports.saslPlaintext);
    await expect(d.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('x') })).rejects.toThrow(/closed/);
  });

  it('a second SaslHandshake during authentication, or SaslAuthenticate after it: ILLEGAL_SASL_STATE', async () => {
    const c = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    expect((await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    await c.closed;
    // on a PLAINTEXT listener (no SASL there) Kafka answers ILLEGAL_SASL_STATE and keeps the connection
    const p = await SecureTestClient.connect(broker.kafkaPort);
    expect((await p.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('x') })).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect((await p.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    p.close();
  });

  it('after all of it the broker still serves clients', async () => {
    const ok = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await ok.loginScram('SCRAM-SHA-256', 'bob', 'bob-secret-256')).errorCode).toBe(0);
    const meta = await ok.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false });
    expect(meta.brokers.map((b) => b.port)).toEqual([ports.saslPlaintext]);
    ok.close();
  });
});

describe('users', () => {
  it('AlterUserScramCredentials by a super user, then the new user logs in; Describe shows iterations only', async () => {
    const admin = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await admin.loginScram('SCRAM-SHA-512', 'admin', 'admin-secret')).errorCode).toBe(0);
    const salt = Buffer.from('a-client-chosen-salt');
    const salted = await saltedPassword('SCRAM-SHA-256', 'dave-new-secret', salt, 8192);
    const altered = await admin.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [{ name: 'ghost', mechanism: 1 }], upsertions: [{ name: 'dave', mechanism: 1, iterations: 8192, salt, saltedPassword: salted }, { name: 'erin', mechanism: 1, iterations: 10, salt, saltedPassword: salted }] });
    expect(altered.results.sort((a, b) => a.user.localeCompare(b.user))).toEqual([
      { user: 'dave', errorCode: 0, errorMessage: null },
      { user: 'erin', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' },
      { user: 'ghost', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' },
    ]);
    const described = await admin.request(ApiKey.DescribeUserScramCredentials, 0, { users: [{ name: 'dave' }, { name: 'nobody' }] });
    expect(described.results).toEqual([
      { user: 'dave', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 8192 }] },
      { user: 'nobody', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to describe a user credential that does not exist: nobody' },
    ].map((r) => ({ credentialInfos: [], ...r })));
    admin.close();
    const dave = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await dave.loginScram('SCRAM-SHA-256', 'dave', 'dave-new-secret')).errorCode).toBe(0);
    // dave is no super user: managing users is refused while super.users is set
    const denied = await dave.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [{ name: 'alice', mechanism: 2 }], upsertions: [] });
    expect(denied.results).toEqual([{ user: 'alice', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null }]);
    dave.close();
    const plain = await SecureTestClient.connect(ports.saslPlaintext);
    expect((await plain.loginPlain('dave', 'dave-new-secret')).errorCode).toBe(0);
    plain.close();
  });

  it('the client certificate gives the principal: CN=alice maps to User:alice, a super user', async () => {
    const alice = await pki.client('alice', '/C=US/O=StreamHouse/CN=alice');
    const eve = await pki.client('eve', '/C=US/O=StreamHouse/CN=eve');
    const asAlice = await SecureTestClient.connect(ports.ssl, { ca: readFileSync(pki.caPem), cert: readFileSync(alice.cert), key: readFileSync(alice.key) });
    expect((await asAlice.request(ApiKey.DescribeUserScramCredentials, 0, { users: null })).errorCode).toBe(0);
    asAlice.close();
    const asEve = await SecureTestClient.connect(ports.ssl, { ca: readFileSync(pki.caPem), cert: readFileSync(eve.cert), key: readFileSync(eve.key) });
    expect((await asEve.request(ApiKey.DescribeUserScramCredentials, 0, { users: null })).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    asEve.close();
    // openssl writes the subject most general first; RFC 2253 (and Kafka) reads it CN=eve,O=StreamHouse,C=US
    await expect.poll(() => broker.output()).toMatch(/"principal":"User:eve".*"msg":"denied: only super.users may manage SCRAM credentials"/);
  });
});

describe('TLS files', () => {
  it('a rotated certificate is served to new connections without a restart', async () => {
    const subjectOf = async () => {
      const c = await SecureTestClient.connect(ports.saslSsl, { ca: readFileSync(pki.caPem) });
      const s = (c as unknown as { socket: import('node:tls').TLSSocket }).socket.getPeerCertificate().subject;
      c.close();
      return s;
    };
    expect((await subjectOf()).O).toBeUndefined();
    await pki.reissueServer('/CN=localhost/O=Rotated');
    await expect.poll(async () => (await subjectOf()).O, { timeout: 10_000 }).toBe('Rotated');
    await expect.poll(() => broker.output()).toContain('TLS files changed');
  });
});

describe('re-authentication (KIP-368)', () => {
  let short: BrokerProcess;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    short = await startBrokerProcess({ listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${port}`, args: ['--connections-max-reauth-ms', '1500'], env: { STREAMHOUSE_ADD_SCRAM: ADD_SCRAM } });
  }, 60_000);
  afterAll(async () => {
    await short?.cleanup();
  });

  it('tells the session lifetime, accepts re-authentication, and closes a connection that let it expire', async () => {
    const c = await SecureTestClient.connect(port);
    const login = await c.loginScram('SCRAM-SHA-256', 'bob', 'bob-secret-256');
    expect(login.errorCode).toBe(0);
    expect(Number(login.sessionLifetimeMs)).toBeGreaterThan(1000);
    expect(Number(login.sessionLifetimeMs)).toBeLessThanOrEqual(1500);
    // re-authenticate on the same connection before it expires, then keep working past the first lifetime
    await new Promise((r) => setTimeout(r, 800));
    expect((await c.loginScram('SCRAM-SHA-256', 'bob', 'bob-secret-256')).errorCode).toBe(0);
    await new Promise((r) => setTimeout(r, 900));
    expect((await c.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false })).brokers).toHaveLength(1);
    // re-authenticating as somebody else is refused
    const other = await c.loginScram('SCRAM-SHA-512', 'alice', 'alice-secret-512').catch((e: Error) => e);
    expect(other instanceof Error ? other.message : other.errorCode).not.toBe(0);
    // a session left to expire: the next request closes the connection
    const d = await SecureTestClient.connect(port);
    expect((await d.loginPlain('bob', 'bob-secret-256')).errorCode).toBe(0);
    await new Promise((r) => setTimeout(r, 1700));
    await expect(d.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false })).rejects.toThrow(/closed/);
  });
});

describe('streamctl user', () => {
  const STREAMCTL = new URL('../../dist/cli/streamctl.js', import.meta.url).pathname;
  const streamctl = (args: string[], input?: string) =>
    runCommand(process.execPath, [STREAMCTL, 'user', '--bootstrap', `127.0.0.1:${ports.saslSsl}`, '--security-protocol', 'SASL_SSL', '--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', 'admin', '--ssl-ca-location', pki.caPem, ...args], {
      env: { STREAMCTL_SASL_PASSWORD: 'admin-secret' },
      timeoutMs: 30_000,
      ...(input !== undefined ? { input } : {}),
    });

  it('creates, lists, changes the password of and deletes a user; the user logs in with kcat in between', async () => {
    const created = await streamctl(['create', 'frank', '--mechanism', 'SCRAM-SHA-256', '--password-stdin'], 'frank-first-secret\n');
    expect(created.stdout.trim(), created.stderr).toBe('created user frank (SCRAM-SHA-256)');
    expect((await streamctl(['create', 'frank', '--mechanism', 'SCRAM-SHA-256', '--password-stdin'], 'x\n')).stderr).toContain('already has a SCRAM-SHA-256 credential');
    const listed = await streamctl(['list', '--json']);
    expect(JSON.parse(listed.stdout)).toContainEqual({ user: 'frank', mechanism: 'SCRAM-SHA-256', iterations: 4096 });
    const login = (password: string) => kcat(['-L', '-m', '5', '-b', `127.0.0.1:${ports.saslPlaintext}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', 'sasl.username=frank', '-X', `sasl.password=${password}`]);
    expect((await login('frank-first-secret')).code).toBe(0);
    expect((await streamctl(['passwd', 'frank', '--mechanism', 'SCRAM-SHA-256', '--password-stdin'], 'frank-second-secret\n')).code).toBe(0);
    expect((await login('frank-first-secret')).code).not.toBe(0);
    expect((await login('frank-second-secret')).code).toBe(0);
    expect((await streamctl(['delete', 'frank'])).stdout.trim()).toBe('deleted user frank (SCRAM-SHA-256)');
    expect((await streamctl(['delete', 'frank'])).stderr).toContain('does not exist');
    const wrongLogin = await runCommand(process.execPath, [STREAMCTL, 'user', '--bootstrap', `127.0.0.1:${ports.saslPlaintext}`, '--security-protocol', 'SASL_PLAINTEXT', '--sasl-username', 'admin', 'list'], { env: { STREAMCTL_SASL_PASSWORD: 'wrong-password-xyz' }, timeoutMs: 30_000 });
    expect(wrongLogin.code).toBe(1);
    expect(wrongLogin.stderr).toContain('SASL login as admin failed');
    expect(wrongLogin.stderr).not.toContain('wrong-password-xyz');
  });
});
