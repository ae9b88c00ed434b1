// Group membership for consumers that do not speak Kafka's group protocol (the gRPC door's
// consumers): the agent serving a member joins the group for it, and when that member is
// the group's leader the agent computes the assignment itself (range or sticky) before
// SyncGroup. So the partitions are assigned server-side, generations fence stale members
// exactly as for Kafka consumers, and the coordinator (sessions, rebalance timeouts,
// committed offsets, lag, DescribeGroups) is the same one Kafka consumers use.

import { setTimeout as pause } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';
import { PeerUnavailableError, type PeerSecurity } from '../cluster/peer-kafka-client.js';
import { decodeConsumerAssignment, encodeConsumerAssignment, type AssignedPartitions } from './consumer-assignment.js';
import { encodeConsumerSubscription, GRPC_CONSUMER_PROTOCOL_TYPE, parseConsumerSubscription } from './consumer-protocol.js';
import type { CoordinatorLocator } from './coordinator-shards.js';
import type { JoinGroupResult } from './group-results.js';
import { LocalMembershipChannel, RemoteMembershipChannel, type MembershipChannel, type MembershipCoordinator } from './membership-channel.js';
import { assign, SERVER_ASSIGNORS, type AssignorMember, type ServerAssignorName } from './server-assignors.js';

export interface ManagedJoinRequest {
  readonly groupId: string;
  /** Empty for a new member; the id the last join answered when rejoining. */
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly assignor: ServerAssignorName;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  /** What the member holds now (the sticky assignor keeps it where it can). */
  readonly owned: readonly AssignedPartitions[];
}

export interface ManagedAssignment {
  readonly memberId: string;
  readonly generationId: number;
  readonly leaderId: string;
  readonly assignor: string;
  readonly partitions: readonly AssignedPartitions[];
}

/** The coordinator refused: `errorCode` is Kafka's (INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, ...). */
export class ManagedGroupError extends Error {
  override name = 'ManagedGroupError';

  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ManagedGroupMembersOptions {
  /** This agent's coordinator, when it runs one. */
  readonly coordinator: () => MembershipCoordinator | undefined;
  readonly locator: () => CoordinatorLocator;
  readonly selfNodeId: () => number;
  /** Partition counts of existing topics (absent ones are left out). */
  readonly partitionCounts: (topics: readonly string[]) => Promise<ReadonlyMap<string, number>>;
  readonly logger: Logger;
  /** How member connections reach a secured inter-broker listener (default PLAINTEXT). */
  readonly peerSecurity?: PeerSecurity;
  /** How long a join keeps looking for the coordinator beyond the rebalance timeout; default 10000 ms. */
  readonly findCoordinatorMs?: number;
  /** Pause between two looks; default 100 ms. */
  readonly retryMs?: number;
}

/** Answers meaning "the coordinator is elsewhere or not there yet": look again. */
const ROUTING_ERRORS: ReadonlySet<number> = new Set([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

interface RemoteSession {
  readonly channel: RemoteMembershipChannel;
  lastUsed: number;
  readonly idleMs: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => pause(ms, undefined, { ref: false, signal });

export class ManagedGroupMembers {
  /** Connections to coordinating agents, per served member (group \0 member id). */
  private readonly remote = new Map<string, RemoteSession>();
  private closed = false;
  private newMembers = 0;

  constructor(private readonly opts: ManagedGroupMembersOptions) {}

  /**
   * Joins (or rejoins) the group and waits for the rebalance to finish; the leader's agent
   * assigns. Resolves with this member's partitions for the new generation.
   */
  async join(req: ManagedJoinRequest, signal?: AbortSignal): Promise<ManagedAssignment> {
    if (!SERVER_ASSIGNORS.includes(req.assignor)) throw new ManagedGroupError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `unknown assignor '${req.assignor}' (range or sticky)`);
    const until = performance.now() + req.rebalanceTimeoutMs + (this.opts.findCoordinatorMs ?? 10_000);
    let memberId = req.memberId;
    // a new member's connection is filed under a key of its own until the coordinator names it
    let key = memberId === '' ? `\u0001${++this.newMembers}` : memberId;
    const metadata = encodeConsumerSubscription(req.topics, req.owned);
    for (;;) {
      signal?.throwIfAborted();
      const lookAgain = async (code: number): Promise<void> => {
        if (performance.now() >= until) throw new ManagedGroupError(code, `no agent could coordinate consumer group '${req.groupId}' in time: ${errorInfo(code).message}`);
        await sleep(this.opts.retryMs ?? 100, signal);
      };
      const channel = this.channel(req.groupId, key, req.clientId, req.rebalanceTimeoutMs, req.sessionTimeoutMs);
      if (!channel) {
        await lookAgain(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        continue;
      }
      let joined: JoinGroupResult;
      try {
        joined = await channel.joinGroup({
          groupId: req.groupId,
          memberId,
          groupInstanceId: null,
          requireKnownMemberId: false,
          supportSkippingAssignment: false,
          clientId: req.clientId,
          clientHost: req.clientHost,
          rebalanceTimeoutMs: req.rebalanceTimeoutMs,
          sessionTimeoutMs: req.sessionTimeoutMs,
          protocolType: GRPC_CONSUMER_PROTOCOL_TYPE,
          protocols: [{ name: req.assignor, metadata }],
          reason: memberId === '' ? 'new gRPC consumer' : 'gRPC consumer rejoins',
        });
      } catch (err) {
        if (!(err instanceof PeerUnavailableError)) throw err;
        this.drop(req.groupId, key);
        await lookAgain(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        continue;
      }
      const code = joined.errorCode;
      if (code === ErrorCode.MEMBER_ID_REQUIRED) {
        this.rekey(req.groupId, key, joined.memberId);
        memberId = key = joined.memberId;
        continue;
      }
      if (code === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.drop(req.groupId, key);
        memberId = '';
        key = `\u0001${++this.newMembers}`;
        continue;
      }
      if (code === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (ROUTING_ERRORS.has(code)) {
        this.drop(req.groupId, key);
        await lookAgain(code);
        continue;
      }
      if (code !== ErrorCode.NONE) {
        this.drop(req.groupId, key);
        throw joinRefused(req.groupId, code);
      }
      this.rekey(req.groupId, key, joined.memberId);
      memberId = key = joined.memberId;
      const assignments = joined.leaderId === memberId ? await this.assignAsLeader(joined) : [];
      let synced;
      try {
        synced = await channel.syncGroup({
          groupId: req.groupId,
          generationId: joined.generationId,
          memberId,
          groupInstanceId: null,
          protocolType: GRPC_CONSUMER_PROTOCOL_TYPE,
          protocolName: joined.protocolName,
          assignments,
        });
      } catch (err) {
        if (!(err instanceof PeerUnavailableError)) throw err;
        this.drop(req.groupId, memberId);
        await lookAgain(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        continue;
      }
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || synced.errorCode === ErrorCode.ILLEGAL_GENERATION) continue;
      if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.drop(req.groupId, key);
        memberId = '';
        key = `\u0001${++this.newMembers}`;
        continue;
      }
      if (ROUTING_ERRORS.has(synced.errorCode)) {
        this.drop(req.groupId, memberId);
        await lookAgain(synced.errorCode);
        continue;
      }
      if (synced.errorCode !== ErrorCode.NONE) throw joinRefused(req.groupId, synced.errorCode);
      return {
        memberId,
        generationId: joined.generationId,
        leaderId: joined.leaderId,
        assignor: joined.protocolName ?? req.assignor,
        partitions: decodeConsumerAssignment(synced.assignment),
      };
    }
  }

  /**
   * One heartbeat at the coordinator: NONE, REBALANCE_IN_PROGRESS (join again), or
   * UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION (the member was fenced: join as new). A
   * coordinator that cannot be reached answers COORDINATOR_NOT_AVAILABLE.
   */
  async heartbeat(groupId: string, memberId: string, generationId: number, clientId: string, sessionTimeoutMs: number): Promise<number> {
    const channel = this.channel(groupId, memberId, clientId, sessionTimeoutMs, sessionTimeoutMs);
    if (!channel) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      const code = await channel.heartbeat(groupId, memberId, generationId);
      if (code === ErrorCode.UNKNOWN_MEMBER_ID || ROUTING_ERRORS.has(code)) this.drop(groupId, memberId);
      return code;
    } catch (err) {
      if (!(err instanceof PeerUnavailableError)) throw err;
      this.drop(groupId, memberId);
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  /** Leaves the group (its partitions go to the others at once); the member's connection is closed. */
  async leave(groupId: string, memberId: string, clientId: string): Promise<number> {
    const channel = this.channel(groupId, memberId, clientId, 10_000, 10_000);
    if (!channel) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      return await channel.leaveGroup(groupId, memberId, 'gRPC consumer closed');
    } catch (err) {
      if (!(err instanceof PeerUnavailableError)) throw err;
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    } finally {
      this.drop(groupId, memberId);
    }
  }

  close(): void {
    this.closed = true;
    for (const s of this.remote.values()) s.channel.close();
    this.remote.clear();
  }

  /** The leader's work: every member's subscription in, one consumer-protocol assignment per member out. */
  private async assignAsLeader(joined: JoinGroupResult): Promise<Array<{ memberId: string; assignment: Buffer }>> {
    const members: AssignorMember[] = joined.members.map((m) => {
      try {
        const s = parseConsumerSubscription(m.metadata);
        return { memberId: m.memberId, topics: s.topics, owned: s.ownedPartitions };
      } catch {
        return { memberId: m.memberId, topics: [], owned: [] };
      }
    });
    const counts = await this.opts.partitionCounts([...new Set(members.flatMap((m) => m.topics))]);
    const assignor = (joined.protocolName ?? 'range') as ServerAssignorName;
    const plan = assign(SERVER_ASSIGNORS.includes(assignor) ? assignor : 'range', members, counts);
    return members.map((m) => ({ memberId: m.memberId, assignment: encodeConsumerAssignment(plan.get(m.memberId) ?? []) }));
  }

  /** The way to the group's coordinator now; undefined while nobody coordinates it. */
  private channel(groupId: string, memberId: string, clientId: string, rebalanceTimeoutMs: number, sessionTimeoutMs: number): MembershipChannel | undefined {
    if (this.closed) return undefined;
    this.sweep();
    const locator = this.opts.locator();
    if (locator.isLocal(groupId)) {
      const coordinator = this.opts.coordinator();
      this.drop(groupId, memberId);
      return coordinator ? new LocalMembershipChannel(coordinator) : undefined;
    }
    const node = locator.coordinatorFor(groupId);
    if (!node || node.nodeId === this.opts.selfNodeId()) return undefined;
    const key = sessionKey(groupId, memberId);
    const existing = this.remote.get(key);
    if (existing && existing.channel.node.nodeId === node.nodeId && existing.channel.node.host === node.host && existing.channel.node.port === node.port) {
      existing.lastUsed = performance.now();
      return existing.channel;
    }
    existing?.channel.close();
    const channel = new RemoteMembershipChannel(node, clientId, rebalanceTimeoutMs + 5000, this.opts.peerSecurity);
    this.remote.set(key, { channel, lastUsed: performance.now(), idleMs: 2 * Math.max(sessionTimeoutMs, rebalanceTimeoutMs) });
    return channel;
  }

  private rekey(groupId: string, from: string, to: string): void {
    if (from === to) return;
    const session = this.remote.get(sessionKey(groupId, from));
    if (!session) return;
    this.remote.delete(sessionKey(groupId, from));
    this.remote.get(sessionKey(groupId, to))?.channel.close();
    this.remote.set(sessionKey(groupId, to), session);
  }

  private drop(groupId: string, memberId: string): void {
    const key = sessionKey(groupId, memberId);
    this.remote.get(key)?.channel.close();
    this.remote.delete(key);
  }

  /** Closes connections of members that stopped calling (their sessions expired long ago). */
  private sweep(): void {
    const now = performance.now();
    for (const [key, s] of this.remote) {
      if (now - s.lastUsed > s.idleMs) {
        s.channel.close();
        this.remote.delete(key);
      }
    }
  }
}

function sessionKey(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}

function joinRefused(groupId: string, code: number): ManagedGroupError {
  if (code === ErrorCode.INCONSISTENT_GROUP_PROTOCOL) {
    return new ManagedGroupError(code, `consumer group '${groupId}' is used by Kafka consumers (or with another assignor); a gRPC consumer cannot join it: use another group id`);
  }
  if (code === ErrorCode.INVALID_SESSION_TIMEOUT) {
    return new ManagedGroupError(code, `session timeout is outside the broker's group.min.session.timeout.ms..group.max.session.timeout.ms`);
  }
  return new ManagedGroupError(code, `joining consumer group '${groupId}' failed: ${errorInfo(code).message}`);
}
