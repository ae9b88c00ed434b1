// The HTTP and gRPC doors with security on (issue #14 part 6): both over TLS, both
// authenticating SCRAM users by Basic credentials, both authorized by the same ACLs as the
// Kafka door. ACLs are created with Kafka's CreateAcls by a super user over SASL; the REST
// API (https with the test CA) and the typed gRPC client (https:// with the CA) then get 401 /
// UNAUTHENTICATED without or with wrong credentials, 403 / PERMISSION_DENIED with Kafka's
// error name without an ACL (and change nothing), and work once the ACL exists; DENY beats
// ALLOW, PREFIXED matches, lists hide what may not be described, super users bypass.

import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { KafkaConnection } from '../../test-kit/kafka-connection.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/agent/security/acl.js';
import { AdminClient, Consumer, Producer, StreamHouseError } from '../../src/grpc/client/index.js';
import { makeTestPki, type TestPki } from './certificates.js';

const PASSWORDS = { admin: 'door-admin-secret', alice: 'door-alice-secret', bob: 'door-bob-secret' } as const;
type User = keyof typeof PASSWORDS;

let pki: TestPki;
let broker: BrokerProcess;
let saslPort = 0;
let admin: KafkaConnection;

beforeAll(async () => {
  pki = await makeTestPki();
  saslPort = await freePort();
  broker = await startBrokerProcess({
    listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    args: [
      '--ssl-certificate-location', pki.serverCert, '--ssl-key-location', pki.serverKey, '--ssl-ca-location', pki.caPem,
      '--ssl-client-auth', 'requested', '--ssl-principal-mapping-rules', 'RULE:^CN=(.*?),.*$/$1/L,DEFAULT', '--ssl-reload-interval-ms', '300',
      '--http-tls', 'true', '--http-authentication', 'basic', '--grpc-tls', 'true', '--grpc-authentication', 'basic',
      '--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--super-users', 'User:admin',
    ],
    env: { STREAMHOUSE_ADD_SCRAM: Object.entries(PASSWORDS).map(([name, password]) => `SCRAM-SHA-256=[name=${name},password=${password}]`).join(';') },
  });
  admin = await KafkaConnection.connect('127.0.0.1', saslPort, 'door-admin', { sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: PASSWORDS.admin } });
}, 90_000);

afterAll(async () => {
  admin?.close();
  await broker?.cleanup();
  pki?.cleanup();
  const out = broker?.output() ?? '';
  for (const secret of Object.values(PASSWORDS)) expect(out).not.toContain(secret);
  expect(out).not.toContain('wrong-door-password');
});

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One HTTPS request to the broker's REST API, trusting only the test CA (with a client certificate when given). */
function rest(method: string, path: string, auth: string | undefined, body?: unknown, cert?: { cert: string; key: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: broker.httpPort,
        path,
        method,
        ca: readFileSync(pki.caPem),
        servername: 'localhost',
        ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
        agent: false,
        headers: { ...(auth ? { authorization: auth } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const as = (user: User) => basic(user, PASSWORDS[user]);

/** /metrics over HTTPS, without credentials (scrapers need none). */
async function metricsText(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: broker.httpPort, path: '/metrics', ca: readFileSync(pki.caPem), servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`/metrics: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function createAcl(resourceType: ResourceType, resourceName: string, patternType: PatternType, principal: string, operation: AclOperation, permission: AclPermission): Promise<void> {
  const res = await admin.request(30, 3, { creations: [{ resourceType, resourceName, resourcePatternType: patternType, principal, host: '*', operation, permissionType: permission }] });
  expect(res.results.map((r) => r.errorCode)).toEqual([0]);
}

async function highWatermark(topic: string): Promise<number> {
  const res = await admin.request(2, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  return Number(res.topics[0]!.partitions[0]!.offset);
}

function grpcOptions(user?: User, password?: string) {
  return {
    address: `https://localhost:${broker.grpcPort}`,
    caCertificates: readFileSync(pki.caPem),
    timeoutMs: 10_000,
    ...(user ? { credentials: { username: user, password: password ?? PASSWORDS[user] } } : {}),
  };
}

async function grpcError(p: Promise<unknown>): Promise<{ code: string; kafkaError: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StreamHouseError) return { code: e.codeName, kafkaError: e.kafkaError };
    throw e;
  }
  throw new Error('the call succeeded');
}

describe('the REST API with TLS, Basic credentials and ACLs', () => {
  it('authenticates SCRAM users, enforces the ACLs of the Kafka door, and keeps probes open', async () => {
    const topic = 'door-rest-orders';
    expect((await rest('POST', '/api/v1/topics', as('admin'), { name: topic, partitions: 1 })).status).toBe(201);

    const none = await rest('GET', '/api/v1/topics', undefined);
    expect([none.status, none.body.error_code, none.headers['www-authenticate']]).toEqual([401, 'AUTHENTICATION_REQUIRED', 'Basic realm="StreamHouse", charset="UTF-8"']);
    const wrong = await rest('GET', '/api/v1/topics', basic('alice', 'wrong-door-password'));
    expect([wrong.status, wrong.body.error_code]).toEqual([401, 'AUTHENTICATION_FAILED']);
    const unknown = await rest('GET', '/api/v1/topics', basic('mallory', 'wrong-door-password'));
    expect([unknown.status, unknown.body.error_code]).toEqual([401, 'AUTHENTICATION_FAILED']);
    // probes and scrapers need no credentials
    expect((await rest('GET', '/ready', undefined)).status).toBe(200);

    // alice has no ACL: the topic is hidden, describe and produce refused, nothing written
    expect((await rest('GET', '/api/v1/topics', as('alice'))).body).toEqual({ topics: [] });
    const describeDenied = await rest('GET', `/api/v1/topics/${topic}`, as('alice'));
    expect([describeDenied.status, describeDenied.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);
    // a topic that does not exist answers the same: no hint whether it does
    expect((await rest('GET', '/api/v1/topics/door-no-such-topic', as('alice'))).body.error_code).toBe('TOPIC_AUTHORIZATION_FAILED');
    const produceDenied = await rest('POST', '/api/v1/produce', as('alice'), { topic, value: 'refused' });
    expect([produceDenied.status, produceDenied.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);
    expect(await highWatermark(topic)).toBe(0);
    const createDenied = await rest('POST', '/api/v1/topics', as('alice'), { name: 'door-alice-made', partitions: 1 });
    expect([createDenied.status, createDenied.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);
    const agentsDenied = await rest('GET', '/api/v1/agents', as('alice'));
    expect([agentsDenied.status, agentsDenied.body.error_code]).toEqual([403, 'CLUSTER_AUTHORIZATION_FAILED']);

    // WRITE on the topic (LITERAL): produce works, and WRITE implies DESCRIBE
    await createAcl(ResourceType.TOPIC, topic, PatternType.LITERAL, 'User:alice', AclOperation.WRITE, AclPermission.ALLOW);
    await waitUntil('alice may produce', async () => (await rest('POST', '/api/v1/produce', as('alice'), { topic, value: 'first' })).status === 200, 5000);
    const second = await rest('POST', '/api/v1/produce', as('alice'), { topic, records: [{ value: 'second' }, { value: 'third' }] });
    expect(second.body).toEqual({ topic, offsets: [{ partition: 0, offset: 1 }, { partition: 0, offset: 2 }] });
    expect(((await rest('GET', '/api/v1/topics', as('alice'))).body.topics as Array<{ name: string }>).map((t) => t.name)).toEqual([topic]);
    // but no READ yet
    const readDenied = await rest('GET', `/api/v1/topics/${topic}/partitions/0/records?offset=0`, as('alice'));
    expect([readDenied.status, readDenied.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);

    // READ on the prefix "door-rest-" (PREFIXED) for alice and bob; then DENY READ for bob on the topic wins
    await createAcl(ResourceType.TOPIC, 'door-rest-', PatternType.PREFIXED, 'User:alice', AclOperation.READ, AclPermission.ALLOW);
    await createAcl(ResourceType.TOPIC, 'door-rest-', PatternType.PREFIXED, 'User:bob', AclOperation.READ, AclPermission.ALLOW);
    await createAcl(ResourceType.TOPIC, topic, PatternType.LITERAL, 'User:bob', AclOperation.READ, AclPermission.DENY);
    const readPath = `/api/v1/topics/${topic}/partitions/0/records?offset=0`;
    await waitUntil('alice may read', async () => (await rest('GET', readPath, as('alice'))).status === 200, 5000);
    const read = await rest('GET', readPath, as('alice'));
    expect((read.body.records as Array<{ offset: number; value: string }>).map((r) => [r.offset, r.value])).toEqual([[0, 'first'], [1, 'second'], [2, 'third']]);
    const bobRead = await rest('GET', readPath, as('bob'));
    expect([bobRead.status, bobRead.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);

    // groups: describe needs DESCRIBE on the group
    const groupDenied = await rest('GET', '/api/v1/groups/door-group', as('alice'));
    expect([groupDenied.status, groupDenied.body.error_code]).toEqual([403, 'GROUP_AUTHORIZATION_FAILED']);

    // the super user bypasses every ACL
    expect((await rest('GET', '/api/v1/agents', as('admin'))).status).toBe(200);
    expect((await rest('DELETE', `/api/v1/topics/${topic}`, as('alice'))).body.error_code).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await highWatermark(topic)).toBe(3);

    // audit: failed logins and denials counted; the log names principals, never passwords
    const metrics = await metricsText();
    expect(/^streamhouse_authentication_failures_total\{mechanism="BASIC",listener="http"\} (\d+)/m.exec(metrics)?.[1]).toBe('2');
    expect(Number(/^streamhouse_authorization_denials_total\{operation="WRITE",resource_type="TOPIC"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    const out = broker.output();
    expect(out).toMatch(/"mechanism":"BASIC".*"listener":"http".*authentication failed|authentication failed.*"mechanism":"BASIC"/);
    expect(out).toContain('authorization denied');
  });
});

describe('the typed gRPC client with TLS, credentials and ACLs', () => {
  it('authenticates, enforces the same ACLs, and keeps Health open', async () => {
    const topic = 'door-grpc-events';
    const superAdmin = new AdminClient(grpcOptions('admin'));
    await superAdmin.createTopic(topic, { partitions: 2 });

    expect(await grpcError(new AdminClient(grpcOptions()).listTopics())).toEqual({ code: 'UNAUTHENTICATED', kafkaError: 'AUTHENTICATION_REQUIRED' });
    expect((await grpcError(new AdminClient(grpcOptions('alice', 'wrong-door-password')).listTopics())).code).toBe('UNAUTHENTICATED');
    expect((await new AdminClient(grpcOptions()).health()).status).toBe('SERVING');

    const alice = new AdminClient(grpcOptions('alice'));
    expect((await alice.listTopics()).map((t) => t.name).filter((n) => n === topic)).toEqual([]);
    expect(await grpcError(alice.describeTopic(topic))).toEqual({ code: 'PERMISSION_DENIED', kafkaError: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(await grpcError(alice.listAgents())).toEqual({ code: 'PERMISSION_DENIED', kafkaError: 'CLUSTER_AUTHORIZATION_FAILED' });

    const refused = new Producer({ ...grpcOptions('alice'), retries: 0 });
    expect((await grpcError(refused.send({ topic, partition: 0, value: Buffer.from('refused') }))).kafkaError).toBe('TOPIC_AUTHORIZATION_FAILED');
    await refused.close().catch(() => undefined);
    expect((await superAdmin.describeTopic(topic)).partitions.map((p) => Number(p.highWatermark))).toEqual([0, 0]);

    // PREFIXED WRITE for alice on "door-grpc-": produce works
    await createAcl(ResourceType.TOPIC, 'door-grpc-', PatternType.PREFIXED, 'User:alice', AclOperation.WRITE, AclPermission.ALLOW);
    const producer = new Producer({ ...grpcOptions('alice'), retries: 0 });
    await waitUntil('alice may describe the topic', async () => (await alice.describeTopic(topic).then(() => true, () => false)), 5000);
    const sent = await Promise.all(['a', 'b', 'c'].map((v) => producer.send({ topic, partition: 1, value: Buffer.from(v) })));
    expect(sent.map((m) => [m.partition, Number(m.offset)])).toEqual([[1, 0], [1, 1], [1, 2]]);
    await producer.close();

    // reading needs READ on the topic; with it, the records come back exactly
    const noRead = new Consumer({ ...grpcOptions('alice'), assignment: [{ topic, partition: 1 }], offsetReset: 'earliest' });
    expect((await grpcError(noRead.poll(2000))).kafkaError).toBe('TOPIC_AUTHORIZATION_FAILED');
    await noRead.close().catch(() => undefined);
    await createAcl(ResourceType.TOPIC, topic, PatternType.LITERAL, 'User:alice', AclOperation.READ, AclPermission.ALLOW);
    await waitUntil('the READ ACL to be in force', async () => {
      const probe = new Consumer({ ...grpcOptions('alice'), assignment: [{ topic, partition: 1 }], offsetReset: 'earliest' });
      try {
        await probe.poll(500);
        return true;
      } catch {
        return false;
      } finally {
        await probe.close().catch(() => undefined);
      }
    }, 5000);
    const consumer = new Consumer({ ...grpcOptions('alice'), assignment: [{ topic, partition: 1 }], offsetReset: 'earliest' });
    const got: string[] = [];
    await waitUntil('the three records', async () => {
      for (const r of await consumer.poll(1000)) got.push(r.value!.toString());
      return got.length >= 3;
    }, 10_000);
    expect(got).toEqual(['a', 'b', 'c']);
    await consumer.close();

    // a plaintext client cannot talk to the TLS port
    expect((await grpcError(new AdminClient({ address: `http://127.0.0.1:${broker.grpcPort}`, timeoutMs: 3000 }).health())).code).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
    superAdmin.close();
    alice.close();
  });
});

describe('client certificates on the HTTP and gRPC doors', () => {
  it('HTTP (ssl.client.auth=requested): a verified certificate is its mapped principal; Basic credentials win over it', async () => {
    const topic = 'door-cert-topic';
    expect((await rest('POST', '/api/v1/topics', as('admin'), { name: topic, partitions: 1 })).status).toBe(201);
    const carol = await pki.client('carol', '/O=Door Test/CN=Carol');
    // the rule maps CN=Carol,O=Door Test to "carol" (lower case): no ACL yet
    const denied = await rest('GET', `/api/v1/topics/${topic}`, undefined, undefined, carol);
    expect([denied.status, denied.body.error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);
    await createAcl(ResourceType.TOPIC, topic, PatternType.LITERAL, 'User:carol', AclOperation.DESCRIBE, AclPermission.ALLOW);
    await waitUntil('carol may describe', async () => (await rest('GET', `/api/v1/topics/${topic}`, undefined, undefined, carol)).status === 200, 5000);
    // Basic credentials are taken over the certificate: alice may not describe this topic
    expect((await rest('GET', `/api/v1/topics/${topic}`, as('alice'), undefined, carol)).body.error_code).toBe('TOPIC_AUTHORIZATION_FAILED');
    // no certificate and no credentials: still 401
    expect((await rest('GET', `/api/v1/topics/${topic}`, undefined)).status).toBe(401);
  });

  it('gRPC (ssl.client.auth=required): the certificate is the principal; a client without one cannot connect', async () => {
    const dave = await pki.client('dave', '/O=Door Test/CN=Dave');
    const strict = await startBrokerProcess({
      args: [
        '--ssl-certificate-location', pki.serverCert, '--ssl-key-location', pki.serverKey, '--ssl-ca-location', pki.caPem,
        '--ssl-client-auth', 'required', '--ssl-principal-mapping-rules', 'RULE:^CN=(.*?),.*$/$1/L,DEFAULT',
        '--grpc-tls', 'true', '--grpc-authentication', 'basic',
        '--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--super-users', 'User:dave',
      ],
    });
    try {
      const base = { address: `https://localhost:${strict.grpcPort}`, caCertificates: readFileSync(pki.caPem), timeoutMs: 5000 };
      const asDave = new AdminClient({ ...base, clientCertificate: { cert: readFileSync(dave.cert), key: readFileSync(dave.key) } });
      // dave is a super user by his certificate alone: no password anywhere
      await asDave.createTopic('door-strict', { partitions: 1 });
      expect((await asDave.listTopics()).map((t) => t.name)).toContain('door-strict');
      asDave.close();
      const anonymous = new AdminClient(base);
      expect((await grpcError(anonymous.listTopics())).code).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
      anonymous.close();
    } finally {
      await strict.cleanup();
    }
  });
});

/** The subject of the certificate a new TLS connection to `port` is served (ALPN h2, as gRPC). */
function servedSubject(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.caPem), ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const subject = socket.getPeerX509Certificate()?.subject ?? '';
      socket.destroy();
      resolve(subject);
    });
    socket.on('error', reject);
  });
}

describe('certificate rotation on the HTTP and gRPC doors', () => {
  it('new connections get the new certificate without a restart, and calls keep working', async () => {
    expect(await servedSubject(broker.grpcPort)).not.toContain('Rotated');
    await pki.reissueServer('/CN=localhost/O=Rotated Door');
    await waitUntil('gRPC to serve the new certificate', async () => (await servedSubject(broker.grpcPort)).includes('O=Rotated Door'), 10_000);
    await waitUntil('HTTPS to serve the new certificate', async () => (await servedSubject(broker.httpPort)).includes('O=Rotated Door'), 10_000);
    const fresh = new AdminClient(grpcOptions('admin'));
    expect((await fresh.listTopics()).length).toBeGreaterThan(0);
    fresh.close();
    expect((await rest('GET', '/api/v1/topics', as('admin'))).status).toBe(200);
  });
});
