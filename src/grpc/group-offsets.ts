import { status } from '@grpc/grpc-js';
import type { AgentCore } from '../agent/agent-core.js';
import type { OffsetCommitEntry } from '../agent/groups/group-coordinator.js';
import type { GroupRouter } from '../agent/groups/group-router.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { GrpcError, statusForKafkaError } from './grpc-status.js';

/** The agent's route to group coordinators (the core's GroupRouter); UNAVAILABLE when the agent has none. */
export function requireCoordinatorRoute(services: AgentCore): GroupRouter {
  if (!services.groupRouter) throw new GrpcError(status.UNAVAILABLE, 'this agent runs no group coordinator');
  return services.groupRouter;
}

/** The gRPC answer to an offset commit the group's coordinator refused with `code`. */
function offsetCommitRefused(groupId: string, code: number): GrpcError {
  const name = errorInfo(code).name;
  switch (code) {
    case ErrorCode.UNKNOWN_MEMBER_ID:
    case ErrorCode.ILLEGAL_GENERATION:
    case ErrorCode.FENCED_INSTANCE_ID:
    case ErrorCode.REBALANCE_IN_PROGRESS:
      // a commit without group membership, refused as Kafka refuses it while the group has members
      return new GrpcError(status.FAILED_PRECONDITION, `consumer group '${groupId}' has active members; only they may commit its offsets (stop them first)`, name);
    case ErrorCode.OFFSET_METADATA_TOO_LARGE:
      return new GrpcError(status.INVALID_ARGUMENT, 'metadata is longer than offset.metadata.max.bytes', name);
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      return new GrpcError(status.UNAVAILABLE, `no agent can coordinate consumer group '${groupId}' right now; try again`, name);
    default:
      return new GrpcError(statusForKafkaError(code), `committing offsets of consumer group '${groupId}' failed: ${errorInfo(code).message}`, name);
  }
}

/**
 * Commits offsets as a client outside the group does (generation -1, no member id) through
 * the group's coordinator, wherever it runs: refused while the group has members, and
 * ordered with the group's other commits. Throws the first refusal. (CommitOffset; the
 * admin resets go through the core's group admin, src/agent/groups/group-admin.ts.)
 */
export async function commitAsNonMember(services: AgentCore, groupId: string, offsets: readonly OffsetCommitEntry[]): Promise<void> {
  const codes = await requireCoordinatorRoute(services).commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, offsets });
  const refused = codes.find((c) => c !== ErrorCode.NONE);
  if (refused !== undefined) throw offsetCommitRefused(groupId, refused);
}

/**
 * Commits as the group member `memberId` of generation `generationId` (JoinGroup's answer):
 * FAILED_PRECONDITION naming ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or REBALANCE_IN_PROGRESS
 * once the group has moved on, so a fenced member never overwrites its successor's offsets.
 */
export async function commitAsMember(services: AgentCore, groupId: string, memberId: string, generationId: number, offsets: readonly OffsetCommitEntry[]): Promise<void> {
  const codes = await requireCoordinatorRoute(services).commitOffsets({ groupId, generationId, memberId, groupInstanceId: null, offsets });
  const refused = codes.find((c) => c !== ErrorCode.NONE);
  if (refused === undefined) return;
  const name = errorInfo(refused).name;
  switch (refused) {
    case ErrorCode.ILLEGAL_GENERATION:
      throw new GrpcError(status.FAILED_PRECONDITION, `generation ${generationId} of consumer group '${groupId}' is stale: the group rebalanced; join again`, name);
    case ErrorCode.UNKNOWN_MEMBER_ID:
      throw new GrpcError(status.FAILED_PRECONDITION, `consumer group '${groupId}' does not know member '${memberId}' (its session expired or it left): join again`, name);
    case ErrorCode.REBALANCE_IN_PROGRESS:
      throw new GrpcError(status.FAILED_PRECONDITION, `consumer group '${groupId}' is rebalancing: join again, then commit`, name);
    default:
      throw offsetCommitRefused(groupId, refused);
  }
}
