import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { GroupCoordinator, SyncGroupInput } from './group-coordinator.js';
import type { JoinGroupResult } from './group-results.js';
import { coordinatorHarness, joinDynamic, joinInput, peek, protocols, type CoordinatorHarness } from './test-support/coordinator-harness.js';
import { encodeSubscription } from '../../broker/groups/test-support/consumer-protocol-bytes.js';

let h: CoordinatorHarness;
let c: GroupCoordinator;

beforeEach(async () => {
  vi.useFakeTimers({ now: 1_000_000 });
  h = await coordinatorHarness();
  c = h.coordinator;
});

afterEach(async () => {
  await h.close();
  vi.useRealTimers();
});

function sync(memberId: string, generationId: number, assignments: Array<[string, string]> = [], more: Partial<SyncGroupInput> = {}) {
  return c.syncGroup({
    groupId: 'g',
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: assignments.map(([m, a]) => ({ memberId: m, assignment: Buffer.from(a) })),
    ...more,
  });
}

/**
 * Forms a Stable group of dynamic members (generation 1); the first one leads. Members that
 * arrive during the initial delay extend it once (Kafka's InitialDelayedJoin), hence 200 ms.
 */
async function stableGroup(n: number, overrides: Parameters<typeof joinInput>[0] = {}): Promise<string[]> {
  const joins: Array<{ memberId: string; join: Promise<JoinGroupResult> }> = [];
  for (let i = 0; i < n; i++) joins.push(await joinDynamic(c, { clientId: `c${i}`, ...overrides }));
  await vi.advanceTimersByTimeAsync(200);
  const results = await Promise.all(joins.map((j) => j.join));
  const ids = joins.map((j) => j.memberId);
  expect(results.map((r) => r.generationId)).toEqual(ids.map(() => 1));
  const leader = ids[0]!;
  expect(results[0]!.leaderId).toBe(leader);
  const syncs = ids.map((id) => sync(id, 1, id === leader ? ids.map((m) => [m, `assign-${m}`] as [string, string]) : []));
  const synced = await Promise.all(syncs);
  expect(synced.map((s) => s.errorCode)).toEqual(ids.map(() => 0));
  expect(c.group('g')!.state).toBe('Stable');
  return ids;
}

describe('GroupCoordinator: joining', () => {
  it('asks a new v4+ member for its id, waits the initial delay, then makes it leader', async () => {
    const { memberId, join } = await joinDynamic(c, { clientId: 'c1', protocols: protocols('range', 'roundrobin') });
    expect(memberId).toMatch(/^c1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    await vi.advanceTimersByTimeAsync(99);
    expect((await peek(join)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await join).toEqual({
      errorCode: 0,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leaderId: memberId,
      memberId,
      members: [{ memberId, groupInstanceId: null, metadata: Buffer.from('meta-range') }],
      skipAssignment: false,
    });
    expect(c.group('g')!.state).toBe('CompletingRebalance');
    expect(await sync(memberId, 1, [[memberId, 'A']])).toEqual({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('A') });
    expect(c.group('g')!.state).toBe('Stable');
  });

  it('adds a pre-v4 member at once and gives a v0-v3 member no MEMBER_ID_REQUIRED', async () => {
    const join = c.joinGroup(joinInput({ clientId: 'old' }));
    await vi.advanceTimersByTimeAsync(200);
    const r = await join;
    expect(r.errorCode).toBe(0);
    expect(r.memberId).toMatch(/^old-/);
    expect(r.leaderId).toBe(r.memberId);
  });

  it('extends the initial delay while members keep arriving, within the rebalance timeout', async () => {
    const a = await joinDynamic(c, { clientId: 'a', rebalanceTimeoutMs: 250 });
    await vi.advanceTimersByTimeAsync(50);
    const b = await joinDynamic(c, { clientId: 'b' });
    await vi.advanceTimersByTimeAsync(149);
    expect((await peek(a.join)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const [ra, rb] = await Promise.all([a.join, b.join]);
    expect(ra.generationId).toBe(1);
    expect(ra.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId]);
    expect(rb).toMatchObject({ generationId: 1, leaderId: a.memberId, members: [] });
  });

  it('rebalances when a member joins a stable group and completes once everyone rejoined', async () => {
    const [a, b] = await stableGroup(2);
    const d = await joinDynamic(c, { clientId: 'd' });
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.heartbeat('g', a!, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(c.heartbeat('g', b!, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ja = c.joinGroup(joinInput({ memberId: a!, requireKnownMemberId: true }));
    expect((await peek(ja)).done).toBe(false);
    const jb = c.joinGroup(joinInput({ memberId: b!, requireKnownMemberId: true }));
    const [ra, rb, rd] = await Promise.all([ja, jb, d.join]);
    expect(ra).toMatchObject({ errorCode: 0, generationId: 2, leaderId: a });
    expect(ra.members.map((m) => m.memberId).sort()).toEqual([a!, b!, d.memberId].sort());
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2, leaderId: a, members: [] });
    expect(rd).toMatchObject({ errorCode: 0, generationId: 2, leaderId: a, members: [] });
    // the old generation is over
    expect(c.heartbeat('g', b!, null, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.heartbeat('g', b!, null, 2)).toBe(ErrorCode.NONE);
  });

  it('a rejoining leader triggers a rebalance; a follower with unchanged metadata just gets the generation', async () => {
    const [a, b] = await stableGroup(2);
    const follower = await c.joinGroup(joinInput({ memberId: b!, requireKnownMemberId: true }));
    expect(follower).toMatchObject({ errorCode: 0, generationId: 1, leaderId: a, memberId: b, members: [] });
    expect(c.group('g')!.state).toBe('Stable');
    const ja = c.joinGroup(joinInput({ memberId: a!, requireKnownMemberId: true }));
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    const jb = c.joinGroup(joinInput({ memberId: b!, requireKnownMemberId: true }));
    expect((await ja).generationId).toBe(2);
    expect((await jb).generationId).toBe(2);
  });

  it('answers a repeated JoinGroup during CompletingRebalance with the same generation', async () => {
    const { memberId, join } = await joinDynamic(c);
    await vi.advanceTimersByTimeAsync(200);
    const first = await join;
    const again = await c.joinGroup(joinInput({ memberId, requireKnownMemberId: true }));
    expect(again).toEqual(first);
    expect(c.group('g')!.state).toBe('CompletingRebalance');
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const [a, b] = await stableGroup(2, { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 });
    const d = await joinDynamic(c, { clientId: 'd', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 });
    const ja = c.joinGroup(joinInput({ memberId: a!, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 }));
    await vi.advanceTimersByTimeAsync(9_999);
    expect((await peek(ja)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const ra = await ja;
    expect(ra.generationId).toBe(2);
    expect(ra.members.map((m) => m.memberId).sort()).toEqual([a!, d.memberId].sort());
    expect(c.group('g')!.has(b!)).toBe(false);
    expect(c.heartbeat('g', b!, null, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('expires a member whose session runs out and rebalances the rest', async () => {
    const [a, b] = await stableGroup(2);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(c.heartbeat('g', a!, null, 1)).toBe(ErrorCode.NONE);
    await vi.advanceTimersByTimeAsync(3_999);
    expect(c.group('g')!.state).toBe('Stable');
    await vi.advanceTimersByTimeAsync(1);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.group('g')!.has(b!)).toBe(false);
    expect(c.heartbeat('g', a!, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const ra = await c.joinGroup(joinInput({ memberId: a! }));
    expect(ra).toMatchObject({ generationId: 2, leaderId: a, members: [{ memberId: a }] });
  });

  it('hands leadership to a rejoined member when the leader is gone', async () => {
    const [a, b] = await stableGroup(2);
    expect(c.leaveGroup('g', [{ memberId: a!, groupInstanceId: null, reason: 'bye' }])).toEqual({ errorCode: 0, members: [{ memberId: a, groupInstanceId: null, errorCode: 0 }] });
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    const rb = await c.joinGroup(joinInput({ memberId: b! }));
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2, leaderId: b, members: [{ memberId: b }] });
  });

  it('goes back to Empty (new generation) when the last member leaves', async () => {
    const [a] = await stableGroup(1);
    c.leaveGroup('g', [{ memberId: a!, groupInstanceId: null, reason: null }]);
    expect(c.group('g')!.state).toBe('Empty');
    expect(c.group('g')!.generationId).toBe(2);
    expect(c.heartbeat('g', a!, null, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('waits for a MEMBER_ID_REQUIRED member until its session timeout', async () => {
    const [a] = await stableGroup(1);
    const first = await c.joinGroup(joinInput({ clientId: 'late', requireKnownMemberId: true, sessionTimeoutMs: 6_000 }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    // the pending member does not start a rebalance by itself, the leader's rejoin does
    const ja = c.joinGroup(joinInput({ memberId: a! }));
    expect((await peek(ja)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(await ja).toMatchObject({ generationId: 2, members: [{ memberId: a }] });
  });

  it('LeaveGroup answers per member: pending, by instance id, unknown', async () => {
    const [a] = await stableGroup(1);
    const pending = await c.joinGroup(joinInput({ requireKnownMemberId: true }));
    expect(c.leaveGroup('g', [
      { memberId: pending.memberId, groupInstanceId: null, reason: null },
      { memberId: 'nobody', groupInstanceId: null, reason: null },
      { memberId: '', groupInstanceId: 'no-such-instance', reason: null },
      { memberId: a!, groupInstanceId: 'wrong-instance', reason: null },
    ])).toEqual({
      errorCode: 0,
      members: [
        { memberId: pending.memberId, groupInstanceId: null, errorCode: 0 },
        { memberId: 'nobody', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
        { memberId: '', groupInstanceId: 'no-such-instance', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
        { memberId: a, groupInstanceId: 'wrong-instance', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(c.group('g')!.state).toBe('Stable');
    expect(c.leaveGroup('unknown-group', [{ memberId: 'm', groupInstanceId: null, reason: null }])).toEqual({ errorCode: 0, members: [{ memberId: 'm', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] });
    expect(c.leaveGroup('', [])).toEqual({ errorCode: ErrorCode.INVALID_GROUP_ID, members: [] });
  });
});

describe('GroupCoordinator: protocols', () => {
  it('selects the protocol all members support by preference votes', async () => {
    const a = await joinDynamic(c, { protocols: protocols('x', 'y', 'z') });
    const b = await joinDynamic(c, { protocols: protocols('y', 'x') });
    const d = await joinDynamic(c, { protocols: protocols('x', 'y') });
    await vi.advanceTimersByTimeAsync(200);
    expect((await a.join).protocolName).toBe('x');
    expect((await b.join).protocolName).toBe('x');
    expect((await a.join).members.map((m) => m.metadata.toString())).toEqual(['meta-x', 'meta-x', 'meta-x']);
    await d.join;
  });

  it('refuses a member whose protocol type differs or who shares no protocol', async () => {
    await stableGroup(1, { protocols: protocols('range', 'roundrobin') });
    expect((await c.joinGroup(joinInput({ protocolType: 'connect' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(joinInput({ protocols: protocols('sticky') }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(joinInput({ groupId: 'fresh', protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(joinInput({ groupId: 'fresh2', protocolType: '' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(c.group('g')!.state).toBe('Stable');
  });
});

describe('GroupCoordinator: errors', () => {
  it('answers bad heartbeats with Kafka codes', async () => {
    const [a] = await stableGroup(1);
    expect(c.heartbeat('', a!, null, 1)).toBe(ErrorCode.INVALID_GROUP_ID);
    expect(c.heartbeat('other', a!, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.heartbeat('g', 'nobody', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.heartbeat('g', a!, null, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.heartbeat('g', a!, 'not-static', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    h.locator.local = false;
    expect(c.heartbeat('g', a!, null, 1)).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('answers bad joins with Kafka codes', async () => {
    expect((await c.joinGroup(joinInput({ groupId: '' }))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.joinGroup(joinInput({ sessionTimeoutMs: 5_999 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(joinInput({ sessionTimeoutMs: 1_800_001 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(await c.joinGroup(joinInput({ memberId: 'made-up' }))).toEqual({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId: 'made-up', members: [], skipAssignment: false });
    expect(c.group('g')).toBeUndefined();
  });

  it('answers SyncGroup by state: waits for the leader, refuses stale or unknown callers', async () => {
    const a = await joinDynamic(c, { clientId: 'a' });
    const b = await joinDynamic(c, { clientId: 'b' });
    expect(await sync(a.memberId, 0)).toMatchObject({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([a.join, b.join]);
    expect(await sync('nobody', 1)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(await sync(b.memberId, 2)).toMatchObject({ errorCode: ErrorCode.ILLEGAL_GENERATION });
    expect(await sync(b.memberId, 1, [], { protocolType: 'connect' })).toMatchObject({ errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL });
    expect(await sync(b.memberId, 1, [], { protocolName: 'roundrobin' })).toMatchObject({ errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL });
    expect(c.heartbeat('g', b.memberId, null, 1)).toBe(ErrorCode.NONE);
    const follower = sync(b.memberId, 1);
    expect((await peek(follower)).done).toBe(false);
    // the leader leaves out nobody's assignment for b: b gets an empty one
    const leader = await sync(a.memberId, 1, [[a.memberId, 'for-a'], ['stranger', 'x']], { protocolType: 'consumer', protocolName: 'range' });
    expect(leader.assignment).toEqual(Buffer.from('for-a'));
    expect(await follower).toEqual({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.alloc(0) });
    expect(await sync('x', 1, [], { groupId: '' })).toMatchObject({ errorCode: ErrorCode.INVALID_GROUP_ID });
    expect(await sync('x', 1, [], { groupId: 'unknown' })).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
  });

  it('tells followers parked in SyncGroup to rejoin when a rebalance starts', async () => {
    const a = await joinDynamic(c, { clientId: 'a' });
    const b = await joinDynamic(c, { clientId: 'b' });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([a.join, b.join]);
    const follower = sync(b.memberId, 1);
    c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null, reason: null }]);
    expect(await follower).toEqual({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });

  it('removes members that never send SyncGroup within the rebalance timeout', async () => {
    const a = await joinDynamic(c, { clientId: 'a', sessionTimeoutMs: 30_000 });
    const b = await joinDynamic(c, { clientId: 'b', sessionTimeoutMs: 30_000 });
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all([a.join, b.join]);
    await sync(a.memberId, 1, [[a.memberId, 'A'], [b.memberId, 'B']]);
    expect(c.group('g')!.state).toBe('Stable');
    await vi.advanceTimersByTimeAsync(9_999);
    expect(c.group('g')!.has(b.memberId)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.group('g')!.has(b.memberId)).toBe(false);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });
});

describe('GroupCoordinator: static membership', () => {
  async function staticGroup(sessionTimeoutMs = 10_000): Promise<{ a: string; b: string }> {
    const ja = c.joinGroup(joinInput({ clientId: 'ca', groupInstanceId: 'ia', sessionTimeoutMs }));
    const jb = c.joinGroup(joinInput({ clientId: 'cb', groupInstanceId: 'ib', sessionTimeoutMs }));
    await vi.advanceTimersByTimeAsync(200);
    const [ra, rb] = await Promise.all([ja, jb]);
    expect(ra.memberId).toMatch(/^ia-/);
    expect(ra.members).toEqual([
      { memberId: ra.memberId, groupInstanceId: 'ia', metadata: Buffer.from('meta-range') },
      { memberId: rb.memberId, groupInstanceId: 'ib', metadata: Buffer.from('meta-range') },
    ]);
    const fb = sync(rb.memberId, 1, [], { groupInstanceId: 'ib' });
    await sync(ra.memberId, 1, [[ra.memberId, 'A'], [rb.memberId, 'B']], { groupInstanceId: 'ia' });
    await fb;
    return { a: ra.memberId, b: rb.memberId };
  }

  it('a restarted static member takes its place back without a rebalance; its old id is fenced', async () => {
    const { a, b } = await staticGroup();
    const rejoin = await c.joinGroup(joinInput({ clientId: 'cb', groupInstanceId: 'ib' }));
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leaderId: a, members: [], skipAssignment: false });
    const nb = rejoin.memberId;
    expect(nb).not.toBe(b);
    expect(c.group('g')!.state).toBe('Stable');
    expect(c.group('g')!.generationId).toBe(1);
    expect(await sync(nb, 1, [], { groupInstanceId: 'ib' })).toMatchObject({ errorCode: 0, assignment: Buffer.from('B') });
    expect(c.heartbeat('g', b, 'ib', 1)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat('g', b, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await c.commitOffsets({ groupId: 'g', generationId: 1, memberId: b, groupInstanceId: 'ib', offsets: [{ topic: 't', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }] })).toEqual([ErrorCode.FENCED_INSTANCE_ID]);
    expect((await c.joinGroup(joinInput({ memberId: b, groupInstanceId: 'ib' }))).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat('g', nb, 'ib', 1)).toBe(ErrorCode.NONE);
  });

  it('a restarted static leader keeps the old leader id before v9 and is told to skip assigning from v9', async () => {
    const { a, b } = await staticGroup();
    const old = await c.joinGroup(joinInput({ clientId: 'ca', groupInstanceId: 'ia' }));
    expect(old).toMatchObject({ errorCode: 0, generationId: 1, leaderId: a, members: [], skipAssignment: false });
    expect(c.group('g')!.leaderId).toBe(old.memberId);
    const v9 = await c.joinGroup(joinInput({ clientId: 'ca', groupInstanceId: 'ia', supportSkippingAssignment: true }));
    expect(v9).toMatchObject({ errorCode: 0, generationId: 1, leaderId: v9.memberId, skipAssignment: true });
    expect(v9.members.map((m) => m.groupInstanceId)).toEqual(['ib', 'ia']);
    expect(c.group('g')!.state).toBe('Stable');
    expect(await sync(v9.memberId, 1, [], { groupInstanceId: 'ia' })).toMatchObject({ errorCode: 0, assignment: Buffer.from('A') });
    expect(c.heartbeat('g', b, 'ib', 1)).toBe(ErrorCode.NONE);
  });

  it('a static member rejoining with a protocol change rebalances the group', async () => {
    const first = c.joinGroup(joinInput({ groupInstanceId: 'solo', protocols: protocols('range', 'roundrobin') }));
    await vi.advanceTimersByTimeAsync(200);
    const r1 = await first;
    expect(r1.protocolName).toBe('range');
    await sync(r1.memberId, 1, [[r1.memberId, 'A']], { groupInstanceId: 'solo' });
    const again = await c.joinGroup(joinInput({ groupInstanceId: 'solo', protocols: protocols('roundrobin', 'range') }));
    expect(again).toMatchObject({ errorCode: 0, generationId: 2, protocolName: 'roundrobin', leaderId: again.memberId });
    expect(c.group('g')!.state).toBe('CompletingRebalance');
  });

  it('removes a static member whose session times out and rebalances', async () => {
    const { a, b } = await staticGroup();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(c.heartbeat('g', a, 'ia', 1)).toBe(ErrorCode.NONE);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(c.group('g')!.has(b)).toBe(false);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.heartbeat('g', a, 'ia', 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('keeps a static member that misses a rebalance, then drops it when it never syncs', async () => {
    const { a, b } = await staticGroup(30_000);
    const d = await joinDynamic(c, { clientId: 'd', sessionTimeoutMs: 30_000 });
    const ja = c.joinGroup(joinInput({ memberId: a, groupInstanceId: 'ia', sessionTimeoutMs: 30_000 }));
    await vi.advanceTimersByTimeAsync(9_999);
    expect((await peek(ja)).done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const ra = await ja;
    expect(ra.generationId).toBe(2);
    expect(ra.members.map((m) => m.memberId).sort()).toEqual([a, b, d.memberId].sort());
    const fd = sync(d.memberId, 2);
    await sync(a, 2, [[a, 'A2'], [b, 'B2'], [d.memberId, 'D2']], { groupInstanceId: 'ia' });
    expect((await fd).assignment).toEqual(Buffer.from('D2'));
    expect(c.group('g')!.has(b)).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.group('g')!.has(b)).toBe(false);
    expect(c.group('g')!.currentStaticMemberId('ib')).toBeUndefined();
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });
});

describe('GroupCoordinator: offsets', () => {
  const offset = (topic: string, partition: number, o: bigint, metadata: string | null = null) => ({ topic, partition, offset: o, leaderEpoch: 3, metadata });

  it('accepts simple commits to an unknown or empty group and creates it Empty', async () => {
    expect(await c.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 10n, 'm'), offset('t', 1, 20n)] })).toEqual([0, 0]);
    expect(c.group('simple')!.state).toBe('Empty');
    expect(await c.fetchOffsets('simple', null)).toEqual({
      errorCode: 0,
      offsets: [
        { topic: 't', partition: 0, offset: 10n, leaderEpoch: 3, metadata: 'm', commitTimestamp: 1_000_000 },
        { topic: 't', partition: 1, offset: 20n, leaderEpoch: 3, metadata: '', commitTimestamp: 1_000_000 },
      ],
    });
    expect(await c.commitOffsets({ groupId: 'other', generationId: 3, memberId: 'm', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await c.commitOffsets({ groupId: '', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([0]);
  });

  it('checks member and generation for group commits', async () => {
    const [a, b] = await stableGroup(2);
    const commit = (generationId: number, memberId: string) => c.commitOffsets({ groupId: 'g', generationId, memberId, groupInstanceId: null, offsets: [offset('t', 0, 7n)] });
    expect(await commit(1, a!)).toEqual([0]);
    expect(await commit(0, a!)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit(1, 'nobody')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(-1, '')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // while the group prepares a rebalance, members still commit for their generation...
    const ja = c.joinGroup(joinInput({ memberId: a! }));
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(await commit(1, b!)).toEqual([0]);
    // ...but not while the new generation awaits its assignment
    const jb = c.joinGroup(joinInput({ memberId: b! }));
    await Promise.all([ja, jb]);
    expect(c.group('g')!.state).toBe('CompletingRebalance');
    expect(await commit(2, a!)).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    expect(await commit(1, a!)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
  });

  it('refuses metadata longer than offset.metadata.max.bytes, per partition', async () => {
    const codes = await c.commitOffsets({ groupId: 'm', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n, 'x'.repeat(4096)), offset('t', 1, 1n, 'x'.repeat(4097))] });
    expect(codes).toEqual([0, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
    expect((await c.fetchOffsets('m', null)).offsets.map((o) => o.partition)).toEqual([0]);
  });

  it('expires offsets of simple groups by commit time and forgets groups left without offsets', async () => {
    await c.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] });
    await vi.advanceTimersByTimeAsync(30_000);
    await c.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 1, 1n)] });
    await vi.advanceTimersByTimeAsync(30_000);
    await c.expireOffsets();
    expect((await c.fetchOffsets('s', null)).offsets.map((o) => o.partition)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(30_000);
    await c.expireOffsets();
    expect((await c.fetchOffsets('s', null)).offsets).toEqual([]);
    expect(c.group('s')).toBeUndefined();
  });

  it("expires a consumer group's offsets only once it has been Empty for the retention", async () => {
    const [a] = await stableGroup(1);
    await c.commitOffsets({ groupId: 'g', generationId: 1, memberId: a!, groupInstanceId: null, offsets: [offset('t', 0, 5n)] });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(c.heartbeat('g', a!, null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID); // session expired long ago
    expect(c.group('g')!.state).toBe('Empty');
    const emptySince = c.group('g')!.stateSince!;
    await c.expireOffsets(emptySince + 59_999);
    expect((await c.fetchOffsets('g', null)).offsets.length).toBe(1);
    await c.expireOffsets(emptySince + 60_000);
    expect((await c.fetchOffsets('g', null)).offsets).toEqual([]);
    expect(c.group('g')).toBeUndefined();
  });

  it('accepts the empty group id for OffsetFetch and answers NOT_COORDINATOR for foreign groups', async () => {
    expect((await c.fetchOffsets('', null)).errorCode).toBe(0);
    h.locator.local = false;
    expect((await c.fetchOffsets('g', null)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await c.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, offsets: [offset('t', 0, 1n)] })).toEqual([ErrorCode.NOT_COORDINATOR]);
  });
});

describe('GroupCoordinator: admin', () => {
  it('describes, lists (with state filter) and deletes groups', async () => {
    const [a] = await stableGroup(1);
    await c.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }] });
    expect(c.describeGroup('g')).toEqual({
      errorCode: 0,
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'range',
      members: [{ memberId: a, groupInstanceId: null, clientId: 'c0', clientHost: '/127.0.0.1', metadata: Buffer.from('meta-range'), assignment: Buffer.from(`assign-${a}`) }],
    });
    expect(c.describeGroup('nope')).toEqual({ errorCode: 0, state: 'Dead', protocolType: '', protocol: '', members: [] });
    expect(c.listGroups([])).toEqual({ errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer', state: 'Stable' }, { groupId: 'simple', protocolType: '', state: 'Empty' }] });
    expect(c.listGroups(['empty']).groups.map((g) => g.groupId)).toEqual(['simple']);
    expect(c.listGroups(['STABLE', 'Dead']).groups.map((g) => g.groupId)).toEqual(['g']);
    const deleted = await c.deleteGroups(['g', 'simple', 'nope', 'simple']);
    expect([...deleted]).toEqual([['g', ErrorCode.NON_EMPTY_GROUP], ['nope', ErrorCode.GROUP_ID_NOT_FOUND], ['simple', 0]]);
    expect(c.group('simple')).toBeUndefined();
    expect(await h.store.groupOffsets.fetch('simple')).toEqual([]);
  });

  it('describes members without metadata while the group rebalances', async () => {
    const { memberId } = await joinDynamic(c, { clientId: 'x' });
    expect(c.describeGroup('g')).toEqual({ errorCode: 0, state: 'PreparingRebalance', protocolType: 'consumer', protocol: '', members: [{ memberId, groupInstanceId: null, clientId: 'x', clientHost: '/127.0.0.1', metadata: Buffer.alloc(0), assignment: Buffer.alloc(0) }] });
  });

  it('OffsetDelete refuses topics the members subscribe to and deletes the rest', async () => {
    const subscription = encodeSubscription(['orders'], { version: 1 });
    const [a] = await stableGroup(1, { protocols: [{ name: 'range', metadata: subscription }] });
    const off = (topic: string) => ({ topic, partition: 0, offset: 1n, leaderEpoch: -1, metadata: null });
    await c.commitOffsets({ groupId: 'g', generationId: 1, memberId: a!, groupInstanceId: null, offsets: [off('orders'), off('old')] });
    expect(await c.deleteOffsets('g', [{ topic: 'orders', partition: 0 }, { topic: 'old', partition: 0 }])).toEqual({ errorCode: 0, partitions: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0] });
    expect((await c.fetchOffsets('g', null)).offsets.map((o) => o.topic)).toEqual(['orders']);
    expect(await c.deleteOffsets('nope', [{ topic: 'orders', partition: 0 }])).toEqual({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] });
    expect(await c.deleteOffsets('', [])).toEqual({ errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] });
  });

  it('OffsetDelete refuses a non-consumer group with members as NON_EMPTY_GROUP', async () => {
    await stableGroup(1, { protocolType: 'connect' });
    expect(await c.deleteOffsets('g', [{ topic: 't', partition: 0 }])).toEqual({ errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] });
  });
});

describe('GroupCoordinator: lifecycle', () => {
  it('loads groups with committed offsets as Empty on start', async () => {
    await h.store.groupOffsets.commit('persisted', [{ topic: 't', partition: 0, offset: 3n, leaderEpoch: -1, metadata: '', commitTimestamp: 1 }]);
    const again = await coordinatorHarness({}, h.store);
    expect(again.coordinator.listGroups([]).groups).toEqual([{ groupId: 'persisted', protocolType: '', state: 'Empty' }]);
    expect(again.coordinator.describeGroup('persisted').state).toBe('Empty');
    await again.coordinator.stop();
  });

  it('answers parked JoinGroup calls with NOT_COORDINATOR on stop, and refuses afterwards', async () => {
    const { join } = await joinDynamic(c);
    await c.stop();
    expect((await join).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await c.joinGroup(joinInput())).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(c.listGroups([]).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
