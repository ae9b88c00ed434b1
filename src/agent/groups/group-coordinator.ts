import type { Logger } from 'pino';
import type { CommittedOffset, GroupOffsetStore } from '../../metadata/metadata-store.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConsumerGroup, type GroupSummary } from './consumer-group.js';
import type { CoordinatorLocator } from './coordinator-shards.js';
import { GroupMember, type ProtocolMetadata } from './group-member.js';
import { joinError, syncError, type JoinGroupResult, type SyncGroupResult } from './group-results.js';
import { matchesStateFilter, type GroupState } from './group-state.js';
import { KeyedTimers } from './keyed-timers.js';
import { usesConsumerProtocol } from './consumer-protocol.js';
import { KeyedMutex } from '../../common/keyed-mutex.js';

export interface GroupCoordinatorOptions {
  readonly store: GroupOffsetStore;
  readonly logger: Logger;
  readonly locator: CoordinatorLocator;
  /** group.initial.rebalance.delay.ms */
  readonly initialRebalanceDelayMs: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms (Kafka default 600000) */
  readonly offsetsRetentionCheckIntervalMs?: number;
  /** group.min.session.timeout.ms (Kafka default 6000) */
  readonly minSessionTimeoutMs?: number;
  /** group.max.session.timeout.ms (Kafka default 1800000) */
  readonly maxSessionTimeoutMs?: number;
  /** offset.metadata.max.bytes (Kafka default 4096, counted in UTF-16 units like Java) */
  readonly offsetMetadataMaxBytes?: number;
  /** How long a new member may wait in a rebalance before it is dropped (Kafka: 5 minutes). */
  readonly newMemberJoinTimeoutMs?: number;
}

export interface JoinGroupInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** JoinGroup v4+ from a dynamic member: answer MEMBER_ID_REQUIRED first. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group is told to skip the assignment. */
  readonly supportSkippingAssignment: boolean;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly ProtocolMetadata[];
  readonly reason: string | null;
}

export interface SyncGroupInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Buffer }>;
}

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason: string | null;
}

export interface LeaveGroupResult {
  readonly errorCode: number;
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly groupInstanceId: string | null; readonly errorCode: number }>;
}

export interface OffsetCommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  /** A client-chosen commit time (OffsetCommit v1), else the broker's clock. */
  readonly commitTimestamp?: number;
}

export interface OffsetCommitInput {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly offsets: readonly OffsetCommitEntry[];
}

export interface OffsetFetchResult {
  readonly errorCode: number;
  readonly offsets: readonly CommittedOffset[];
  /** requireStable: partitions ("topic\0partition") with offsets an open transaction staged. */
  readonly unstable?: ReadonlySet<string>;
}

export interface DescribedGroup extends Omit<GroupSummary, 'state'> {
  readonly errorCode: number;
  /** Empty when the coordinator could not answer for the group. */
  readonly state: GroupState | '';
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetDeleteResult {
  /** A group-level error; when set, `partitions` is empty. */
  readonly errorCode: number;
  /** Error per requested partition, in request order. */
  readonly partitions: readonly number[];
}

const DEFAULTS = {
  offsetsRetentionCheckIntervalMs: 600_000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  offsetMetadataMaxBytes: 4096,
  newMemberJoinTimeoutMs: 300_000,
};

type JoinCallback = (result: JoinGroupResult) => void;
type SyncCallback = (result: SyncGroupResult) => void;

/** A pending rebalance: the first one of an empty group waits the initial delay (maybe again). */
type PendingJoin = { readonly kind: 'initial'; readonly remainingMs: number } | { readonly kind: 'normal' };

/**
 * Kafka's classic group coordinator (GroupCoordinator.scala semantics): membership and
 * generations in memory, session/rebalance/sync timeouts on timers, committed offsets in
 * the metadata store. Every state change happens synchronously inside one call or timer,
 * so the single JavaScript thread plays the part of Kafka's group lock.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly pendingJoins = new Map<string, PendingJoin>();
  /** Offset commits awaiting the store, per group: such a group is not cleaned up meanwhile. */
  private readonly commitsInFlight = new Map<string, number>();
  private readonly timers: KeyedTimers;
  private readonly commitOrder = new KeyedMutex<string>();
  private readonly opts: typeof DEFAULTS & GroupCoordinatorOptions;
  private active = false;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<void> | undefined;

  constructor(options: GroupCoordinatorOptions) {
    this.opts = { ...DEFAULTS, ...stripUndefined(options) };
    this.timers = new KeyedTimers((err, key) => this.opts.logger.error({ err, timer: key }, 'group coordinator timer failed'));
  }

  private get logger(): Logger {
    return this.opts.logger;
  }

  /** Loads every group that has committed offsets (as Empty) and starts offset expiration. */
  async start(): Promise<void> {
    await this.loadGroups(await this.opts.store.listGroups());
    this.active = true;
    const interval = this.opts.offsetsRetentionCheckIntervalMs;
    this.retentionTimer = setInterval(() => void this.expireOffsets(), interval);
    this.retentionTimer.unref?.();
  }

  /** Makes groups known (Empty) that have committed offsets, e.g. when a shard is taken over. */
  async loadGroups(groupIds: readonly string[]): Promise<void> {
    for (const id of groupIds) if (!this.groups.has(id)) this.groups.set(id, new ConsumerGroup(id, undefined));
  }

  /** Stops answering; parked JoinGroup/SyncGroup calls get NOT_COORDINATOR, as on unload. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.timers.clearAll();
    this.pendingJoins.clear();
    for (const group of this.groups.values()) {
      for (const m of group.allMembers()) {
        m.completeJoin(joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        m.completeSync(syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    await this.retentionRun;
  }

  /** Ids of the groups this coordinator knows, sorted. */
  groupIds(): string[] {
    return [...this.groups.keys()].sort();
  }

  /** The live group object (tests and metrics); undefined when unknown. */
  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  // ---- validation shared by the APIs -------------------------------------------------

  /**
   * Kafka's validateGroupStatus. `allowEmptyId` for the APIs that accept the empty group
   * id (OffsetCommit, OffsetFetch, DescribeGroups, DeleteGroups).
   */
  private groupStatusError(groupId: string, allowEmptyId: boolean): number | undefined {
    if (!allowEmptyId && groupId.length === 0) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (!this.opts.locator.isLocal(groupId)) return ErrorCode.NOT_COORDINATOR;
    return undefined;
  }

  /** The instance id (if any) must map to this member id; otherwise the member must exist. */
  private currentMemberError(group: ConsumerGroup, memberId: string, groupInstanceId: string | null): number | undefined {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) {
        this.logger.info({ group: group.groupId, memberId, groupInstanceId, current }, 'static member fenced by its newer member id');
        return ErrorCode.FENCED_INSTANCE_ID;
      }
      return undefined;
    }
    return group.has(memberId) ? undefined : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // ---- JoinGroup ----------------------------------------------------------------------

  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    return new Promise<JoinGroupResult>((resolve) => {
      let answered = false;
      const once: JoinCallback = (r) => {
        if (answered) return;
        answered = true;
        resolve(r);
      };
      this.handleJoin(input, once);
    });
  }

  private handleJoin(input: JoinGroupInput, cb: JoinCallback): void {
    const statusError = this.groupStatusError(input.groupId, false);
    if (statusError !== undefined) return cb(joinError(input.memberId, statusError));
    if (input.sessionTimeoutMs < this.opts.minSessionTimeoutMs || input.sessionTimeoutMs > this.opts.maxSessionTimeoutMs) {
      return cb(joinError(input.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = input.memberId === '';
    let group = this.groups.get(input.groupId);
    if (!group) {
      if (!isUnknownMember) return cb(joinError(input.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ConsumerGroup(input.groupId, Date.now());
      this.groups.set(input.groupId, group);
    }
    if (isUnknownMember) this.newMemberJoin(group, input, cb);
    else this.currentMemberJoin(group, input, cb);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  private newMemberJoin(group: ConsumerGroup, input: JoinGroupInput, cb: JoinCallback): void {
    if (group.is('Dead')) return cb(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(input.protocolType, input.protocols.map((p) => p.name))) {
      return cb(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = group.generateMemberId(input.clientId, input.groupInstanceId);
    if (input.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(input.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.logger.info({ group: group.groupId, groupInstanceId: input.groupInstanceId, oldMemberId, newMemberId, state: group.state }, 'static member rejoins without member id; replacing it');
        this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, input.groupInstanceId, input, cb);
      } else {
        this.addMemberAndRebalance(group, newMemberId, input, cb);
      }
      return;
    }
    if (input.requireKnownMemberId) {
      // the member must come back with this id; until then it holds up the rebalance
      group.addPendingMember(newMemberId);
      this.timers.set(pendingKey(group.groupId, newMemberId), input.sessionTimeoutMs, () => this.onPendingMemberExpired(group, newMemberId));
      return cb(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, newMemberId, input, cb);
  }

  private currentMemberJoin(group: ConsumerGroup, input: JoinGroupInput, cb: JoinCallback): void {
    const { memberId } = input;
    if (group.is('Dead')) return cb(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(input.protocolType, input.protocols.map((p) => p.name))) {
      return cb(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(memberId)) {
      // pending ids are handed to dynamic members only (Kafka fails such a request the same way)
      if (input.groupInstanceId !== null) return cb(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      this.timers.clear(pendingKey(group.groupId, memberId));
      this.addMemberAndRebalance(group, memberId, input, cb);
      return;
    }
    const memberError = this.currentMemberError(group, memberId, input.groupInstanceId);
    if (memberError !== undefined) return cb(joinError(memberId, memberError));
    const member = group.get(memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, input, cb, 'member joins during PreparingRebalance');
        return;
      case 'CompletingRebalance':
        if (member.matches(input.protocols)) {
          // probably lost the JoinGroup response: answer with the current generation again
          return cb(this.generationResult(group, memberId, group.isLeader(memberId)));
        }
        this.updateMemberAndRebalance(group, member, input, cb, 'member metadata changed during CompletingRebalance');
        return;
      case 'Stable':
        if (group.isLeader(memberId)) {
          // the leader rejoins to have assignments recomputed (e.g. topic metadata changed)
          this.updateMemberAndRebalance(group, member, input, cb, 'leader rejoins');
        } else if (!member.matches(input.protocols)) {
          this.updateMemberAndRebalance(group, member, input, cb, 'member metadata changed');
        } else {
          cb(this.generationResult(group, memberId, false));
        }
        return;
      case 'Empty':
      case 'Dead':
        cb(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private generationResult(group: ConsumerGroup, memberId: string, withMembers: boolean, leaderId = group.leaderId ?? '', skipAssignment = false): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
      skipAssignment,
    };
  }

  private addMemberAndRebalance(group: ConsumerGroup, memberId: string, input: JoinGroupInput, cb: JoinCallback): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      sessionTimeoutMs: input.sessionTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
    });
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member);
    this.parkJoin(member, cb);
    // new members cannot heartbeat yet: they only expire if the rebalance never completes
    this.scheduleHeartbeatExpiration(group, member, this.opts.newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group, `adding member ${memberId}${input.reason ? ` (${input.reason})` : ''}`);
  }

  private updateMemberAndRebalance(group: ConsumerGroup, member: GroupMember, input: JoinGroupInput, cb: JoinCallback, reason: string): void {
    group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs);
    this.parkJoin(member, cb);
    this.maybePrepareRebalance(group, `${reason}: ${member.memberId}${input.reason ? ` (${input.reason})` : ''}`);
  }

  private parkJoin(member: GroupMember, cb: JoinCallback): void {
    member.awaitJoin(cb, (previous) => previous(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS)));
  }

  private updateStaticMemberAndRebalance(group: ConsumerGroup, oldMemberId: string, newMemberId: string, groupInstanceId: string, input: JoinGroupInput, cb: JoinCallback): void {
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.timers.clear(heartbeatKey(group.groupId, oldMemberId));
    this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
    group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs);
    this.parkJoin(member, cb);
    switch (group.state) {
      case 'Stable':
        if (group.selectProtocol() === group.protocolName) {
          // KIP-345: the group keeps its generation and assignment; no rebalance
          if (input.supportSkippingAssignment) {
            const isLeader = group.isLeader(newMemberId);
            member.completeJoin(this.generationResult(group, newMemberId, isLeader, group.leaderId ?? '', isLeader));
          } else {
            // the old leader id keeps a rejoining static leader from computing an assignment
            // that a stable group would never distribute
            member.completeJoin(this.generationResult(group, newMemberId, false, currentLeader));
          }
        } else {
          this.maybePrepareRebalance(group, `static member ${groupInstanceId} rejoins with a protocol change`);
        }
        return;
      case 'CompletingRebalance':
        // the leader may be assigning to the old member id: start over
        this.prepareRebalance(group, `static member ${groupInstanceId} rejoins during CompletingRebalance`);
        return;
      case 'PreparingRebalance':
        return;
      case 'Empty':
      case 'Dead':
        member.completeJoin(joinError(newMemberId, ErrorCode.UNKNOWN_MEMBER_ID));
        return;
    }
  }

  private maybePrepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const fromEmpty = group.is('Empty');
    const rebalanceTimeoutMs = group.rebalanceTimeoutMs();
    group.transitionTo('PreparingRebalance', Date.now());
    this.logger.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    if (fromEmpty) {
      const delay = this.opts.initialRebalanceDelayMs;
      this.scheduleJoin(group, delay, { kind: 'initial', remainingMs: Math.max(rebalanceTimeoutMs - delay, 0) });
    } else {
      this.scheduleJoin(group, rebalanceTimeoutMs, { kind: 'normal' });
      this.tryCompleteJoin(group);
    }
  }

  private scheduleJoin(group: ConsumerGroup, delayMs: number, pending: PendingJoin): void {
    this.pendingJoins.set(group.groupId, pending);
    this.timers.set(joinKey(group.groupId), delayMs, () => this.onJoinTimer(group));
  }

  private onJoinTimer(group: ConsumerGroup): void {
    const pending = this.pendingJoins.get(group.groupId);
    if (!pending || this.groups.get(group.groupId) !== group) return;
    if (pending.kind === 'initial' && group.newMemberAdded && pending.remainingMs > 0) {
      // more members arrived during the delay: wait once more, within the rebalance timeout
      group.newMemberAdded = false;
      const delay = Math.min(this.opts.initialRebalanceDelayMs, pending.remainingMs);
      this.scheduleJoin(group, delay, { kind: 'initial', remainingMs: Math.max(pending.remainingMs - delay, 0) });
      return;
    }
    this.completeJoin(group);
  }

  /** Completes the join phase early once every member has rejoined (never during the initial delay). */
  private tryCompleteJoin(group: ConsumerGroup): void {
    if (!group.is('PreparingRebalance')) return;
    if (this.pendingJoins.get(group.groupId)?.kind !== 'normal') return;
    if (group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ConsumerGroup): void {
    this.timers.clear(joinKey(group.groupId));
    this.pendingJoins.delete(group.groupId);
    this.onCompleteJoin(group);
  }

  private onCompleteJoin(group: ConsumerGroup): void {
    // dynamic members that did not rejoin in time are dropped; static ones keep their place
    for (const m of group.notYetRejoinedMembers()) {
      if (m.isStatic) continue;
      group.remove(m.memberId);
      this.timers.clear(heartbeatKey(group.groupId, m.memberId));
      this.logger.info({ group: group.groupId, memberId: m.memberId }, 'member did not rejoin in time; removed');
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      this.logger.warn({ group: group.groupId }, 'no member rejoined; waiting another rebalance timeout');
      this.scheduleJoin(group, group.rebalanceTimeoutMs(), { kind: 'normal' });
      return;
    }
    group.initNextGeneration(Date.now());
    if (group.is('Empty')) {
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      return;
    }
    this.logger.info({ group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName }, 'group rebalanced; awaiting assignment');
    for (const m of group.allMembers()) {
      m.completeJoin(this.generationResult(group, m.memberId, group.isLeader(m.memberId)));
      this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
      m.isNew = false;
      group.addPendingSyncMember(m.memberId);
    }
    const generation = group.generationId;
    this.timers.set(syncKey(group.groupId), group.rebalanceTimeoutMs(), () => this.onSyncExpired(group, generation));
  }

  // ---- SyncGroup ----------------------------------------------------------------------

  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    return new Promise<SyncGroupResult>((resolve) => {
      let answered = false;
      this.handleSync(input, (r) => {
        if (answered) return;
        answered = true;
        resolve(r);
      });
    });
  }

  private handleSync(input: SyncGroupInput, cb: SyncCallback): void {
    const statusError = this.groupStatusError(input.groupId, false);
    if (statusError !== undefined) return cb(syncError(statusError));
    const group = this.groups.get(input.groupId);
    if (!group) return cb(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return cb(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const memberError = this.currentMemberError(group, input.memberId, input.groupInstanceId);
    if (memberError !== undefined) return cb(syncError(memberError));
    if (input.generationId !== group.generationId) return cb(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (input.protocolType !== null && input.protocolType !== group.protocolType) return cb(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    if (input.protocolName !== null && input.protocolName !== group.protocolName) return cb(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const member = group.get(input.memberId)!;
    switch (group.state) {
      case 'Empty':
        return cb(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return cb(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        member.awaitSync(cb, (previous) => previous(syncError(ErrorCode.REBALANCE_IN_PROGRESS)));
        this.removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) {
          const assignments = new Map<string, Buffer>();
          for (const a of input.assignments) assignments.set(a.memberId, a.assignment);
          const missing = group.allMembers().filter((m) => !assignments.has(m.memberId));
          if (missing.length > 0) this.logger.warn({ group: group.groupId, generation: group.generationId, members: missing.map((m) => m.memberId) }, 'leader sent no assignment for some members; they get an empty one');
          for (const m of group.allMembers()) m.assignment = assignments.get(m.memberId) ?? Buffer.alloc(0);
          this.propagateAssignment(group, ErrorCode.NONE);
          group.transitionTo('Stable', Date.now());
          this.logger.info({ group: group.groupId, generation: group.generationId, members: group.size }, 'group is stable');
        }
        return;
      }
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        cb({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return;
      case 'Dead':
        return cb(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private resetAndPropagateAssignmentError(group: ConsumerGroup, errorCode: number): void {
    for (const m of group.allMembers()) m.assignment = Buffer.alloc(0);
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ConsumerGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of group.allMembers()) {
      const answered = m.completeSync({
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // a member whose session ran out while it waited gets a fresh one now
      if (answered) this.scheduleHeartbeatExpiration(group, m, m.sessionTimeoutMs);
    }
  }

  private removePendingSyncMember(group: ConsumerGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if (group.hasReceivedSyncFromAllMembers()) this.timers.clear(syncKey(group.groupId));
  }

  private removeSyncExpiration(group: ConsumerGroup): void {
    group.clearPendingSyncMembers();
    this.timers.clear(syncKey(group.groupId));
  }

  /** Members that never sent SyncGroup within the rebalance timeout are removed. */
  private onSyncExpired(group: ConsumerGroup, generation: number): void {
    if (this.groups.get(group.groupId) !== group || generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    const pending = group.allPendingSyncMembers();
    for (const id of pending) {
      group.remove(id);
      this.timers.clear(heartbeatKey(group.groupId, id));
    }
    this.prepareRebalance(group, `members never sent SyncGroup: ${pending.join(', ')}`);
  }

  // ---- Heartbeat and session expiry ----------------------------------------------------

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const statusError = this.groupStatusError(groupId, false);
    if (statusError !== undefined) return statusError;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.currentMemberError(group, memberId, groupInstanceId);
    if (memberError !== undefined) return memberError;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(memberId)!;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Dead':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private scheduleHeartbeatExpiration(group: ConsumerGroup, member: GroupMember, timeoutMs: number): void {
    const memberId = member.memberId;
    this.timers.set(heartbeatKey(group.groupId, memberId), timeoutMs, () => this.onHeartbeatExpired(group, memberId));
  }

  private onHeartbeatExpired(group: ConsumerGroup, memberId: string): void {
    if (this.groups.get(group.groupId) !== group || group.is('Dead')) return;
    const member = group.get(memberId);
    if (!member) return;
    // members with a parked JoinGroup/SyncGroup are covered by the rebalance timeouts
    // instead; new members expire anyway (their JoinGroup may be abandoned)
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.logger.info({ group: group.groupId, memberId, groupInstanceId: member.groupInstanceId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired; removing it');
    this.removeMemberAndUpdateGroup(group, member);
  }

  private onPendingMemberExpired(group: ConsumerGroup, memberId: string): void {
    if (this.groups.get(group.groupId) !== group || !group.isPendingMember(memberId)) return;
    this.removePendingMemberAndUpdateGroup(group, memberId);
  }

  private removeMemberAndUpdateGroup(group: ConsumerGroup, member: GroupMember): void {
    group.remove(member.memberId);
    this.timers.clear(heartbeatKey(group.groupId, member.memberId));
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, `removing member ${member.memberId}`);
        return;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        return;
      case 'Empty':
      case 'Dead':
        return;
    }
  }

  private removePendingMemberAndUpdateGroup(group: ConsumerGroup, memberId: string): void {
    group.remove(memberId);
    this.timers.clear(pendingKey(group.groupId, memberId));
    this.tryCompleteJoin(group);
  }

  // ---- LeaveGroup ---------------------------------------------------------------------

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveGroupResult {
    const statusError = this.groupStatusError(groupId, false);
    if (statusError !== undefined) return { errorCode: statusError, members: [] };
    const group = this.groups.get(groupId);
    const answer = (m: LeavingMember, errorCode: number) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((m) => {
      if (m.memberId === '') {
        // administrative removal by instance id
        const current = m.groupInstanceId === null ? undefined : group.currentStaticMemberId(m.groupInstanceId);
        if (current === undefined) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeLeavingMember(group, current, m.reason);
        return answer(m, ErrorCode.NONE);
      }
      if (group.isPendingMember(m.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, m.memberId);
        return answer(m, ErrorCode.NONE);
      }
      const memberError = this.currentMemberError(group, m.memberId, m.groupInstanceId);
      if (memberError !== undefined) return answer(m, memberError);
      this.removeLeavingMember(group, m.memberId, m.reason);
      return answer(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  private removeLeavingMember(group: ConsumerGroup, memberId: string, reason: string | null): void {
    const member = group.get(memberId);
    if (!member) return;
    this.logger.info({ group: group.groupId, memberId, groupInstanceId: member.groupInstanceId, reason }, 'member left the group');
    this.removeMemberAndUpdateGroup(group, member);
  }

  // ---- Offsets ------------------------------------------------------------------------

  private offsetCommitError(group: ConsumerGroup, generationId: number, memberId: string, groupInstanceId: string | null): number | undefined {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // admin clients and consumers without group management commit with generation -1
    if (generationId < 0 && group.is('Empty')) return undefined;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const memberError = this.currentMemberError(group, memberId, groupInstanceId);
      if (memberError !== undefined) return memberError;
      return generationId !== group.generationId ? ErrorCode.ILLEGAL_GENERATION : undefined;
    }
    // only members may commit to a group that has them
    return group.is('Empty') ? undefined : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * OffsetCommit for partitions the handler already knows exist. Returns one error code per
   * entry, in order; accepted offsets are durable in the store before this resolves.
   */
  /**
   * Commits of one group are applied in the order this is called (librdkafka commits
   * asynchronously, many in flight): the group's turn is taken at the call.
   */
  commitOffsets(input: OffsetCommitInput): Promise<number[]> {
    return this.commitOrder.run(input.groupId, () => this.commitOffsetsInTurn(input));
  }

  private async commitOffsetsInTurn(input: OffsetCommitInput): Promise<number[]> {
    const all = (code: number) => input.offsets.map(() => code);
    const statusError = this.groupStatusError(input.groupId, true);
    if (statusError !== undefined) return all(statusError);
    let group = this.groups.get(input.groupId);
    if (!group) {
      if (input.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      // a "simple" group that uses the broker for offset storage only
      group = new ConsumerGroup(input.groupId, Date.now());
      this.groups.set(input.groupId, group);
    }
    const error = this.offsetCommitError(group, input.generationId, input.memberId, input.groupInstanceId);
    if (error !== undefined) return all(error);
    switch (group.state) {
      case 'CompletingRebalance':
        // the member has its new generation but not yet its assignment
        return all(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
      case 'PreparingRebalance': {
        // a commit counts as a heartbeat; the heartbeat response will tell it to rejoin
        const member = group.get(input.memberId)!;
        this.scheduleHeartbeatExpiration(group, member, member.sessionTimeoutMs);
        break;
      }
      case 'Empty':
      case 'Dead':
        break;
    }
    return this.storeOffsets(group.groupId, input.offsets);
  }

  /**
   * TxnOffsetCommit: the offsets are staged for `producerId`'s transaction and become the
   * group's committed offsets only when the transaction commits (the transaction coordinator
   * applies them with its markers). A generation and member, when given (v3+), are checked
   * like OffsetCommit's.
   */
  stageTransactionalOffsets(input: OffsetCommitInput & { readonly producerId: bigint }): Promise<number[]> {
    return this.commitOrder.run(input.groupId, async () => {
      const all = (code: number) => input.offsets.map(() => code);
      const statusError = this.groupStatusError(input.groupId, true);
      if (statusError !== undefined) return all(statusError);
      const group = this.groups.get(input.groupId);
      if (group && input.generationId >= 0) {
        const error = this.offsetCommitError(group, input.generationId, input.memberId, input.groupInstanceId);
        if (error !== undefined) return all(error);
      }
      const { codes, accepted } = this.acceptedOffsets(input.offsets);
      if (accepted.length === 0) return codes;
      try {
        await this.opts.store.stageTransactional({ group: input.groupId, producerId: input.producerId, offsets: dedupeLastWins(accepted) });
      } catch (err) {
        this.logger.error({ err, group: input.groupId }, 'staging transactional offsets failed');
        return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
      }
      return codes;
    });
  }

  /** Per entry NONE or OFFSET_METADATA_TOO_LARGE, and the accepted ones as stored. */
  private acceptedOffsets(offsets: readonly OffsetCommitEntry[]): { codes: number[]; accepted: CommittedOffset[] } {
    const now = Date.now();
    const codes = offsets.map((o) => (o.metadata !== null && o.metadata.length > this.opts.offsetMetadataMaxBytes ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE));
    const accepted: CommittedOffset[] = [];
    offsets.forEach((o, i) => {
      if (codes[i] !== ErrorCode.NONE) return;
      accepted.push({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        // Kafka stores a null metadata string as ""
        metadata: o.metadata ?? '',
        commitTimestamp: o.commitTimestamp !== undefined && o.commitTimestamp >= 0 ? o.commitTimestamp : now,
      });
    });
    return { codes, accepted };
  }

  private async storeOffsets(groupId: string, offsets: readonly OffsetCommitEntry[]): Promise<number[]> {
    const { codes, accepted } = this.acceptedOffsets(offsets);
    if (accepted.length === 0) return codes;
    this.commitsInFlight.set(groupId, (this.commitsInFlight.get(groupId) ?? 0) + 1);
    try {
      await this.opts.store.commit(groupId, dedupeLastWins(accepted));
    } catch (err) {
      this.logger.error({ err, group: groupId }, 'storing committed offsets failed');
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
    } finally {
      const n = (this.commitsInFlight.get(groupId) ?? 1) - 1;
      if (n <= 0) this.commitsInFlight.delete(groupId);
      else this.commitsInFlight.set(groupId, n);
    }
    return codes;
  }

  /** Committed offsets of a group (all of them when `partitions` is null), in any state. */
  async fetchOffsets(groupId: string, partitions: readonly TopicPartitionRef[] | null, requireStable = false): Promise<OffsetFetchResult> {
    const statusError = this.groupStatusError(groupId, true);
    if (statusError !== undefined) return { errorCode: statusError, offsets: [] };
    try {
      const offsets = await this.opts.store.fetch(groupId, partitions === null ? undefined : partitions.map((p) => ({ topic: p.topic, partition: p.partition })));
      // KIP-447: a read_committed consumer must not start from offsets a transaction may still change
      if (requireStable) {
        const pending = await this.opts.store.pendingPartitions(groupId);
        if (pending.length > 0) return { errorCode: ErrorCode.NONE, offsets, unstable: new Set(pending.map((p) => `${p.topic}\0${p.partition}`)) };
      }
      return { errorCode: ErrorCode.NONE, offsets };
    } catch (err) {
      this.logger.error({ err, group: groupId }, 'reading committed offsets failed');
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, offsets: [] };
    }
  }

  // ---- Admin APIs ---------------------------------------------------------------------

  describeGroup(groupId: string): DescribedGroup {
    const statusError = this.groupStatusError(groupId, true);
    if (statusError !== undefined) return { errorCode: statusError, state: '', protocolType: '', protocol: '', members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, state: 'Dead', protocolType: '', protocol: '', members: [] };
    return { errorCode: ErrorCode.NONE, ...group.summary() };
  }

  /** ListGroups: the groups this coordinator knows, optionally filtered by state (any case). */
  listGroups(statesFilter: readonly string[]): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const groups: ListedGroup[] = [];
    for (const id of this.groupIds()) {
      const g = this.groups.get(id)!;
      if (matchesStateFilter(g.state, statesFilter)) groups.push({ groupId: id, protocolType: g.protocolType ?? '', state: g.state });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** DeleteGroups: only Empty groups go (with their offsets). One error code per distinct id. */
  async deleteGroups(groupIds: readonly string[]): Promise<Map<string, number>> {
    const results = new Map<string, number>();
    const eligible: ConsumerGroup[] = [];
    for (const id of new Set(groupIds)) {
      const statusError = this.groupStatusError(id, true);
      if (statusError !== undefined) {
        results.set(id, statusError);
        continue;
      }
      const group = this.groups.get(id);
      if (!group || group.is('Dead')) results.set(id, ErrorCode.GROUP_ID_NOT_FOUND);
      else if (group.is('Empty')) eligible.push(group);
      else results.set(id, ErrorCode.NON_EMPTY_GROUP);
    }
    await Promise.all(
      eligible.map(async (group) => {
        try {
          const removed = await this.opts.store.deleteGroup(group.groupId);
          if (this.groups.get(group.groupId) === group && group.is('Empty')) {
            group.transitionTo('Dead', Date.now());
            this.groups.delete(group.groupId);
          }
          this.logger.info({ group: group.groupId, offsetsRemoved: removed }, 'group deleted');
          results.set(group.groupId, ErrorCode.NONE);
        } catch (err) {
          this.logger.error({ err, group: group.groupId }, 'deleting group offsets failed');
          results.set(group.groupId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        }
      }),
    );
    return results;
  }

  /** OffsetDelete: refused per partition while members subscribe to the topic. */
  async deleteOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): Promise<OffsetDeleteResult> {
    const statusError = this.groupStatusError(groupId, false);
    if (statusError !== undefined) return { errorCode: statusError, partitions: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let codes: number[];
    if (group.is('Empty')) codes = partitions.map(() => ErrorCode.NONE);
    else if (usesConsumerProtocol(group.protocolType)) codes = partitions.map((p) => (group.isSubscribedToTopic(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE));
    else return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    const eligible = partitions.filter((_, i) => codes[i] === ErrorCode.NONE);
    if (eligible.length > 0) {
      try {
        await this.opts.store.deleteOffsets(groupId, eligible.map((p) => ({ topic: p.topic, partition: p.partition })));
      } catch (err) {
        this.logger.error({ err, group: groupId }, 'deleting committed offsets failed');
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, partitions: [] };
      }
    }
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  // ---- offsets.retention.minutes ------------------------------------------------------

  /**
   * One pass of Kafka's offset expiration (KIP-211): offsets of an Empty group expire once
   * the group has been empty for the retention period (all at once), or, when that moment
   * is unknown (simple groups, groups loaded at start), once their own commit is that old.
   * Empty groups left without offsets are then forgotten.
   */
  expireOffsets(now = Date.now()): Promise<void> {
    const run = (this.retentionRun ?? Promise.resolve()).then(() => this.runExpiration(now));
    this.retentionRun = run.catch((err: unknown) => this.logger.error({ err }, 'offset expiration failed'));
    return this.retentionRun;
  }

  private async runExpiration(now: number): Promise<void> {
    if (!this.active) return;
    const retention = this.opts.offsetsRetentionMs;
    const emptyLongEnough: string[] = [];
    const byCommitTime: string[] = [];
    for (const g of this.groups.values()) {
      if (!g.is('Empty') || this.commitsInFlight.has(g.groupId)) continue;
      if (g.protocolType !== null && g.stateSince !== undefined) {
        if (now - g.stateSince >= retention) emptyLongEnough.push(g.groupId);
      } else {
        byCommitTime.push(g.groupId);
      }
    }
    let expired = 0;
    if (emptyLongEnough.length > 0) expired += await this.opts.store.expire(emptyLongEnough, Number.MAX_SAFE_INTEGER);
    // Kafka expires at exactly the retention age; the store removes strictly older commits
    if (byCommitTime.length > 0) expired += await this.opts.store.expire(byCommitTime, now - retention + 1);
    const withOffsets = new Set(await this.opts.store.listGroups());
    const forgotten: string[] = [];
    for (const g of [...this.groups.values()]) {
      if (g.is('Empty') && !withOffsets.has(g.groupId) && !this.commitsInFlight.has(g.groupId)) {
        g.transitionTo('Dead', now);
        this.groups.delete(g.groupId);
        forgotten.push(g.groupId);
      }
    }
    if (expired > 0 || forgotten.length > 0) this.logger.info({ expiredOffsets: expired, groupsRemoved: forgotten }, 'expired committed offsets');
  }
}

function joinKey(groupId: string): string {
  return `join\0${groupId}`;
}

function syncKey(groupId: string): string {
  return `sync\0${groupId}`;
}

function heartbeatKey(groupId: string, memberId: string): string {
  return `heartbeat\0${groupId}\0${memberId}`;
}

function pendingKey(groupId: string, memberId: string): string {
  return `pending\0${groupId}\0${memberId}`;
}

/** A partition listed twice in one commit keeps its last offset (as Kafka's map does). */
function dedupeLastWins(offsets: readonly CommittedOffset[]): CommittedOffset[] {
  const byKey = new Map<string, CommittedOffset>();
  for (const o of offsets) byKey.set(`${o.topic}\0${o.partition}`, o);
  return [...byKey.values()];
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
