import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { JoinGroupRequest } from '../../protocol/messages/generated/join-group.js';
import { groupHandlerKit, wireCall, type GroupHandlerKit } from '../groups/test-support/group-handler-kit.js';
import { heartbeatHandler } from './heartbeat.js';
import { joinGroupHandler } from './join-group.js';
import { leaveGroupHandler } from './leave-group.js';
import { syncGroupHandler } from './sync-group.js';

const META = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);

function joinBody(overrides: Partial<JoinGroupRequest> = {}): Partial<JoinGroupRequest> {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: META }],
    reason: null,
    ...overrides,
  };
}

describe('JoinGroup / SyncGroup / Heartbeat / LeaveGroup handlers', () => {
  let kit: GroupHandlerKit;

  beforeEach(async () => {
    kit = await groupHandlerKit();
  });
  afterEach(async () => {
    await kit.close();
  });

  it('v0: a member joins at once, its session timeout doubling as rebalance timeout', async () => {
    const res = await wireCall(kit, joinGroupHandler, 0, joinBody());
    expect(res.memberId).toMatch(/^test-[0-9a-f-]{36}$/);
    expect(res).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolType: null,
      protocolName: 'range',
      leader: res.memberId,
      skipAssignment: false,
      memberId: res.memberId,
      members: [{ memberId: res.memberId, groupInstanceId: null, metadata: META }],
    });
    expect(kit.coordinator.group('g')!.get(res.memberId)!.rebalanceTimeoutMs).toBe(10_000);
    const sync = await wireCall(kit, syncGroupHandler, 0, { groupId: 'g', generationId: 1, memberId: res.memberId, assignments: [{ memberId: res.memberId, assignment: Buffer.from('A') }] });
    expect(sync).toEqual({ throttleTimeMs: 0, errorCode: 0, protocolType: null, protocolName: null, assignment: Buffer.from('A') });
    expect(await wireCall(kit, heartbeatHandler, 0, { groupId: 'g', generationId: 1, memberId: res.memberId })).toEqual({ throttleTimeMs: 0, errorCode: 0 });
  });

  it('v4-v6: MEMBER_ID_REQUIRED first, with the empty protocol name of old versions', async () => {
    const first = await wireCall(kit, joinGroupHandler, 6, joinBody());
    expect(first).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.MEMBER_ID_REQUIRED,
      generationId: -1,
      protocolType: null,
      protocolName: '',
      leader: '',
      skipAssignment: false,
      memberId: first.memberId,
      members: [],
    });
    expect(first.memberId).toMatch(/^test-/);
    const second = await wireCall(kit, joinGroupHandler, 4, joinBody({ memberId: first.memberId }));
    expect(second).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: first.memberId, memberId: first.memberId });
  });

  it('v7+: protocol type in the response and a null protocol name on errors', async () => {
    const bad = await wireCall(kit, joinGroupHandler, 7, joinBody({ groupId: '' }));
    expect(bad).toMatchObject({ errorCode: ErrorCode.INVALID_GROUP_ID, protocolType: null, protocolName: null, generationId: -1 });
    const first = await wireCall(kit, joinGroupHandler, 8, joinBody({ reason: 'starting' }));
    const res = await wireCall(kit, joinGroupHandler, 8, joinBody({ memberId: first.memberId, reason: 'starting' }));
    expect(res).toMatchObject({ errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range' });
    const v5 = await wireCall(kit, syncGroupHandler, 5, { groupId: 'g', generationId: 1, memberId: first.memberId, protocolType: null, protocolName: null, assignments: [] });
    expect(v5).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    const ok = await wireCall(kit, syncGroupHandler, 5, { groupId: 'g', generationId: 1, memberId: first.memberId, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: first.memberId, assignment: Buffer.from('x') }] });
    expect(ok).toEqual({ throttleTimeMs: 0, errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('x') });
  });

  it('v5+: static members join without MEMBER_ID_REQUIRED; a restart keeps the generation and fences the old id', async () => {
    const first = await wireCall(kit, joinGroupHandler, 5, joinBody({ groupInstanceId: 'inst-1' }));
    expect(first).toMatchObject({ errorCode: 0, generationId: 1, members: [{ groupInstanceId: 'inst-1' }] });
    expect(first.memberId).toMatch(/^inst-1-/);
    await wireCall(kit, syncGroupHandler, 3, { groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: 'inst-1', assignments: [{ memberId: first.memberId, assignment: Buffer.from('A') }] });
    const again = await wireCall(kit, joinGroupHandler, 9, joinBody({ groupInstanceId: 'inst-1' }));
    expect(again).toMatchObject({ errorCode: 0, generationId: 1, leader: again.memberId, skipAssignment: true, members: [{ memberId: again.memberId, groupInstanceId: 'inst-1', metadata: META }] });
    expect((await wireCall(kit, syncGroupHandler, 4, { groupId: 'g', generationId: 1, memberId: again.memberId, groupInstanceId: 'inst-1', assignments: [] })).assignment).toEqual(Buffer.from('A'));
    expect(await wireCall(kit, heartbeatHandler, 3, { groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: 'inst-1' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.FENCED_INSTANCE_ID });
    expect((await wireCall(kit, heartbeatHandler, 4, { groupId: 'g', generationId: 1, memberId: again.memberId, groupInstanceId: 'inst-1' })).errorCode).toBe(0);
  });

  it('Heartbeat answers unknown members, stale generations and empty group ids with Kafka codes', async () => {
    const res = await wireCall(kit, joinGroupHandler, 3, joinBody());
    await wireCall(kit, syncGroupHandler, 2, { groupId: 'g', generationId: 1, memberId: res.memberId, assignments: [] });
    expect((await wireCall(kit, heartbeatHandler, 2, { groupId: 'g', generationId: 1, memberId: 'unknown' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await wireCall(kit, heartbeatHandler, 2, { groupId: 'g', generationId: 0, memberId: res.memberId })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await wireCall(kit, heartbeatHandler, 1, { groupId: '', generationId: 1, memberId: res.memberId })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await wireCall(kit, heartbeatHandler, 1, { groupId: 'nope', generationId: 1, memberId: res.memberId })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('LeaveGroup v0-2 answers with the member error at the top; v3+ per member', async () => {
    const a = await wireCall(kit, joinGroupHandler, 2, joinBody());
    expect(await wireCall(kit, leaveGroupHandler, 0, { groupId: 'g', memberId: 'nobody' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] });
    expect(await wireCall(kit, leaveGroupHandler, 3, { groupId: 'g', members: [{ memberId: 'nobody', groupInstanceId: null, reason: null }] })).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: 'nobody', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }],
    });
    expect(await wireCall(kit, leaveGroupHandler, 5, { groupId: 'g', members: [{ memberId: a.memberId, groupInstanceId: null, reason: 'shutting down' }] })).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [{ memberId: a.memberId, groupInstanceId: null, errorCode: 0 }],
    });
    expect(kit.coordinator.group('g')!.state).toBe('Empty');
    expect((await wireCall(kit, leaveGroupHandler, 1, { groupId: '', memberId: 'x' })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  it('answers NOT_COORDINATOR for groups another agent coordinates', async () => {
    kit.locator.local = false;
    expect((await wireCall(kit, joinGroupHandler, 5, joinBody())).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await wireCall(kit, syncGroupHandler, 3, { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] })).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await wireCall(kit, heartbeatHandler, 3, { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });
});
