import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { OffsetCommitRequestTopic } from '../../protocol/messages/generated/offset-commit.js';
import { groupHandlerKit, wireCall, type GroupHandlerKit } from '../groups/test-support/group-handler-kit.js';
import { joinGroupHandler } from './join-group.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { syncGroupHandler } from './sync-group.js';

function part(partitionIndex: number, committedOffset: bigint, committedMetadata: string | null = null, committedLeaderEpoch = -1) {
  return { partitionIndex, committedOffset, committedLeaderEpoch, commitTimestamp: -1n, committedMetadata };
}

describe('OffsetCommit / OffsetFetch handlers', () => {
  let kit: GroupHandlerKit;

  beforeEach(async () => {
    kit = await groupHandlerKit();
    await kit.services.topics.create({ name: 'orders', partitions: 3, configs: {} });
    await kit.services.topics.create({ name: 'users', partitions: 1, configs: {} });
  });
  afterEach(async () => {
    await kit.close();
  });

  async function commit(version: number, topics: Array<Partial<OffsetCommitRequestTopic>>, group: { groupId?: string; generationIdOrMemberEpoch?: number; memberId?: string; groupInstanceId?: string | null } = {}) {
    return wireCall(kit, offsetCommitHandler, version, { groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, ...group, topics: topics as OffsetCommitRequestTopic[] });
  }

  it('commits durably with metadata and leader epoch; unknown partitions fail alone', async () => {
    const res = await commit(8, [
      { name: 'orders', partitions: [part(0, 42n, 'meta', 5), part(3, 1n)] },
      { name: 'ghost', partitions: [part(0, 1n)] },
      { name: 'users', partitions: [part(0, 7n)] },
    ]);
    expect(res).toEqual({
      throttleTimeMs: 0,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 3, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
        { name: 'ghost', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
        { name: 'users', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
      ],
    });
    const stored = await kit.store.groupOffsets.fetch('g');
    expect(stored.map(({ commitTimestamp, ...o }) => o)).toEqual([
      { topic: 'orders', partition: 0, offset: 42n, leaderEpoch: 5, metadata: 'meta' },
      { topic: 'users', partition: 0, offset: 7n, leaderEpoch: -1, metadata: '' },
    ]);
  });

  it('drops the leader epoch before v6 and honours v1 commit timestamps', async () => {
    await commit(5, [{ name: 'orders', partitions: [part(0, 1n, null, 9)] }]);
    await commit(1, [{ name: 'orders', partitions: [{ ...part(1, 2n), commitTimestamp: 12345n }] }]);
    await commit(0, [{ name: 'orders', partitions: [part(2, 3n)] }], { groupId: 'v0' });
    const stored = await kit.store.groupOffsets.fetch('g');
    expect(stored.map((o) => [o.partition, o.leaderEpoch])).toEqual([[0, -1], [1, -1]]);
    expect(stored[1]!.commitTimestamp).toBe(12345);
    expect((await kit.store.groupOffsets.fetch('v0')).map((o) => o.offset)).toEqual([3n]);
  });

  it('refuses metadata above 4096 characters and commits from non-members', async () => {
    const big = await commit(2, [{ name: 'orders', partitions: [part(0, 1n, 'm'.repeat(4097)), part(1, 1n, 'm'.repeat(4096))] }]);
    expect(big.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
    const join = await wireCall(kit, joinGroupHandler, 3, { groupId: 'live', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    const asMember = (generationIdOrMemberEpoch: number, memberId: string) => commit(7, [{ name: 'orders', partitions: [part(0, 5n)] }], { groupId: 'live', generationIdOrMemberEpoch, memberId });
    // awaiting its assignment: not yet
    expect((await asMember(1, join.memberId)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    await wireCall(kit, syncGroupHandler, 3, { groupId: 'live', generationId: 1, memberId: join.memberId, groupInstanceId: null, assignments: [] });
    expect((await asMember(1, join.memberId)).topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect((await asMember(0, join.memberId)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await asMember(1, 'stranger')).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await asMember(-1, '')).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await commit(7, [{ name: 'orders', partitions: [part(0, 5n)] }], { groupId: 'live', generationIdOrMemberEpoch: 1, memberId: join.memberId, groupInstanceId: 'not-mine' })).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await commit(7, [{ name: 'orders', partitions: [part(0, 5n)] }], { groupId: 'brand-new', generationIdOrMemberEpoch: 4, memberId: 'm' })).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });

  it('OffsetFetch v1-7: listed partitions (unknown ones at -1) and, from v2, everything with null topics', async () => {
    await commit(8, [{ name: 'orders', partitions: [part(2, 20n, 'two', 4), part(0, 10n)] }, { name: 'users', partitions: [part(0, 1n)] }]);
    const listed = await wireCall(kit, offsetFetchHandler, 1, { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1] }, { name: 'ghost', partitionIndexes: [0] }] });
    expect(listed).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [],
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            { partitionIndex: 1, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
        { name: 'ghost', partitions: [{ partitionIndex: 0, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] },
      ],
    });
    const all = await wireCall(kit, offsetFetchHandler, 7, { groupId: 'g', topics: null, requireStable: true });
    expect(all.errorCode).toBe(0);
    expect(all.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          { partitionIndex: 2, committedOffset: 20n, committedLeaderEpoch: 4, metadata: 'two', errorCode: 0 },
        ],
      },
      { name: 'users', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] },
    ]);
    expect((await wireCall(kit, offsetFetchHandler, 3, { groupId: 'nobody', topics: null })).topics).toEqual([]);
  });

  it('OffsetFetch v8 answers several groups at once', async () => {
    await commit(8, [{ name: 'orders', partitions: [part(1, 11n)] }], { groupId: 'a' });
    await commit(8, [{ name: 'users', partitions: [part(0, 5n)] }], { groupId: 'b' });
    const res = await wireCall(kit, offsetFetchHandler, 8, {
      groups: [
        { groupId: 'a', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitionIndexes: [1, 2] }] },
        { groupId: 'b', memberId: null, memberEpoch: -1, topics: null },
      ],
      requireStable: false,
    });
    expect(res.groups).toEqual([
      {
        groupId: 'a',
        errorCode: 0,
        topics: [
          {
            name: 'orders',
            partitions: [
              { partitionIndex: 1, committedOffset: 11n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
              { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            ],
          },
        ],
      },
      { groupId: 'b', errorCode: 0, topics: [{ name: 'users', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] }] },
    ]);
  });

  it('reports a group error per partition before v2, at the top from v2', async () => {
    kit.locator.local = false;
    const v1 = await wireCall(kit, offsetFetchHandler, 1, { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0] }] });
    expect(v1.topics).toEqual([{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NOT_COORDINATOR }] }]);
    const v2 = await wireCall(kit, offsetFetchHandler, 2, { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0] }] });
    expect(v2).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR, topics: [] });
    const v8 = await wireCall(kit, offsetFetchHandler, 8, { groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }] });
    expect(v8.groups).toEqual([{ groupId: 'g', errorCode: ErrorCode.NOT_COORDINATOR, topics: [] }]);
    const c = await commit(3, [{ name: 'orders', partitions: [part(0, 1n)] }]);
    expect(c.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });
});
