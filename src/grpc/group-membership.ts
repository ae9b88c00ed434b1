import { status } from '@grpc/grpc-js';
import type { AgentCore } from '../agent/agent-core.js';
import { GrpcError } from './grpc-status.js';

/**
 * The read-only part of a group coordinator the gRPC API shows (states and members). The
 * coordinator is optional: without one, groups are known only by their committed offsets.
 */
export interface GroupMembershipView {
  describeGroup(groupId: string): { readonly errorCode: number; readonly state: string; readonly members: ReadonlyArray<{ readonly memberId: string; readonly clientId: string; readonly clientHost: string }> };
  listGroups(statesFilter: readonly string[]): { readonly errorCode: number; readonly groups: ReadonlyArray<{ readonly groupId: string; readonly state: string }> };
}

/** Where the agent installs its coordinator in `services.extensions` (src/broker/groups). */
export const GROUP_COORDINATOR_EXTENSION = 'groupCoordinator';

function isMembershipView(v: unknown): v is GroupMembershipView {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { describeGroup?: unknown; listGroups?: unknown };
  return typeof o.describeGroup === 'function' && typeof o.listGroups === 'function';
}

export function groupMembership(services: AgentCore): GroupMembershipView | undefined {
  const v = services.extensions.get(GROUP_COORDINATOR_EXTENSION);
  return isMembershipView(v) ? v : undefined;
}

/** One partition's offset in a commit sent to the group's coordinator. */
export interface RoutedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
}

/**
 * The group's coordinator wherever it runs (this agent or another one): offset commits with
 * its generation and member checks, and its view of the group. Installed by the agent in
 * `services.extensions` under GROUP_ROUTER_EXTENSION (src/agent/groups/group-router.ts).
 */
export interface GroupCoordinatorRoute {
  /** One Kafka error code per offset, in order. */
  commitOffsets(input: {
    readonly groupId: string;
    readonly generationId: number;
    readonly memberId: string;
    readonly groupInstanceId: string | null;
    readonly offsets: readonly RoutedOffset[];
  }): Promise<number[]>;
  describeGroup(
    groupId: string,
    deadlineMs?: number,
  ): Promise<{ readonly errorCode: number; readonly state: string; readonly members: ReadonlyArray<{ readonly memberId: string; readonly clientId: string; readonly clientHost: string }> }>;
}

export const GROUP_ROUTER_EXTENSION = 'groupRouter';

function isCoordinatorRoute(v: unknown): v is GroupCoordinatorRoute {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as { commitOffsets?: unknown; describeGroup?: unknown };
  return typeof o.commitOffsets === 'function' && typeof o.describeGroup === 'function';
}

/** The agent's route to group coordinators; UNAVAILABLE when the agent has none. */
export function requireCoordinatorRoute(services: AgentCore): GroupCoordinatorRoute {
  const v = services.extensions.get(GROUP_ROUTER_EXTENSION);
  if (!isCoordinatorRoute(v)) throw new GrpcError(status.UNAVAILABLE, 'this agent runs no group coordinator');
  return v;
}

/** State shown for a group nobody coordinates here: only its committed offsets are known. */
export const UNKNOWN_GROUP_STATE = 'Unknown';
