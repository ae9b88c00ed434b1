// ACLs (docs/security.md) on a real broker process with authorizer.class.name set: every
// implemented Kafka API refused with Kafka's error code to a SASL principal without the
// needed ACL (and nothing changed), allowed with it; DENY over ALLOW, PREFIXED patterns,
// super users; kafkajs's ACL admin calls and librdkafka's (the ones confluent-kafka's
// AdminClient create_acls/describe_acls/delete_acls wrap); a second agent on the same metadata
// store applying a new ACL within a second; the audit line and the denial counter.

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { ApiKey } from '../../src/protocol/api-codec.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { SecureTestClient } from './sasl-client.js';

const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
const USERS = ['admin', 'alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const password = (user: string) => `${user}-acl-pw`;
const ADD_SCRAM = USERS.map((u) => `SCRAM-SHA-256=[name=${u},password=${password(u)}]`).join(';');

// Kafka's codes
const TOPIC = 2;
const GROUP = 3;
const CLUSTER = 4;
const TXN = 5;
const LITERAL = 3;
const PREFIXED = 4;
const Op = { ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12 } as const;
const DENY = 2;
const ALLOW = 3;
const NOT_REQUESTED = -2147483648;

let broker: BrokerProcess;
let saslPort = 0;
const clients: SecureTestClient[] = [];

function name(label: string): string {
  return `acl-${label}-${randomUUID().slice(0, 8)}`;
}

async function login(user: string, port = saslPort): Promise<SecureTestClient> {
  const c = await SecureTestClient.connect(port);
  clients.push(c);
  const r = await c.loginPlain(user, password(user));
  if (r.errorCode !== 0) throw new Error(`login of ${user}: ${r.errorCode}`);
  return c;
}

interface Grant {
  readonly user: string;
  readonly type: number;
  readonly resource: string;
  readonly op: number;
  readonly pattern?: number;
  readonly permission?: number;
}

async function grant(admin: SecureTestClient, ...grants: Grant[]): Promise<void> {
  const r = await admin.request(ApiKey.CreateAcls, 3, {
    creations: grants.map((g) => ({ resourceType: g.type, resourceName: g.resource, resourcePatternType: g.pattern ?? LITERAL, principal: `User:${g.user}`, host: '*', operation: g.op, permissionType: g.permission ?? ALLOW })),
  });
  expect(r.results.map((x) => x.errorCode)).toEqual(grants.map(() => 0));
}

async function createTopic(admin: SecureTestClient, topic: string, partitions = 1): Promise<void> {
  const r = await admin.request(ApiKey.CreateTopics, 7, { topics: [{ name: topic, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  expect(r.topics[0]!.errorCode).toBe(0);
}

function records(count: number): Buffer {
  const t0 = BigInt(Date.now());
  return buildRecordBatch({ baseOffset: 0n, records: Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: t0 })) });
}

async function produce(c: SecureTestClient, topic: string, count = 1, transactionalId: string | null = null): Promise<{ errorCode: number; baseOffset: bigint }> {
  const r = await c.request(ApiKey.Produce, 9, { transactionalId, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: records(count) }] }] });
  const p = r.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

async function latestOffset(c: SecureTestClient, topic: string, timestamp = -1n): Promise<{ errorCode: number; offset: bigint }> {
  const r = await c.request(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] });
  const p = r.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, offset: p.offset };
}

async function metadataOf(c: SecureTestClient, topics: string[] | null, allowAutoTopicCreation = false) {
  return c.request(ApiKey.Metadata, 12, { topics: topics === null ? null : topics.map((t) => ({ name: t, topicId: '00000000-0000-0000-0000-000000000000' })), allowAutoTopicCreation, includeTopicAuthorizedOperations: true, includeClusterAuthorizedOperations: true });
}

async function topicExists(admin: SecureTestClient, topic: string): Promise<boolean> {
  return (await metadataOf(admin, [topic])).topics[0]!.errorCode === 0;
}

async function commit(c: SecureTestClient, group: string, topic: string, offset: bigint): Promise<number> {
  const r = await c.request(ApiKey.OffsetCommit, 8, { groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }] });
  return r.topics[0]!.partitions[0]!.errorCode;
}

async function fetchOffset(c: SecureTestClient, group: string, topic: string): Promise<{ errorCode: number; partitionError: number; offset: bigint }> {
  const r = await c.request(ApiKey.OffsetFetch, 7, { groupId: group, topics: [{ name: topic, partitionIndexes: [0] }], requireStable: false });
  const p = r.topics[0]?.partitions[0];
  return { errorCode: r.errorCode, partitionError: p?.errorCode ?? -1, offset: p?.committedOffset ?? -1n };
}

async function denialCount(httpPort: number, operation: string, resourceType: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const m = new RegExp(`^streamhouse_authorization_denials_total\\{operation="${operation}",resource_type="${resourceType}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  saslPort = await freePort();
  broker = await startBrokerProcess({
    listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    args: ['--authorizer-class-name', STANDARD_AUTHORIZER, '--super-users', 'User:admin', '--group-initial-rebalance-delay-ms', '0'],
    env: { STREAMHOUSE_ADD_SCRAM: ADD_SCRAM },
  });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await broker?.cleanup();
  const out = broker?.output() ?? '';
  for (const u of USERS) expect(out).not.toContain(password(u));
});

describe('the authorization matrix: without the ACL Kafka\'s error and nothing changes, with it the call works', () => {
  it('Produce: TOPIC_AUTHORIZATION_FAILED without WRITE, nothing appended; TRANSACTIONAL_ID_AUTHORIZATION_FAILED without WRITE on the transactional id', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    const t = name('produce');
    await createTopic(admin, t);
    expect(await produce(alice, t, 3)).toEqual({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, baseOffset: -1n });
    expect((await latestOffset(admin, t)).offset).toBe(0n);
    await grant(admin, { user: 'alice', type: TOPIC, resource: t, op: Op.WRITE });
    expect(await produce(alice, t, 3)).toEqual({ errorCode: 0, baseOffset: 0n });
    expect((await latestOffset(admin, t)).offset).toBe(3n);
    expect((await produce(alice, t, 1, 'tx-1')).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await latestOffset(admin, t)).offset).toBe(3n);
    // an unknown topic is refused the same way as an existing one, and not auto-created
    const missing = name('produce-missing');
    expect((await produce(alice, missing)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, missing)).toBe(false);
  });

  it('Fetch: TOPIC_AUTHORIZATION_FAILED without READ, records with it', async () => {
    const admin = await login('admin');
    const bob = await login('bob');
    const t = name('fetch');
    await createTopic(admin, t);
    await produce(admin, t, 2);
    const read = async (replicaId = -1) => {
      const r = await bob.request(ApiKey.Fetch, 12, { replicaId, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: t, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' });
      const p = r.responses[0]!.partitions[0]!;
      return { errorCode: p.errorCode, bytes: p.records === null ? 0 : p.records.length, hwm: p.highWatermark };
    };
    expect(await read()).toEqual({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, bytes: 0, hwm: -1n });
    await grant(admin, { user: 'bob', type: TOPIC, resource: t, op: Op.READ });
    const ok = await read();
    expect(ok.errorCode).toBe(0);
    expect(ok.hwm).toBe(2n);
    expect(ok.bytes).toBeGreaterThan(0);
    // a follower's fetch (replica id >= 0) needs CLUSTER_ACTION on the cluster, READ does not do
    expect(await read(3)).toEqual({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, bytes: 0, hwm: -1n });
    await grant(admin, { user: 'bob', type: CLUSTER, resource: 'kafka-cluster', op: Op.CLUSTER_ACTION });
    expect((await read(3)).errorCode).toBe(0);
  });

  it('ListOffsets: TOPIC_AUTHORIZATION_FAILED without DESCRIBE; READ implies DESCRIBE', async () => {
    const admin = await login('admin');
    const bob = await login('bob');
    const t = name('list-offsets');
    await createTopic(admin, t);
    await produce(admin, t, 4);
    expect(await latestOffset(bob, t)).toEqual({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, offset: -1n });
    await grant(admin, { user: 'bob', type: TOPIC, resource: t, op: Op.READ });
    expect(await latestOffset(bob, t)).toEqual({ errorCode: 0, offset: 4n });
  });

  it('Metadata: hides topics without DESCRIBE, refuses them by name, auto-creates only with CREATE; authorized operations from the ACLs', async () => {
    const admin = await login('admin');
    const carol = await login('carol');
    const t = name('metadata');
    await createTopic(admin, t);
    expect((await metadataOf(carol, null)).topics.map((x) => x.name)).not.toContain(t);
    const byName = await metadataOf(carol, [t]);
    expect(byName.topics.map((x) => [x.name, x.errorCode, x.partitions.length])).toEqual([[t, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0]]);
    await grant(admin, { user: 'carol', type: TOPIC, resource: t, op: Op.DESCRIBE });
    const seen = await metadataOf(carol, null);
    const mine = seen.topics.find((x) => x.name === t)!;
    expect(mine.errorCode).toBe(0);
    expect(mine.topicAuthorizedOperations).toBe(1 << Op.DESCRIBE);
    const adminView = await metadataOf(admin, [t]);
    expect(adminView.topics[0]!.topicAuthorizedOperations).toBe([Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS].reduce((a, o) => a | (1 << o), 0));
    // by id (v12): refused with the id, no name
    const id = adminView.topics[0]!.topicId;
    const other = name('metadata-by-id');
    await createTopic(admin, other);
    const otherId = (await metadataOf(admin, [other])).topics[0]!.topicId;
    const byId = await carol.request(ApiKey.Metadata, 12, { topics: [{ name: null, topicId: id }, { name: null, topicId: otherId }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(byId.topics.map((x) => [x.topicId, x.name, x.errorCode])).toEqual([[id, t, 0], [otherId, null, ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
    // auto-creation: DESCRIBE alone is not enough
    const auto = name('metadata-auto');
    await grant(admin, { user: 'carol', type: TOPIC, resource: auto, op: Op.DESCRIBE });
    expect((await metadataOf(carol, [auto], true)).topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, auto)).toBe(false);
    await grant(admin, { user: 'carol', type: TOPIC, resource: auto, op: Op.CREATE });
    expect((await metadataOf(carol, [auto], true)).topics[0]!.errorCode).toBe(0);
    expect(await topicExists(admin, auto)).toBe(true);
  });

  it('CreateTopics: TOPIC_AUTHORIZATION_FAILED without CREATE on the topic or the cluster', async () => {
    const admin = await login('admin');
    const dave = await login('dave');
    const t = name('create');
    const create = async (topic: string) => (await dave.request(ApiKey.CreateTopics, 7, { topics: [{ name: topic, numPartitions: 2, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false })).topics[0]!;
    expect((await create(t)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, t)).toBe(false);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.CREATE });
    const created = await create(t);
    expect(created.errorCode).toBe(0);
    // without DESCRIBE_CONFIGS the new topic's configs are not shown (Kafka)
    expect(created.topicConfigErrorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, t)).toBe(true);
  });

  it('DeleteTopics: TOPIC_AUTHORIZATION_FAILED without DELETE, the topic stays', async () => {
    const admin = await login('admin');
    const dave = await login('dave');
    const t = name('delete');
    await createTopic(admin, t);
    const del = async () => (await dave.request(ApiKey.DeleteTopics, 6, { topics: [{ name: t, topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: 10_000 })).responses[0]!.errorCode;
    expect(await del()).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, t)).toBe(true);
    // by id: an id the caller may not describe is unknown to it
    const id = (await metadataOf(admin, [t])).topics[0]!.topicId;
    const delById = async () => (await dave.request(ApiKey.DeleteTopics, 6, { topics: [{ name: null, topicId: id }], timeoutMs: 10_000 })).responses[0]!.errorCode;
    expect(await delById()).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.DESCRIBE });
    expect(await delById()).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await topicExists(admin, t)).toBe(true);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.DELETE });
    expect(await del()).toBe(0);
    expect(await topicExists(admin, t)).toBe(false);
  });

  it('CreatePartitions: TOPIC_AUTHORIZATION_FAILED without ALTER, the count stays', async () => {
    const admin = await login('admin');
    const dave = await login('dave');
    const t = name('partitions');
    await createTopic(admin, t, 1);
    const grow = async () => (await dave.request(ApiKey.CreatePartitions, 3, { topics: [{ name: t, count: 3, assignments: null }], timeoutMs: 10_000, validateOnly: false })).results[0]!.errorCode;
    expect(await grow()).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await metadataOf(admin, [t])).topics[0]!.partitions.length).toBe(1);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.ALTER });
    expect(await grow()).toBe(0);
    expect((await metadataOf(admin, [t])).topics[0]!.partitions.length).toBe(3);
  });

  it('DeleteRecords: TOPIC_AUTHORIZATION_FAILED without DELETE, the log start stays', async () => {
    const admin = await login('admin');
    const dave = await login('dave');
    const t = name('delete-records');
    await createTopic(admin, t);
    await produce(admin, t, 5);
    const trim = async () => (await dave.request(ApiKey.DeleteRecords, 2, { topics: [{ name: t, partitions: [{ partitionIndex: 0, offset: 3n }] }], timeoutMs: 10_000 })).topics[0]!.partitions[0]!.errorCode;
    expect(await trim()).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await latestOffset(admin, t, -2n)).offset).toBe(0n);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.DELETE });
    expect(await trim()).toBe(0);
    expect((await latestOffset(admin, t, -2n)).offset).toBe(3n);
  });

  it('DescribeConfigs / AlterConfigs / IncrementalAlterConfigs: TOPIC_ or CLUSTER_AUTHORIZATION_FAILED without DESCRIBE_CONFIGS / ALTER_CONFIGS', async () => {
    const admin = await login('admin');
    const erin = await login('erin');
    const t = name('configs');
    await createTopic(admin, t);
    const describeTopic = async (c: SecureTestClient) => (await c.request(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: t, configurationKeys: ['retention.ms'] }], includeSynonyms: false, includeDocumentation: false })).results[0]!;
    const describeBroker = async () => (await erin.request(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 4, resourceName: '', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false })).results[0]!.errorCode;
    const alter = async (value: string) => (await erin.request(ApiKey.AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: t, configs: [{ name: 'retention.ms', value }] }], validateOnly: false })).responses[0]!.errorCode;
    const incremental = async (value: string) => (await erin.request(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 2, resourceName: t, configs: [{ name: 'retention.ms', configOperation: 0, value }] }], validateOnly: false })).responses[0]!.errorCode;
    const alterBroker = async () => (await erin.request(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '86400000' }] }], validateOnly: true })).responses[0]!.errorCode;
    expect((await describeTopic(erin)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await describeBroker()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await alter('1000')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await incremental('2000')).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await alterBroker()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const before = (await describeTopic(admin)).configs[0]!.value;
    expect(before).not.toBe('1000');
    await grant(admin, { user: 'erin', type: TOPIC, resource: t, op: Op.ALTER_CONFIGS }, { user: 'erin', type: CLUSTER, resource: 'kafka-cluster', op: Op.ALTER_CONFIGS });
    expect(await alter('1000')).toBe(0);
    // ALTER_CONFIGS implies DESCRIBE_CONFIGS
    expect((await describeTopic(erin)).configs[0]!.value).toBe('1000');
    expect(await incremental('2000')).toBe(0);
    expect((await describeTopic(admin)).configs[0]!.value).toBe('2000');
    expect(await describeBroker()).toBe(0);
    expect(await alterBroker()).toBe(0);
  });

  it('InitProducerId: CLUSTER_AUTHORIZATION_FAILED without IDEMPOTENT_WRITE on the cluster or WRITE on some topic; transactional ids need WRITE on them', async () => {
    const admin = await login('admin');
    const frank = await login('frank');
    const init = async (transactionalId: string | null) => (await frank.request(ApiKey.InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })).errorCode;
    expect(await init(null)).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'frank', type: TOPIC, resource: name('frank-any'), op: Op.WRITE });
    expect(await init(null)).toBe(0);
    // transactions are not built: with or without the ACL the transactional id is refused
    expect(await init('tx-frank')).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('FindCoordinator: GROUP_AUTHORIZATION_FAILED without DESCRIBE on the group, TRANSACTIONAL_ID_AUTHORIZATION_FAILED without it on the id', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    const g = name('find');
    const find = async (keyType: number, key: string) => (await alice.request(ApiKey.FindCoordinator, 4, { keyType, coordinatorKeys: [key] })).coordinators[0]!;
    expect((await find(0, g)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await find(1, `${g}-tx`)).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'alice', type: GROUP, resource: g, op: Op.DESCRIBE }, { user: 'alice', type: TXN, resource: `${g}-tx`, op: Op.DESCRIBE });
    const found = await find(0, g);
    expect([found.errorCode, found.port]).toEqual([0, saslPort]);
    const txnCoordinator = await find(1, `${g}-tx`);
    expect([txnCoordinator.errorCode, txnCoordinator.port]).toEqual([0, saslPort]);
  });

  it('JoinGroup, SyncGroup, Heartbeat, LeaveGroup: GROUP_AUTHORIZATION_FAILED without READ on the group; a whole membership with it', async () => {
    const admin = await login('admin');
    const bob = await login('bob');
    const g = name('membership');
    const join = (memberId: string) => bob.request(ApiKey.JoinGroup, 9, { groupId: g, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from([0, 1]) }], reason: null });
    const sync = (memberId: string, generationId: number) => bob.request(ApiKey.SyncGroup, 5, { groupId: g, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment: Buffer.from([7]) }] });
    const beat = (memberId: string, generationId: number) => bob.request(ApiKey.Heartbeat, 4, { groupId: g, generationId, memberId, groupInstanceId: null });
    const leave = (memberId: string) => bob.request(ApiKey.LeaveGroup, 5, { groupId: g, members: [{ memberId, groupInstanceId: null, reason: null }] });
    expect((await join('')).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await sync('m', 1)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await beat('m', 1)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await leave('m')).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const listed = await admin.request(ApiKey.ListGroups, 4, { statesFilter: [] });
    expect(listed.groups.map((x) => x.groupId)).not.toContain(g);
    await grant(admin, { user: 'bob', type: GROUP, resource: g, op: Op.READ });
    const first = await join('');
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joined = await join(first.memberId);
    expect([joined.errorCode, joined.leader]).toEqual([0, first.memberId]);
    const synced = await sync(first.memberId, joined.generationId);
    expect([synced.errorCode, [...synced.assignment]]).toEqual([0, [7]]);
    expect((await beat(first.memberId, joined.generationId)).errorCode).toBe(0);
    const left = await leave(first.memberId);
    expect([left.errorCode, left.members[0]!.errorCode]).toEqual([0, 0]);
  });

  it('OffsetCommit / OffsetFetch: GROUP_AUTHORIZATION_FAILED without READ / DESCRIBE on the group, TOPIC_AUTHORIZATION_FAILED per partition without READ / DESCRIBE on the topic', async () => {
    const admin = await login('admin');
    const carol = await login('carol');
    const g = name('offsets');
    const t = name('offsets-topic');
    await createTopic(admin, t);
    expect(await commit(carol, g, t, 5n)).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await fetchOffset(carol, g, t)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'carol', type: GROUP, resource: g, op: Op.READ });
    expect(await commit(carol, g, t, 5n)).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await fetchOffset(carol, g, t)).toEqual({ errorCode: 0, partitionError: ErrorCode.TOPIC_AUTHORIZATION_FAILED, offset: -1n });
    expect((await fetchOffset(admin, g, t)).offset).toBe(-1n);
    await grant(admin, { user: 'carol', type: TOPIC, resource: t, op: Op.READ });
    expect(await commit(carol, g, t, 5n)).toBe(0);
    expect(await fetchOffset(carol, g, t)).toEqual({ errorCode: 0, partitionError: 0, offset: 5n });
  });

  it('DescribeGroups, ListGroups, DeleteGroups, OffsetDelete: refused or hidden without DESCRIBE / DELETE on the group', async () => {
    const admin = await login('admin');
    const dave = await login('dave');
    const g = name('groups');
    const t = name('groups-topic');
    await createTopic(admin, t);
    expect(await commit(admin, g, t, 2n)).toBe(0);
    const describe = async () => (await dave.request(ApiKey.DescribeGroups, 5, { groups: [g], includeAuthorizedOperations: true })).groups[0]!;
    const list = async () => (await dave.request(ApiKey.ListGroups, 4, { statesFilter: [] })).groups.map((x) => x.groupId);
    const offsetDelete = async () => dave.request(ApiKey.OffsetDelete, 0, { groupId: g, topics: [{ name: t, partitions: [{ partitionIndex: 0 }] }] });
    const deleteGroup = async () => (await dave.request(ApiKey.DeleteGroups, 2, { groupsNames: [g] })).results[0]!.errorCode;
    expect(await describe()).toMatchObject({ errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, authorizedOperations: NOT_REQUESTED });
    expect(await list()).not.toContain(g);
    expect((await offsetDelete()).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect(await deleteGroup()).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await fetchOffset(admin, g, t)).offset).toBe(2n);
    await grant(admin, { user: 'dave', type: GROUP, resource: g, op: Op.DELETE });
    const described = await describe();
    expect([described.errorCode, described.groupState, described.authorizedOperations]).toEqual([0, 'Empty', (1 << Op.DELETE) | (1 << Op.DESCRIBE)]);
    expect(await list()).toContain(g);
    // the group is deletable, the topic not readable
    const partly = await offsetDelete();
    expect([partly.errorCode, partly.topics[0]!.partitions[0]!.errorCode]).toEqual([0, ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    expect((await fetchOffset(admin, g, t)).offset).toBe(2n);
    await grant(admin, { user: 'dave', type: TOPIC, resource: t, op: Op.READ });
    const deleted = await offsetDelete();
    expect([deleted.errorCode, deleted.topics[0]!.partitions[0]!.errorCode]).toEqual([0, 0]);
    expect((await fetchOffset(admin, g, t)).offset).toBe(-1n);
    expect(await commit(admin, g, t, 3n)).toBe(0);
    expect(await deleteGroup()).toBe(0);
    expect((await fetchOffset(admin, g, t)).offset).toBe(-1n);
  });

  it('DescribeCluster: the cluster authorized operations from the ACLs', async () => {
    const admin = await login('admin');
    const carol = await login('carol');
    const ops = async (c: SecureTestClient) => (await c.request(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 })).clusterAuthorizedOperations;
    expect(await ops(admin)).toBe([Op.CREATE, Op.ALTER, Op.DESCRIBE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE].reduce((a, o) => a | (1 << o), 0));
    expect(await ops(carol)).toBe(0);
    await grant(admin, { user: 'carol', type: CLUSTER, resource: 'kafka-cluster', op: Op.ALTER_CONFIGS });
    expect(await ops(carol)).toBe((1 << Op.DESCRIBE_CONFIGS) | (1 << Op.ALTER_CONFIGS));
  });

  it('Describe/AlterUserScramCredentials and the ACL APIs: CLUSTER_AUTHORIZATION_FAILED without DESCRIBE / ALTER on the cluster', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    const describeUsers = async () => (await alice.request(ApiKey.DescribeUserScramCredentials, 0, { users: null })).errorCode;
    const alterUsers = async () => (await alice.request(ApiKey.AlterUserScramCredentials, 0, { deletions: [{ name: 'nobody-here', mechanism: 1 }], upsertions: [] })).results[0]!.errorCode;
    const describeAcls = async () => (await alice.request(ApiKey.DescribeAcls, 3, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 })).errorCode;
    const createAcl = async () => (await alice.request(ApiKey.CreateAcls, 3, { creations: [{ resourceType: TOPIC, resourceName: 'x', resourcePatternType: LITERAL, principal: 'User:alice', host: '*', operation: Op.ALL, permissionType: ALLOW }] })).results[0]!.errorCode;
    const deleteAcls = async () => (await alice.request(ApiKey.DeleteAcls, 3, { filters: [{ resourceTypeFilter: TOPIC, resourceNameFilter: 'x', patternTypeFilter: LITERAL, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 }] })).filterResults[0]!.errorCode;
    expect(await describeUsers()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await alterUsers()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await describeAcls()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await createAcl()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await deleteAcls()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const all = await admin.request(ApiKey.DescribeAcls, 3, { resourceTypeFilter: TOPIC, resourceNameFilter: 'x', patternTypeFilter: LITERAL, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 });
    expect(all.resources).toEqual([]);
    await grant(admin, { user: 'alice', type: CLUSTER, resource: 'kafka-cluster', op: Op.ALTER });
    // ALTER implies DESCRIBE
    expect(await describeUsers()).toBe(0);
    expect(await alterUsers()).toBe(ErrorCode.RESOURCE_NOT_FOUND);
    expect(await describeAcls()).toBe(0);
    expect(await createAcl()).toBe(0);
    expect(await deleteAcls()).toBe(0);
    await admin.request(ApiKey.DeleteAcls, 3, { filters: [{ resourceTypeFilter: CLUSTER, resourceNameFilter: 'kafka-cluster', patternTypeFilter: LITERAL, principalFilter: 'User:alice', hostFilter: null, operation: Op.ALTER, permissionType: ALLOW }] });
    expect(await describeAcls()).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });

  it('ApiVersions and the SASL handshake need no ACL', async () => {
    const c = await SecureTestClient.connect(saslPort);
    clients.push(c);
    expect((await c.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'acl-test', clientSoftwareVersion: '1' })).apiKeys.map((a) => a.apiKey)).toEqual(expect.arrayContaining([29, 30, 31]));
    expect((await c.loginPlain('bob', password('bob'))).errorCode).toBe(0);
  });
});

describe('configuration', () => {
  it('refuses an authorizer class other than Kafka\'s two with one line and exit 2', async () => {
    const r = await runCommand(process.execPath, [new URL('../../dist/cli/streamhouse.js', import.meta.url).pathname, 'start', '--authorizer-class-name', 'com.example.CustomAuthorizer'], { timeoutMs: 30_000 });
    expect([r.code, r.stderr]).toEqual([2, 'streamhouse: invalid configuration: --authorizer-class-name must be org.apache.kafka.metadata.authorizer.StandardAuthorizer or kafka.security.authorizer.AclAuthorizer, got "com.example.CustomAuthorizer"\n']);
  });
});

describe('rules', () => {
  it('DENY beats ALLOW, PREFIXED patterns match by prefix, User:* matches everyone, super users bypass', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    const bob = await login('bob');
    const prefix = `${name('rules')}-`;
    const a = `${prefix}a`;
    const b = `${prefix}b`;
    const outside = name('outside');
    for (const t of [a, b, outside]) await createTopic(admin, t);
    await grant(admin, { user: 'alice', type: TOPIC, resource: prefix, pattern: PREFIXED, op: Op.WRITE });
    expect((await produce(alice, a)).errorCode).toBe(0);
    expect((await produce(alice, b)).errorCode).toBe(0);
    expect((await produce(alice, outside)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'alice', type: TOPIC, resource: b, op: Op.WRITE, permission: DENY });
    expect((await produce(alice, a)).errorCode).toBe(0);
    expect((await produce(alice, b)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // User:* gives bob WRITE on the prefix too, and a DENY for everyone wins over alice's ALLOW
    await grant(admin, { user: '*', type: TOPIC, resource: prefix, pattern: PREFIXED, op: Op.WRITE });
    expect((await produce(bob, a)).errorCode).toBe(0);
    await grant(admin, { user: '*', type: TOPIC, resource: a, op: Op.ALL, permission: DENY });
    expect((await produce(alice, a)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await produce(bob, a)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // admin is a super user: DENY for everyone does not apply
    expect((await produce(admin, a)).errorCode).toBe(0);
    expect((await latestOffset(admin, a)).offset).toBe(4n);
    expect((await latestOffset(admin, b)).offset).toBe(1n);
  });

  it('the PLAINTEXT listener is User:ANONYMOUS, refused without ACLs', async () => {
    const anon = await SecureTestClient.connect(broker.kafkaPort);
    clients.push(anon);
    const admin = await login('admin');
    const t = name('anonymous');
    await createTopic(admin, t);
    expect((await produce(anon, t)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'ANONYMOUS', type: TOPIC, resource: t, op: Op.WRITE });
    expect((await produce(anon, t)).errorCode).toBe(0);
  });

  it('each denied operation is one audit line (principal, client, operation, resource) and counted', async () => {
    const frank = await login('frank');
    const t = name('audit');
    const before = await denialCount(broker.httpPort, 'READ', 'TOPIC');
    const r = await frank.request(ApiKey.OffsetDelete, 0, { groupId: `${t}-g`, topics: [] });
    expect(r.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect(await latestOffset(frank, t)).toEqual({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, offset: -1n });
    const auditLines = () => broker.output().split('\n').filter((l) => l.includes('authorization denied') && l.includes(t));
    // the broker's output reaches this process a little after the answers
    for (const started = Date.now(); auditLines().length < 2 && Date.now() - started < 2_000; ) await new Promise((r) => setTimeout(r, 20));
    const lines = auditLines();
    expect(lines.length).toBe(2);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => [p.principal, p.operation, p.resource])).toEqual([
      ['User:frank', 'DELETE', `GROUP:${t}-g`],
      ['User:frank', 'DESCRIBE', `TOPIC:${t}`],
    ]);
    expect(String(parsed[0]!.client)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await denialCount(broker.httpPort, 'READ', 'TOPIC')).toBe(before);
    expect(await denialCount(broker.httpPort, 'DESCRIBE', 'TOPIC')).toBeGreaterThan(0);
    // the counter's name and help pass Prometheus's lint
    const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    expect(text).toContain('# TYPE streamhouse_authorization_denials_total counter');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });
});

describe('kafkajs admin (the Debian confluent-kafka 1.7 has no ACL calls; they came in 1.9)', () => {
  it('createAcls, describeAcls and deleteAcls as a super user over SASL PLAIN, then the ACL is enforced on a kafkajs producer', async () => {
    const t = name('kafkajs');
    const kafka = (user: string) => new Kafka({ brokers: [`127.0.0.1:${saslPort}`], clientId: 'acl-kafkajs', sasl: { mechanism: 'plain', username: user, password: password(user) }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = kafka('admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: t, numPartitions: 1 }] });
      const entry = (resourceName: string, resourcePatternType: ResourcePatternTypes, principal: string, operation: AclOperationTypes, permissionType: AclPermissionTypes) => ({ resourceType: AclResourceTypes.TOPIC, resourceName, resourcePatternType, principal, host: '*', operation, permissionType });
      expect(await admin.createAcls({ acl: [entry(t, ResourcePatternTypes.LITERAL, 'User:alice', AclOperationTypes.WRITE, AclPermissionTypes.ALLOW), entry(`${t}-`, ResourcePatternTypes.PREFIXED, 'User:bob', AclOperationTypes.WRITE, AclPermissionTypes.DENY)] })).toBe(true);
      const described = await admin.describeAcls({ resourceType: AclResourceTypes.TOPIC, resourceName: `${t}-x`, resourcePatternType: ResourcePatternTypes.MATCH, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      expect(described.resources).toEqual([{ resourceType: AclResourceTypes.TOPIC, resourceName: `${t}-`, resourcePatternType: ResourcePatternTypes.PREFIXED, acls: [{ principal: 'User:bob', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.DENY }] }]);

      const producer = kafka('alice').producer();
      await producer.connect();
      try {
        const sent = await producer.send({ topic: t, messages: [{ value: 'allowed' }] });
        expect(sent.map((r) => [r.topicName, r.baseOffset])).toEqual([[t, '0']]);
        const deleted = await admin.deleteAcls({ filters: [{ resourceType: AclResourceTypes.ANY, resourceName: undefined, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:alice', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }] });
        expect(deleted.filterResponses.map((f) => [f.errorCode, f.matchingAcls.map((m) => m.resourceName)])).toEqual([[0, expect.arrayContaining([t])]]);
        const refused = await producer.send({ topic: t, messages: [{ value: 'refused' }] }).then(() => 'sent', (e: unknown) => (e as { type?: string }).type);
        expect(refused).toBe('TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await producer.disconnect();
      }
      const offsets = await admin.fetchTopicOffsets(t);
      expect(offsets.map((o) => o.high)).toEqual(['1']);
      await admin.deleteAcls({ filters: [{ resourceType: AclResourceTypes.TOPIC, resourceName: `${t}-`, resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }] });
      expect((await admin.describeAcls({ resourceType: AclResourceTypes.TOPIC, resourceName: `${t}-x`, resourcePatternType: ResourcePatternTypes.MATCH, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY })).resources).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});

describe("librdkafka's ACL admin calls (what confluent-kafka's AdminClient create_acls / describe_acls / delete_acls wrap)", () => {
  it('creates, describes with MATCH and deletes bindings, which the broker then enforces', async () => {
    const admin = await login('admin');
    const t = name('librdkafka');
    await createTopic(admin, t);
    await createTopic(admin, `${t}-x`);
    const r = await runCommand(PYTHON, [new URL('./librdkafka-acl-admin.py', import.meta.url).pathname, `127.0.0.1:${saslPort}`, 'admin', password('admin'), t], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.librdkafka).toMatch(/^2\./);
    expect(out.create).toEqual([0, 0]);
    const binding = (n: string, pattern: number, principal: string, permission: number) => ({ restype: TOPIC, name: n, pattern, principal, host: '*', operation: Op.WRITE, permission });
    const alice = binding(t, LITERAL, 'User:alice', ALLOW);
    const bob = binding(`${t}-`, PREFIXED, 'User:bob', DENY);
    // MATCH on "<t>-x": the prefix applies, the literal on <t> does not; on <t>: only the literal
    expect(out.describe_prefixed).toEqual([bob]);
    expect(out.describe_literal).toEqual([alice]);
    expect(out.delete).toEqual([{ error: 0, matching: [alice] }]);
    expect(out.describe_literal_after_delete).toEqual([]);

    // what librdkafka left is what the broker enforces: bob's prefixed DENY beats a literal ALLOW
    await grant(admin, { user: 'bob', type: TOPIC, resource: `${t}-x`, op: Op.WRITE }, { user: 'alice', type: TOPIC, resource: `${t}-x`, op: Op.WRITE });
    expect((await produce(await login('bob'), `${t}-x`)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(await produce(await login('alice'), `${t}-x`)).toEqual({ errorCode: 0, baseOffset: 0n });
    // alice's ALLOW on <t> was deleted
    expect((await produce(await login('alice'), t)).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });
});

describe('streamctl acl', () => {
  const STREAMCTL = new URL('../../dist/cli/streamctl.js', import.meta.url).pathname;
  const streamctl = (user: string, args: string[]) =>
    runCommand(process.execPath, [STREAMCTL, 'acl', '--bootstrap', `127.0.0.1:${saslPort}`, '--security-protocol', 'SASL_PLAINTEXT', '--sasl-mechanism', 'SCRAM-SHA-256', '--sasl-username', user, ...args], { env: { STREAMCTL_SASL_PASSWORD: password(user) }, timeoutMs: 30_000 });
  const kcatProduce = (topic: string, value: string) =>
    runCommand('/usr/bin/kcat', ['-P', '-b', `127.0.0.1:${saslPort}`, '-t', topic, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=bob', '-X', `sasl.password=${password('bob')}`], { input: `${value}\n`, timeoutMs: 30_000 });

  it('creates, lists and deletes bindings that kcat is then allowed or refused by', async () => {
    const admin = await login('admin');
    const prefix = `${name('streamctl')}-`;
    const open = `${prefix}open`;
    const blocked = `${prefix}blocked`;
    for (const t of [open, blocked]) await createTopic(admin, t);
    const created = await streamctl('admin', ['create', '--allow-principal', 'User:bob', '--operation', 'Write', '--operation', 'Describe', '--topic', prefix, '--resource-pattern-type', 'prefixed']);
    expect(created.stdout.trim(), created.stderr).toBe(`created 2 ACLs on TOPIC:PREFIXED:${prefix}`);
    expect((await streamctl('admin', ['create', '--deny-principal', 'User:bob', '--operation', 'Write', '--topic', blocked])).stdout.trim()).toBe(`created 1 ACL on TOPIC:LITERAL:${blocked}`);

    const listed = await streamctl('admin', ['list', '--topic', blocked, '--resource-pattern-type', 'match', '--json']);
    expect(JSON.parse(listed.stdout), listed.stderr).toEqual([
      // the store's order: resource type, name, pattern type, principal, host, operation, permission
      { resourceType: 'TOPIC', resourceName: prefix, patternType: 'PREFIXED', principal: 'User:bob', host: '*', operation: 'WRITE', permission: 'ALLOW' },
      { resourceType: 'TOPIC', resourceName: prefix, patternType: 'PREFIXED', principal: 'User:bob', host: '*', operation: 'DESCRIBE', permission: 'ALLOW' },
      { resourceType: 'TOPIC', resourceName: blocked, patternType: 'LITERAL', principal: 'User:bob', host: '*', operation: 'WRITE', permission: 'DENY' },
    ]);
    const text = await streamctl('admin', ['list', '--topic', prefix, '--resource-pattern-type', 'prefixed']);
    expect(text.stdout.trim().split('\n').map((l) => l.split(/\s+/))).toEqual([
      ['RESOURCE_TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
      ['TOPIC', prefix, 'PREFIXED', 'User:bob', '*', 'WRITE', 'ALLOW'],
      ['TOPIC', prefix, 'PREFIXED', 'User:bob', '*', 'DESCRIBE', 'ALLOW'],
    ]);

    expect((await kcatProduce(open, 'from-kcat')).code).toBe(0);
    await kcatProduce(blocked, 'refused');
    expect((await latestOffset(admin, open)).offset).toBe(1n);
    expect((await latestOffset(admin, blocked)).offset).toBe(0n);

    const deleted = await streamctl('admin', ['delete', '--principal', 'User:bob', '--topic', prefix, '--resource-pattern-type', 'prefixed']);
    expect(deleted.stdout.trim().split('\n')[0], deleted.stderr).toBe('deleted 2 ACLs');
    await kcatProduce(open, 'refused-now');
    expect((await latestOffset(admin, open)).offset).toBe(1n);

    const denied = await streamctl('alice', ['list']);
    expect([denied.code, denied.stderr.trim()]).toEqual([1, 'streamctl: DescribeAcls: CLUSTER_AUTHORIZATION_FAILED (Cluster authorization failed.)']);
    const everything = await streamctl('admin', ['delete']);
    expect(everything.code).toBe(2);
    expect(everything.stderr).toContain('refusing to delete every ACL');
    expect((await streamctl('admin', ['create', '--allow-principal', 'User:bob', '--operation', 'Fly', '--topic', 'x'])).code).toBe(2);
  });
});

describe('two agents on one metadata store', () => {
  let second: BrokerProcess | undefined;
  let secondSasl = 0;

  beforeAll(async () => {
    secondSasl = await freePort();
    second = await startBrokerProcess({
      listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${secondSasl}`,
      args: ['--authorizer-class-name', 'kafka.security.authorizer.AclAuthorizer', '--super-users', 'User:admin', '--metadata', broker.metadataUrl, '--storage', broker.storageUrl, '--node-id', '7', '--agent-id', 'acl-second'],
      env: { ...broker.storageEnv },
    });
  }, 90_000);

  afterAll(async () => {
    await second?.stop();
  });

  it('an ACL created through one agent is enforced by the other within a second', async () => {
    const admin = await login('admin');
    const t = name('two-agents');
    const viaSecond = await login('erin', secondSasl);
    const describe = async () => (await viaSecond.request(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: t, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] })).topics[0]!.partitions[0]!.errorCode;
    expect(await describe()).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await grant(admin, { user: 'erin', type: TOPIC, resource: t, op: Op.DESCRIBE });
    const started = Date.now();
    let code = await describe();
    while (code === ErrorCode.TOPIC_AUTHORIZATION_FAILED && Date.now() - started < 3_000) {
      await new Promise((r) => setTimeout(r, 20));
      code = await describe();
    }
    const elapsed = Date.now() - started;
    // the topic does not exist: now the honest answer instead of the refusal
    expect(code).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(elapsed).toBeLessThan(1_000);
    await admin.request(ApiKey.DeleteAcls, 3, { filters: [{ resourceTypeFilter: TOPIC, resourceNameFilter: t, patternTypeFilter: LITERAL, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 }] });
    const removedAt = Date.now();
    while ((await describe()) !== ErrorCode.TOPIC_AUTHORIZATION_FAILED) {
      if (Date.now() - removedAt > 1_000) throw new Error('the deletion was not applied by the second agent within a second');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
});
