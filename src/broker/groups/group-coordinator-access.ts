import type { ConnectionState } from '../handler.js';
import type { AgentCore } from '../../agent/agent-core.js';
import type { GroupCoordinator } from '../../agent/groups/group-coordinator.js';
import type { CoordinatorLocator } from '../../agent/groups/coordinator-shards.js';

/** Keys under which the agent installs its group coordinator in `services.extensions`. */
export const GROUP_COORDINATOR_EXTENSION = 'groupCoordinator';
export const COORDINATOR_LOCATOR_EXTENSION = 'coordinatorLocator';
/** The route to every group's coordinator, local or on another agent (group-router.ts), for the gRPC API. */
export const GROUP_ROUTER_EXTENSION = 'groupRouter';

/**
 * The agent's group coordinator. A broker started without one cannot serve group APIs: the
 * error closes the connection instead of answering with made-up group state.
 */
export function getGroupCoordinator(services: AgentCore): GroupCoordinator {
  const c = services.extensions.get(GROUP_COORDINATOR_EXTENSION);
  if (c === undefined || c === null) {
    throw new Error(`no GroupCoordinator installed: services.extensions has no '${GROUP_COORDINATOR_EXTENSION}' entry`);
  }
  return c as GroupCoordinator;
}

export function getCoordinatorLocator(services: AgentCore): CoordinatorLocator {
  const l = services.extensions.get(COORDINATOR_LOCATOR_EXTENSION);
  if (l === undefined || l === null) {
    throw new Error(`no CoordinatorLocator installed: services.extensions has no '${COORDINATOR_LOCATOR_EXTENSION}' entry`);
  }
  return l as CoordinatorLocator;
}

/** The client address as Kafka shows it in DescribeGroups (Java's InetAddress.toString). */
export function clientHostOf(connection: ConnectionState): string {
  let host = connection.remoteAddress;
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.startsWith('::ffff:')) host = host.slice('::ffff:'.length);
  return `/${host}`;
}
