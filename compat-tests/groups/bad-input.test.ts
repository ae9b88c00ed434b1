import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';

const TOPIC = 'bad-input-topic';
const SUBSCRIPTION = Buffer.from([0, 0, 0, 0, 0, 1, 0, TOPIC.length, ...Buffer.from(TOPIC), 0xff, 0xff, 0xff, 0xff]);

describe('group APIs given bad input, over raw Kafka frames', () => {
  let broker: BrokerProcess;
  let client: RawKafkaClient;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '0'] });
    client = await RawKafkaClient.connect(broker.bootstrap);
    const created = await client.request(19, 4, { topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(created.topics[0]!.errorCode).toBe(0);
  });
  afterAll(async () => {
    client?.close();
    await broker?.cleanup();
  });

  /** A one-member Stable group; returns the member id (generation 1). */
  async function stableMember(groupId: string, groupInstanceId: string | null = null): Promise<string> {
    const join = await client.request(11, 5, { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: '', groupInstanceId, protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    let memberId = join.memberId;
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      const again = await client.request(11, 5, { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId, protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
      expect(again.errorCode).toBe(0);
      memberId = again.memberId;
    } else {
      expect(join.errorCode).toBe(0);
    }
    const sync = await client.request(14, 3, { groupId, generationId: 1, memberId, groupInstanceId, assignments: [{ memberId, assignment: Buffer.from('a') }] });
    expect(sync.errorCode).toBe(0);
    return memberId;
  }

  it('heartbeats from unknown members and stale generations get UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION', async () => {
    const member = await stableMember('hb-group');
    expect((await client.request(12, 3, { groupId: 'hb-group', generationId: 1, memberId: 'no-such-member', groupInstanceId: null })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await client.request(12, 4, { groupId: 'hb-group', generationId: 0, memberId: member, groupInstanceId: null })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await client.request(12, 0, { groupId: 'no-such-group', generationId: 1, memberId: member })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await client.request(12, 4, { groupId: 'hb-group', generationId: 1, memberId: member, groupInstanceId: null })).errorCode).toBe(0);
    const staleCommit = await client.request(8, 8, { groupId: 'hb-group', generationIdOrMemberEpoch: 0, memberId: member, groupInstanceId: null, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    expect(staleCommit.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const staleSync = await client.request(14, 4, { groupId: 'hb-group', generationId: 7, memberId: member, groupInstanceId: null, assignments: [] });
    expect(staleSync.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('a fenced static member cannot commit, heartbeat or rejoin: FENCED_INSTANCE_ID', async () => {
    const old = await stableMember('static-group', 'instance-1');
    // the same instance restarts: it takes over under a new member id
    const takeover = await client.request(11, 5, { groupId: 'static-group', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: '', groupInstanceId: 'instance-1', protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    expect(takeover).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(takeover.memberId).not.toBe(old);
    const commit = await client.request(8, 7, { groupId: 'static-group', generationIdOrMemberEpoch: 1, memberId: old, groupInstanceId: 'instance-1', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect((await client.request(12, 3, { groupId: 'static-group', generationId: 1, memberId: old, groupInstanceId: 'instance-1' })).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect((await client.request(14, 3, { groupId: 'static-group', generationId: 1, memberId: old, groupInstanceId: 'instance-1', assignments: [] })).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const rejoin = await client.request(11, 5, { groupId: 'static-group', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: old, groupInstanceId: 'instance-1', protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    expect(rejoin.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // nothing was committed for the fenced member, and the new one commits fine
    const fetched = await client.request(9, 5, { groupId: 'static-group', topics: null });
    expect(fetched.topics).toEqual([]);
    const ok = await client.request(8, 7, { groupId: 'static-group', generationIdOrMemberEpoch: 1, memberId: takeover.memberId, groupInstanceId: 'instance-1', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    expect(ok.topics[0]!.partitions[0]!.errorCode).toBe(0);
  });

  it('an empty group id gets INVALID_GROUP_ID where Kafka gives it', async () => {
    const join = await client.request(11, 5, { groupId: '', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    expect(join.errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await client.request(14, 3, { groupId: '', generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await client.request(12, 3, { groupId: '', generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await client.request(13, 3, { groupId: '', members: [{ memberId: 'm', groupInstanceId: null }] })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await client.request(47, 0, { groupId: '', topics: [] })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    // FindCoordinator, OffsetFetch and DescribeGroups accept it (as Kafka does)
    expect((await client.request(10, 1, { key: '', keyType: 0 })).errorCode).toBe(0);
    expect((await client.request(9, 5, { groupId: '', topics: null })).errorCode).toBe(0);
    expect((await client.request(15, 1, { groups: [''] })).groups[0]).toMatchObject({ errorCode: 0, groupState: 'Dead' });
  });

  it('other nonsense is answered, never crashes the broker', async () => {
    const tooShort = await client.request(11, 4, { groupId: 'g', sessionTimeoutMs: 1, rebalanceTimeoutMs: 1, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    expect(tooShort.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    const noProtocols = await client.request(11, 3, { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [] });
    expect(noProtocols.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const unknownMember = await client.request(11, 5, { groupId: 'fresh', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: 'made-up', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    expect(unknownMember.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const garbageSubscription = await stableMemberWithMetadata(client, 'garbage-group', Buffer.from([0xff, 0x00, 0x01]));
    // unreadable subscriptions count as subscribed: OffsetDelete refuses, nothing breaks
    const del = await client.request(47, 0, { groupId: 'garbage-group', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }] });
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    expect(garbageSubscription.length).toBeGreaterThan(0);
    const unknownTopicCommit = await client.request(8, 2, { groupId: 'simple', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1n, topics: [{ name: 'no-such-topic', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }, { name: TOPIC, partitions: [{ partitionIndex: 9, committedOffset: 1n, committedMetadata: null }] }] });
    expect(unknownTopicCommit.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    // transactional ids have a coordinator too (this broker); an unknown key type is a bad request
    const txn = await client.request(10, 4, { keyType: 1, coordinatorKeys: ['tx-1'] });
    expect({ errorCode: txn.coordinators[0]!.errorCode, port: txn.coordinators[0]!.port }).toEqual({ errorCode: ErrorCode.NONE, port: broker.kafkaPort });
    const unknownType = await client.request(10, 4, { keyType: 7, coordinatorKeys: ['x'] });
    expect(unknownType.coordinators[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(client.isClosed).toBe(false);
    expect(broker.process.exitCode).toBeNull();
    expect((await client.request(18, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })).errorCode).toBe(0);
  });
});

async function stableMemberWithMetadata(client: RawKafkaClient, groupId: string, metadata: Buffer): Promise<string> {
  const join = await client.request(11, 3, { groupId, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata }] });
  expect(join.errorCode).toBe(0);
  const sync = await client.request(14, 3, { groupId, generationId: join.generationId, memberId: join.memberId, groupInstanceId: null, assignments: [] });
  expect(sync.errorCode).toBe(0);
  return join.memberId;
}
