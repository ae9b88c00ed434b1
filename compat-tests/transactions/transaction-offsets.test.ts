/**
 * Consumer offsets committed inside a transaction (AddOffsetsToTxn + TxnOffsetCommit), over raw
 * Kafka frames, against Kafka 3.9's group coordinator: while the transaction is open the
 * offsets are pending. OffsetFetch without requireStable answers the last committed offsets.
 * With requireStable (v7+, which librdkafka and the Java consumer set under read_committed,
 * KIP-447) Kafka answers UNSTABLE_OFFSET_COMMIT (88) for those partitions
 * (GroupMetadataManager.getOffsets). EndTxn commit makes them the committed offsets; an abort
 * drops them. A retried EndTxn with the same outcome answers NONE; the other outcome gets
 * INVALID_TXN_STATE. A TxnOffsetCommit whose group was never added with AddOffsetsToTxn fails
 * Kafka 3.9's transaction verification: INVALID_TXN_STATE for v0-3, TRANSACTION_ABORTABLE for
 * v4 (GroupCoordinator.handleTxnCommitOffsets). Nothing is staged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { RawKafkaClient } from '../../test-kit/raw-kafka-client.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { createTopics } from './support.js';

const TOPIC = 'txn-offsets';

describe('offsets committed in transactions, over raw Kafka frames', () => {
  let broker: BrokerProcess;
  let client: RawKafkaClient;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--group-initial-rebalance-delay-ms', '0', '--transaction-abort-timed-out-transaction-cleanup-interval-ms', '500'] });
    await createTopics(broker.bootstrap, [{ topic: TOPIC, numPartitions: 2 }]);
    client = await RawKafkaClient.connect(broker.bootstrap);
  });
  afterAll(async () => {
    client?.close();
    await broker?.cleanup();
  });

  async function initProducer(transactionalId: string, transactionTimeoutMs = 60_000): Promise<{ producerId: bigint; producerEpoch: number }> {
    const res = await client.request(22, 4, { transactionalId, transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
    expect(res.errorCode, `InitProducerId ${transactionalId}`).toBe(0);
    return { producerId: res.producerId, producerEpoch: res.producerEpoch };
  }

  async function txnOffsetCommit(version: number, transactionalId: string, groupId: string, p: { producerId: bigint; producerEpoch: number }, offsets: Array<[number, bigint]>): Promise<number[]> {
    const res = await client.request(28, version, {
      transactionalId,
      groupId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: offsets.map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: 'in-txn' })) }],
    });
    return [...res.topics[0]!.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((x) => x.errorCode);
  }

  /** OffsetFetch of partitions 0 and 1: [partition, offset, errorCode] each (v8: the groups array; v7: one group). */
  async function offsetFetch(version: 7 | 8, groupId: string, requireStable: boolean): Promise<Array<[number, number, number]>> {
    const partitionIndexes = [0, 1];
    const parts =
      version === 8
        ? (await client.request(9, 8, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes }] }], requireStable })).groups[0]!.topics[0]!.partitions
        : (await client.request(9, 7, { groupId, topics: [{ name: TOPIC, partitionIndexes }], requireStable })).topics[0]!.partitions;
    return [...parts].sort((a, b) => a.partitionIndex - b.partitionIndex).map((x) => [x.partitionIndex, Number(x.committedOffset), x.errorCode]);
  }

  /** Kafka answers EndTxn before the offsets' markers are written: waits (at most 10 s) until no partition is UNSTABLE_OFFSET_COMMIT. */
  async function stable(groupId: string): Promise<void> {
    await waitUntil(`${groupId}'s offsets to be stable`, async () => (await offsetFetch(8, groupId, true)).every(([, , e]) => e !== ErrorCode.UNSTABLE_OFFSET_COMMIT), 10_000).catch(() => undefined);
  }

  const endTxn = async (transactionalId: string, p: { producerId: bigint; producerEpoch: number }, committed: boolean) =>
    (await client.request(26, 3, { transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed })).errorCode;
  const addOffsets = async (transactionalId: string, p: { producerId: bigint; producerEpoch: number }, groupId: string) =>
    (await client.request(25, 3, { transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId })).errorCode;

  it('pending until EndTxn: requireStable gets UNSTABLE_OFFSET_COMMIT, a commit makes them the committed offsets, an abort drops them', async () => {
    const group = 'txn-offsets-group';
    const plain = await client.request(8, 8, { groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: 'plain' }] }] });
    expect(plain.topics[0]!.partitions[0]!.errorCode).toBe(0);

    const producer = await initProducer('offsets-txn');
    // (every outcome gathered, compared at once: one mismatch does not hide the others)
    const got: Record<string, unknown> = {};
    got.addOffsets = await addOffsets('offsets-txn', producer, group);
    got.txnOffsetCommit = await txnOffsetCommit(3, 'offsets-txn', group, producer, [[0, 7n], [1, 4n]]);
    got.openNotStable = await offsetFetch(8, group, false);
    got.openStableV8 = await offsetFetch(8, group, true);
    got.openStableV7 = await offsetFetch(7, group, true);
    got.commit = await endTxn('offsets-txn', producer, true);
    await stable(group);
    got.committed = await offsetFetch(8, group, true);
    got.committedV7 = await offsetFetch(7, group, false);

    // a second transaction stages offset 20 for partition 0 and aborts
    got.addOffsets2 = await addOffsets('offsets-txn', producer, group);
    got.txnOffsetCommit2 = await txnOffsetCommit(3, 'offsets-txn', group, producer, [[0, 20n]]);
    got.open2Stable = await offsetFetch(8, group, true);
    got.abort = await endTxn('offsets-txn', producer, false);
    await stable(group);
    got.afterAbort = await offsetFetch(8, group, true);
    // EndTxn again: the same outcome is a retry (NONE), the other one is INVALID_TXN_STATE
    got.abortAgain = await endTxn('offsets-txn', producer, false);
    got.commitAfterAbort = await endTxn('offsets-txn', producer, true);
    got.finally = await offsetFetch(8, group, true);

    expect(got).toEqual({
      addOffsets: 0,
      txnOffsetCommit: [0, 0],
      openNotStable: [[0, 3, 0], [1, -1, 0]],
      openStableV8: [[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
      openStableV7: [[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT]],
      commit: 0,
      committed: [[0, 7, 0], [1, 4, 0]],
      committedV7: [[0, 7, 0], [1, 4, 0]],
      addOffsets2: 0,
      txnOffsetCommit2: [0],
      open2Stable: [[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, 4, 0]],
      abort: 0,
      afterAbort: [[0, 7, 0], [1, 4, 0]],
      abortAgain: 0,
      commitAfterAbort: ErrorCode.INVALID_TXN_STATE,
      finally: [[0, 7, 0], [1, 4, 0]],
    });
    const metadata = (await client.request(9, 8, { groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: [{ name: TOPIC, partitionIndexes: [0] }] }], requireStable: false })).groups[0]!.topics[0]!.partitions[0]!.metadata;
    expect(metadata).toBe('in-txn');
  });

  it('TxnOffsetCommit for a group not added with AddOffsetsToTxn: INVALID_TXN_STATE (v3), TRANSACTION_ABORTABLE (v4), nothing staged', async () => {
    const group = 'txn-offsets-unadded';
    const producer = await initProducer('offsets-unadded');
    const got = {
      v3: await txnOffsetCommit(3, 'offsets-unadded', group, producer, [[0, 5n]]),
      v4: await txnOffsetCommit(4, 'offsets-unadded', group, producer, [[0, 5n]]),
      stable: await offsetFetch(8, group, true),
      // nothing was added to the transaction: it is Empty
      endTxn: await endTxn('offsets-unadded', producer, true),
    };
    expect(got).toEqual({
      v3: [ErrorCode.INVALID_TXN_STATE],
      v4: [ErrorCode.TRANSACTION_ABORTABLE],
      stable: [[0, -1, 0], [1, -1, 0]],
      endTxn: ErrorCode.INVALID_TXN_STATE,
    });
  });

  it('TxnOffsetCommit v3 checks the group generation and member like OffsetCommit (KIP-447): ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID; only accepted commits count', async () => {
    const group = 'txn-offsets-members';
    const subscription = Buffer.from([0, 0, 0, 0, 0, 1, 0, TOPIC.length, ...Buffer.from(TOPIC), 0xff, 0xff, 0xff, 0xff]);
    const joinBody = (memberId: string) => ({ groupId: group, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription }] });
    let join = await client.request(11, 5, joinBody(''));
    if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) join = await client.request(11, 5, joinBody(join.memberId));
    expect({ errorCode: join.errorCode, generationId: join.generationId }).toEqual({ errorCode: 0, generationId: 1 });
    const memberId = join.memberId;
    const sync = await client.request(14, 3, { groupId: group, generationId: 1, memberId, groupInstanceId: null, assignments: [{ memberId, assignment: Buffer.from('a') }] });
    expect(sync.errorCode).toBe(0);

    const producer = await initProducer('offsets-members');
    expect(await addOffsets('offsets-members', producer, group)).toBe(0);
    const commit = async (generationId: number, member: string, partition: number, offset: bigint) => {
      const res = await client.request(28, 3, {
        transactionalId: 'offsets-members',
        groupId: group,
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        generationId,
        memberId: member,
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      return res.topics[0]!.partitions[0]!.errorCode;
    };
    const got = {
      staleGeneration: await commit(0, memberId, 0, 100n),
      unknownMember: await commit(1, 'no-such-member', 0, 200n),
      // generation -1 without a member id: what clients before KIP-447 send; Kafka accepts it for transactional commits
      legacy: await commit(-1, '', 1, 300n),
      current: await commit(1, memberId, 0, 400n),
      endTxn: await endTxn('offsets-members', producer, true),
    };
    await stable(group);
    expect({ ...got, offsets: await offsetFetch(8, group, true) }).toEqual({
      staleGeneration: ErrorCode.ILLEGAL_GENERATION,
      unknownMember: ErrorCode.UNKNOWN_MEMBER_ID,
      legacy: 0,
      current: 0,
      endTxn: 0,
      offsets: [[0, 400, 0], [1, 300, 0]],
    });
  });

  it('a transaction holding only offsets that outlives its timeout is aborted: the offsets are dropped, the producer fenced', async () => {
    const group = 'txn-offsets-timeout';
    const producer = await initProducer('offsets-timeout', 1000);
    expect(await addOffsets('offsets-timeout', producer, group)).toBe(0);
    expect(await txnOffsetCommit(3, 'offsets-timeout', group, producer, [[0, 55n]])).toEqual([0]);
    expect(await offsetFetch(8, group, true)).toEqual([[0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT], [1, -1, 0]]);
    const started = Date.now();
    await waitUntil('the timed-out transaction to be aborted', async () => (await offsetFetch(8, group, true))[0]![2] !== ErrorCode.UNSTABLE_OFFSET_COMMIT, 10_000);
    expect(Date.now() - started).toBeLessThan(1000 + 500 + 2500);
    expect({
      offsets: await offsetFetch(8, group, true),
      // the abort bumped the epoch: the producer's own EndTxn is fenced
      commit: await endTxn('offsets-timeout', producer, true),
      staleAddOffsets: await addOffsets('offsets-timeout', producer, group),
    }).toEqual({ offsets: [[0, -1, 0], [1, -1, 0]], commit: ErrorCode.PRODUCER_FENCED, staleAddOffsets: ErrorCode.PRODUCER_FENCED });
  });
});
