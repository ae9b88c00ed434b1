// A secured 2-agent cluster (issue #14): the only Kafka listener is SASL_PLAINTEXT, the agents
// log in to each other on it as a SCRAM broker user that is a super user, ACLs are on, and the
// REST API takes Basic credentials. What one agent forwards to the other (REST records for
// partitions the other leads) is done as the broker user, after the first agent checked the
// client's own ACLs: a client with WRITE writes every partition, whichever agent leads it;
// one without is refused at the door and nothing is written anywhere.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaConnection } from '../../test-kit/kafka-connection.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/agent/security/acl.js';
import { RestApiClient } from '../http/rest-api-client.js';
import { startCluster, type Cluster } from './support.js';

const TOPIC = 'secured-orders';
const PARTITIONS = 6;
const USERS = { broker: 'broker-secret-9f2', admin: 'admin-secret-41c', alice: 'alice-secret-7d0', bob: 'bob-secret-c3a' } as const;
const basic = (user: keyof typeof USERS) => ({ authorization: `Basic ${Buffer.from(`${user}:${USERS[user]}`).toString('base64')}` });

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster('securedcluster', 2, () => ({
    listeners: 'SASL_PLAINTEXT://127.0.0.1:{port}',
    args: [
      '--inter-broker-sasl-username', 'broker',
      '--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--super-users', 'User:broker;User:admin',
      '--http-authentication', 'basic',
    ],
    env: {
      STREAMHOUSE_INTER_BROKER_SASL_PASSWORD: USERS.broker,
      STREAMHOUSE_ADD_SCRAM: Object.entries(USERS).map(([name, password]) => `SCRAM-SHA-512=[name=${name},password=${password}]`).join(';'),
    },
  }));
}, 120_000);

afterAll(async () => {
  const outputs = cluster?.agents.map((a) => a.output()).join('\n') ?? '';
  await cluster?.stop();
  for (const secret of Object.values(USERS)) expect(outputs).not.toContain(secret);
});

describe('a cluster whose agents log in to each other', () => {
  it('forwards REST writes between agents as the broker user, after the client’s own ACL check', async () => {
    const [a, b] = cluster.agents as [(typeof cluster.agents)[0], (typeof cluster.agents)[0]];
    const viaA = new RestApiClient(`http://127.0.0.1:${a.httpPort}`);
    const viaB = new RestApiClient(`http://127.0.0.1:${b.httpPort}`);
    expect((await viaA.call('POST', '/topics', { body: { name: TOPIC, partitions: PARTITIONS }, headers: basic('admin') })).status).toBe(201);
    // every partition led, by both agents
    let leaders: number[] = [];
    await waitUntil('both agents to lead partitions', async () => {
      const t = (await viaA.call('GET', `/topics/${TOPIC}`, { headers: basic('admin') })).body as { partitions: Array<{ leader: { node_id: number } | null }> };
      leaders = t.partitions.map((p) => p.leader?.node_id ?? -1);
      return leaders.every((l) => l > 0) && new Set(leaders).size === 2;
    }, 30_000);

    const admin = await KafkaConnection.connect(a.bootstrap, undefined, 'secured-admin', { sasl: { mechanism: 'SCRAM-SHA-512', username: 'admin', password: USERS.admin } });
    const created = await admin.request(30, 3, { creations: [{ resourceType: ResourceType.TOPIC, resourceName: TOPIC, resourcePatternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: AclOperation.WRITE, permissionType: AclPermission.ALLOW }] });
    expect(created.results.map((r) => r.errorCode)).toEqual([0]);
    admin.close();

    // bob has no ACL: refused by agent A itself, for every partition, nothing written
    for (let p = 0; p < PARTITIONS; p++) {
      const res = await viaA.call('POST', '/produce', { body: { topic: TOPIC, partition: p, value: `bob-${p}` }, headers: basic('bob') });
      expect([res.status, (res.body as { error_code: string }).error_code]).toEqual([403, 'TOPIC_AUTHORIZATION_FAILED']);
    }

    // alice may write: through A to every partition, half of them led by B (forwarded as User:broker)
    await waitUntil('alice’s ACL to be in force on A', async () => (await viaA.call('POST', '/produce', { body: { topic: TOPIC, partition: 0, value: 'alice-0' }, headers: basic('alice') })).status === 200, 5000);
    for (let p = 1; p < PARTITIONS; p++) {
      const res = await viaA.call('POST', '/produce', { body: { topic: TOPIC, partition: p, value: `alice-${p}` }, headers: basic('alice') });
      expect([p, res.status, res.body], `partition ${p} led by node ${leaders[p]}`).toEqual([p, 200, { topic: TOPIC, offsets: [{ partition: p, offset: 0 }] }]);
    }
    // read back through B as admin: exactly alice's record in each partition, none of bob's
    for (let p = 0; p < PARTITIONS; p++) {
      const read = (await viaB.call('GET', `/topics/${TOPIC}/partitions/${p}/records`, { query: { offset: 0 }, headers: basic('admin') })).body as { records: Array<{ offset: number; value: string }> };
      expect(read.records.map((r) => [r.offset, r.value])).toEqual([[0, `alice-${p}`]]);
    }
    // the agents' own connections authenticated: no inter-broker login failed
    expect(cluster.agents.map((x) => x.output()).join('\n')).not.toMatch(/authentication failed.*"principal":"User:broker"/);
  });
});
