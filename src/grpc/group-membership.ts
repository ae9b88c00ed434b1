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

export function groupMembership(services: AgentCore): GroupMembershipView | undefined {
  return services.groups;
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
 * its generation and member checks, and its view of the group (the core's groupRouter,
 * src/agent/groups/group-router.ts).
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

/** The agent's route to group coordinators; UNAVAILABLE when the agent has none. */
export function requireCoordinatorRoute(services: AgentCore): GroupCoordinatorRoute {
  const route: GroupCoordinatorRoute | undefined = services.groupRouter;
  if (!route) throw new GrpcError(status.UNAVAILABLE, 'this agent runs no group coordinator');
  return route;
}

/** State shown for a group nobody coordinates here: only its committed offsets are known. */
export const UNKNOWN_GROUP_STATE = 'Unknown';
