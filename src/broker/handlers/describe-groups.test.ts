import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { groupHandlerKit, wireCall, type GroupHandlerKit } from '../groups/test-support/group-handler-kit.js';
import { encodeSubscription } from '../groups/test-support/consumer-protocol-bytes.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { describeGroupsHandler } from './describe-groups.js';
import { GROUP_AUTHORIZED_OPERATIONS } from './authorized-operations.js';
import { joinGroupHandler } from './join-group.js';
import { listGroupsHandler } from './list-groups.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { syncGroupHandler } from './sync-group.js';

const SUBSCRIPTION = encodeSubscription(['orders'], { version: 1 });

describe('DescribeGroups / ListGroups / DeleteGroups / OffsetDelete handlers', () => {
  let kit: GroupHandlerKit;
  let member: string;

  beforeEach(async () => {
    kit = await groupHandlerKit();
    await kit.services.topics.create({ name: 'orders', partitions: 2, configs: {} });
    await kit.services.topics.create({ name: 'old', partitions: 1, configs: {} });
    // a Stable consumer group "live" with one member subscribed to "orders"
    const join = await wireCall(kit, joinGroupHandler, 3, { groupId: 'live', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: SUBSCRIPTION }] });
    member = join.memberId;
    await wireCall(kit, syncGroupHandler, 3, { groupId: 'live', generationId: 1, memberId: member, groupInstanceId: null, assignments: [{ memberId: member, assignment: Buffer.from('assignment') }] });
    const partitions = [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }];
    await wireCall(kit, offsetCommitHandler, 8, { groupId: 'live', generationIdOrMemberEpoch: 1, memberId: member, groupInstanceId: null, topics: [{ name: 'orders', partitions }, { name: 'old', partitions }] });
    await wireCall(kit, offsetCommitHandler, 8, { groupId: 'simple', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'orders', partitions }] });
  });
  afterEach(async () => {
    await kit.close();
  });

  it('describes a stable group with member metadata and assignment; unknown groups are Dead', async () => {
    const res = await wireCall(kit, describeGroupsHandler, 5, { groups: ['live', 'simple', 'unknown'], includeAuthorizedOperations: true });
    expect(res).toEqual({
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          groupId: 'live',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'range',
          members: [{ memberId: member, groupInstanceId: null, clientId: 'test', clientHost: '/127.0.0.1', memberMetadata: SUBSCRIPTION, memberAssignment: Buffer.from('assignment') }],
          authorizedOperations: GROUP_AUTHORIZED_OPERATIONS,
        },
        { errorCode: 0, groupId: 'simple', groupState: 'Empty', protocolType: '', protocolData: '', members: [], authorizedOperations: GROUP_AUTHORIZED_OPERATIONS },
        { errorCode: 0, groupId: 'unknown', groupState: 'Dead', protocolType: '', protocolData: '', members: [], authorizedOperations: GROUP_AUTHORIZED_OPERATIONS },
      ],
    });
    const v0 = await wireCall(kit, describeGroupsHandler, 0, { groups: ['live'] });
    expect(v0.groups[0]!.authorizedOperations).toBe(-2147483648);
    const notAsked = await wireCall(kit, describeGroupsHandler, 3, { groups: ['live'], includeAuthorizedOperations: false });
    expect(notAsked.groups[0]!.authorizedOperations).toBe(-2147483648);
    kit.locator.local = false;
    const foreign = await wireCall(kit, describeGroupsHandler, 4, { groups: ['live'], includeAuthorizedOperations: true });
    expect(foreign.groups).toEqual([{ errorCode: ErrorCode.NOT_COORDINATOR, groupId: 'live', groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 }]);
  });

  it('lists groups, filtered by state from v4 and by type from v5', async () => {
    expect(await wireCall(kit, listGroupsHandler, 0, {})).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      groups: [
        { groupId: 'live', protocolType: 'consumer', groupState: '', groupType: '' },
        { groupId: 'simple', protocolType: '', groupState: '', groupType: '' },
      ],
    });
    expect((await wireCall(kit, listGroupsHandler, 4, { statesFilter: ['empty'] })).groups).toEqual([{ groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: '' }]);
    expect((await wireCall(kit, listGroupsHandler, 4, { statesFilter: [] })).groups.map((g) => g.groupState)).toEqual(['Stable', 'Empty']);
    expect((await wireCall(kit, listGroupsHandler, 5, { statesFilter: ['Stable'], typesFilter: ['Classic'] })).groups).toEqual([{ groupId: 'live', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }]);
    expect((await wireCall(kit, listGroupsHandler, 5, { statesFilter: [], typesFilter: ['consumer'] })).groups).toEqual([]);
  });

  it('deletes only empty groups, once per distinct id', async () => {
    const res = await wireCall(kit, deleteGroupsHandler, 2, { groupsNames: ['live', 'simple', 'missing', 'simple'] });
    expect(res).toEqual({
      throttleTimeMs: 0,
      results: [
        { groupId: 'live', errorCode: ErrorCode.NON_EMPTY_GROUP },
        { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
        { groupId: 'simple', errorCode: 0 },
      ],
    });
    expect(await kit.store.groupOffsets.fetch('simple')).toEqual([]);
    expect((await wireCall(kit, describeGroupsHandler, 1, { groups: ['simple'] })).groups[0]!.groupState).toBe('Dead');
  });

  it('OffsetDelete: subscribed topics refused, others removed, unknown topics and groups reported', async () => {
    const res = await wireCall(kit, offsetDeleteHandler, 0, {
      groupId: 'live',
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0 }] },
        { name: 'old', partitions: [{ partitionIndex: 0 }] },
        { name: 'ghost', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    expect(res).toEqual({
      errorCode: 0,
      throttleTimeMs: 0,
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] },
        { name: 'old', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
        { name: 'ghost', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
    });
    expect((await kit.store.groupOffsets.fetch('live')).map((o) => o.topic)).toEqual(['orders']);
    expect(await wireCall(kit, offsetDeleteHandler, 0, { groupId: 'missing', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] })).toEqual({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] });
    const simple = await wireCall(kit, offsetDeleteHandler, 0, { groupId: 'simple', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }] });
    expect(simple.topics).toEqual([{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }]);
    expect(await kit.store.groupOffsets.fetch('simple')).toEqual([]);
  });
});
