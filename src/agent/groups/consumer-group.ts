import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import { parseConsumerSubscription, usesConsumerProtocol } from './consumer-protocol.js';
import type { GroupMember, ProtocolMetadata } from './group-member.js';
import { joinError, syncError, type JoinedMember } from './group-results.js';
import { isValidTransition, type GroupState } from './group-state.js';

export interface MemberSummary {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

export interface GroupSummary {
  readonly state: GroupState;
  readonly protocolType: string;
  /** The selected protocol, only while Stable (Kafka's DescribeGroups rule). */
  readonly protocol: string;
  readonly members: readonly MemberSummary[];
}

const NO_BYTES = Buffer.alloc(0);

/**
 * One classic group's membership and generation: Kafka's GroupMetadata. Pure bookkeeping,
 * no timers and no I/O; the coordinator drives the transitions.
 */
export class ConsumerGroup {
  private currentState: GroupState = 'Empty';
  /** When the group entered its current state (ms); undefined for groups loaded from the store. */
  stateSince: number | undefined;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** A member joined during the initial rebalance delay, which may extend it. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol); undefined when unknown. */
  subscribedTopics: ReadonlySet<string> | undefined;
  private readonly members = new Map<string, GroupMember>();
  private readonly staticMembers = new Map<string, string>();
  private readonly pendingMembers = new Set<string>();
  private readonly pendingSyncMembers = new Set<string>();
  private readonly supportedProtocols = new Map<string, number>();

  constructor(
    readonly groupId: string,
    now: number | undefined,
  ) {
    this.stateSince = now;
  }

  get state(): GroupState {
    return this.currentState;
  }

  is(state: GroupState): boolean {
    return this.currentState === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!isValidTransition(this.currentState, state)) {
      throw new Error(`group ${this.groupId} cannot move from ${this.currentState} to ${state}`);
    }
    this.currentState = state;
    this.stateSince = now;
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember | undefined {
    return this.members.get(memberId);
  }

  allMembers(): GroupMember[] {
    return [...this.members.values()];
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** Kafka's member id: the instance id (static) or client id, a dash and a random UUID. */
  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member.protocols, 1);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.pendingMembers.delete(member.memberId);
  }

  /**
   * Removes a member (or a pending member id). Calls it still has parked are answered with
   * UNKNOWN_MEMBER_ID so that no request waits for a member that is gone.
   */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member.protocols, -1);
      if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
        this.staticMembers.delete(member.groupInstanceId);
      }
      member.completeJoin(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
      member.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  updateMember(member: GroupMember, protocols: readonly ProtocolMetadata[], rebalanceTimeoutMs: number, sessionTimeoutMs: number): void {
    this.countProtocols(member.protocols, -1);
    this.countProtocols(protocols, 1);
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
  }

  private countProtocols(protocols: readonly ProtocolMetadata[], delta: number): void {
    for (const name of new Set(protocols.map((p) => p.name))) {
      const n = (this.supportedProtocols.get(name) ?? 0) + delta;
      if (n <= 0) this.supportedProtocols.delete(name);
      else this.supportedProtocols.set(name, n);
    }
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /**
   * KIP-345: a static member rejoining without its member id takes over the old member's
   * place under a new id; whatever the old id still has parked is fenced.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`static member ${groupInstanceId} has no member ${oldMemberId} in group ${this.groupId}`);
    member.completeJoin(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    member.completeSync(syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  addPendingMember(memberId: string): void {
    this.pendingMembers.add(memberId);
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  /** Every member has a JoinGroup parked and no MEMBER_ID_REQUIRED member is still expected. */
  hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.isAwaitingJoin) return false;
    return this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return this.allMembers().filter((m) => !m.isAwaitingJoin);
  }

  /** The largest rebalance timeout among the members (0 without members). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  canRebalance(): boolean {
    return isValidTransition(this.currentState, 'PreparingRebalance');
  }

  /**
   * Whether a member with this protocol type and these protocols may join: any non-empty
   * offer while Empty, else the same type and at least one protocol every member supports.
   */
  supportsProtocols(protocolType: string, protocols: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType.length > 0 && protocols.length > 0;
    return this.protocolType === protocolType && protocols.some((p) => this.supportedProtocols.get(p) === this.members.size);
  }

  /** The protocols every member supports. */
  private candidateProtocols(): Set<string> {
    const out = new Set<string>();
    for (const [name, n] of this.supportedProtocols) if (n === this.members.size) out.add(name);
    return out;
  }

  /**
   * Kafka's protocol selection: each member votes for its most preferred common protocol,
   * the most votes win (ties go to the protocol voted for first).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /**
   * Keeps the leader if it rejoined, else hands leadership to any member that did. False
   * when nobody rejoined (the rebalance must wait longer).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.clearPendingSyncMembers();
  }

  /** Members with their metadata for the selected protocol: what the leader assigns from. */
  currentMemberMetadata(): JoinedMember[] {
    const protocol = this.protocolName ?? '';
    return this.allMembers().map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(protocol) }));
  }

  /** Whether OffsetDelete must refuse the topic; unknown subscriptions count as subscribed. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === undefined || this.subscribedTopics.has(topic);
  }

  private computeSubscribedTopics(): ReadonlySet<string> | undefined {
    if (!usesConsumerProtocol(this.protocolType)) return undefined;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return undefined;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) {
        for (const t of parseConsumerSubscription(m.metadataFor(this.protocolName), 0).topics) topics.add(t);
      }
    } catch {
      return undefined;
    }
    return topics;
  }

  summary(): GroupSummary {
    const stable = this.is('Stable');
    const protocol = stable ? (this.protocolName ?? '') : '';
    return {
      state: this.currentState,
      protocolType: this.protocolType ?? '',
      protocol,
      members: this.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(protocol) : NO_BYTES,
        assignment: stable ? m.assignment : NO_BYTES,
      })),
    };
  }
}
