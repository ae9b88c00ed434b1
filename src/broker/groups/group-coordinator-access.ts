import type { ConnectionState } from '../handler.js';
import type { AgentCore } from '../../agent/agent-core.js';
import type { GroupCoordinator } from '../../agent/groups/group-coordinator.js';
import type { CoordinatorLocator } from '../../agent/groups/coordinator-shards.js';

/**
 * The agent's group coordinator. A core without one cannot serve group APIs: the error closes
 * the connection instead of answering with made-up group state.
 */
export function getGroupCoordinator(services: AgentCore): GroupCoordinator {
  if (!services.groups) throw new Error('this agent core has no group coordinator');
  return services.groups;
}

export function getCoordinatorLocator(services: AgentCore): CoordinatorLocator {
  if (!services.coordinators) throw new Error('this agent core has no coordinator locator');
  return services.coordinators;
}

/** The client address as Kafka shows it in DescribeGroups (Java's InetAddress.toString). */
export function clientHostOf(connection: ConnectionState): string {
  let host = connection.remoteAddress;
  const colon = host.lastIndexOf(':');
  if (colon >= 0) host = host.slice(0, colon);
  if (host.startsWith('::ffff:')) host = host.slice('::ffff:'.length);
  return `/${host}`;
}
