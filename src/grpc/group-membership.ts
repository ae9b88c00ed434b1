import { status } from '@grpc/grpc-js';
import type { AgentCore } from '../agent/agent-core.js';
import { ManagedGroupError, type ManagedGroupMembers } from '../agent/groups/managed-members.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { GrpcError, invalidArgument, statusForKafkaError } from './grpc-status.js';
import type {
  GroupHeartbeatRequestMsg,
  GroupHeartbeatResponseMsg,
  JoinGroupRequestMsg,
  JoinGroupResponseMsg,
  LeaveGroupRequestMsg,
  LeaveGroupResponseMsg,
  TopicPartitionsMsg,
} from './messages.js';
import { requireGroup } from './partition-access.js';

export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
export const DEFAULT_REBALANCE_TIMEOUT_MS = 30_000;

/** ConsumerService's group membership RPCs: JoinGroup, GroupHeartbeat, LeaveGroup (the core's ManagedGroupMembers). */
export class GroupMembership {
  constructor(private readonly services: AgentCore) {}

  private get members(): ManagedGroupMembers {
    const m = this.services.managedMembers;
    if (!m) throw new GrpcError(status.UNAVAILABLE, 'this agent runs no group coordination');
    return m;
  }

  async join(req: JoinGroupRequestMsg, signal: AbortSignal, peer: string): Promise<JoinGroupResponseMsg> {
    requireGroup(req.group);
    const topics = [...new Set(req.topics)];
    if (topics.length === 0 || topics.some((t) => t === '')) throw invalidArgument('topics must name at least one topic, none empty');
    const sessionTimeoutMs = timeout(req.sessionTimeoutMs, 'session_timeout_ms', DEFAULT_SESSION_TIMEOUT_MS);
    const rebalanceTimeoutMs = timeout(req.rebalanceTimeoutMs, 'rebalance_timeout_ms', DEFAULT_REBALANCE_TIMEOUT_MS);
    try {
      const joined = await this.members.join(
        {
          groupId: req.group,
          memberId: req.memberId,
          topics,
          assignor: req.assignor === 'GROUP_ASSIGNOR_STICKY' ? 'sticky' : 'range',
          sessionTimeoutMs,
          rebalanceTimeoutMs,
          clientId: req.clientId,
          clientHost: peerHost(peer),
          owned: req.owned.map((o) => ({ topic: o.topic, partitions: o.partitions })),
        },
        signal,
      );
      return {
        memberId: joined.memberId,
        generationId: joined.generationId,
        assignment: joined.partitions.map((p): TopicPartitionsMsg => ({ topic: p.topic, partitions: [...p.partitions] })),
        leaderId: joined.leaderId,
        assignor: joined.assignor,
      };
    } catch (err) {
      throw membershipError(req.group, err);
    }
  }

  async heartbeat(req: GroupHeartbeatRequestMsg): Promise<GroupHeartbeatResponseMsg> {
    requireGroup(req.group);
    if (!req.memberId) throw invalidArgument('member_id is required');
    const sessionTimeoutMs = timeout(req.sessionTimeoutMs, 'session_timeout_ms', DEFAULT_SESSION_TIMEOUT_MS);
    const code = await this.members.heartbeat(req.group, req.memberId, req.generationId, req.clientId, sessionTimeoutMs);
    if (code === ErrorCode.NONE) return { rebalance: false };
    if (code === ErrorCode.REBALANCE_IN_PROGRESS) return { rebalance: true };
    throw membershipError(req.group, new ManagedGroupError(code, errorInfo(code).message));
  }

  async leave(req: LeaveGroupRequestMsg): Promise<LeaveGroupResponseMsg> {
    requireGroup(req.group);
    if (!req.memberId) throw invalidArgument('member_id is required');
    const code = await this.members.leave(req.group, req.memberId, req.clientId);
    // a member the group already dropped has nothing left to leave
    if (code !== ErrorCode.NONE && code !== ErrorCode.UNKNOWN_MEMBER_ID) throw membershipError(req.group, new ManagedGroupError(code, errorInfo(code).message));
    return {};
  }
}

function timeout(value: number, what: string, fallback: number): number {
  if (!Number.isInteger(value) || value < 0) throw invalidArgument(`${what} must be 0 or more, got ${value}`);
  return value === 0 ? fallback : value;
}

/** "ipv4:1.2.3.4:5" / "ipv6:[::1]:5" → the host, as Kafka's DescribeGroups shows client hosts. */
function peerHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(bare) ?? /^(.*):\d+$/.exec(bare);
  return `/${m ? m[1] : bare}`;
}

/** A Kafka refusal of the group protocol, as the gRPC status the client acts on. */
export function membershipError(groupId: string, err: unknown): unknown {
  if (!(err instanceof ManagedGroupError)) return err;
  const name = errorInfo(err.errorCode).name;
  switch (err.errorCode) {
    case ErrorCode.UNKNOWN_MEMBER_ID:
      return new GrpcError(status.FAILED_PRECONDITION, `consumer group '${groupId}' does not know this member (its session expired or it left): join again as a new member`, name);
    case ErrorCode.ILLEGAL_GENERATION:
      return new GrpcError(status.FAILED_PRECONDITION, `consumer group '${groupId}' has moved to a newer generation: join again`, name);
    case ErrorCode.INCONSISTENT_GROUP_PROTOCOL:
      return new GrpcError(status.FAILED_PRECONDITION, err.message, name);
    case ErrorCode.INVALID_SESSION_TIMEOUT:
      return new GrpcError(status.INVALID_ARGUMENT, err.message, name);
    case ErrorCode.GROUP_MAX_SIZE_REACHED:
      return new GrpcError(status.RESOURCE_EXHAUSTED, `consumer group '${groupId}' is full (group.max.size)`, name);
    default:
      return new GrpcError(statusForKafkaError(err.errorCode), err.message, name);
  }
}
