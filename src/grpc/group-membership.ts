import type { BrokerServices } from '../broker/handler.js';

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

export function groupMembership(services: BrokerServices): GroupMembershipView | undefined {
  const v = services.extensions.get(GROUP_COORDINATOR_EXTENSION);
  return isMembershipView(v) ? v : undefined;
}

/** State shown for a group nobody coordinates here: only its committed offsets are known. */
export const UNKNOWN_GROUP_STATE = 'Unknown';
