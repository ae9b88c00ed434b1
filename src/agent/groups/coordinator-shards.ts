import type { BrokerNode, ClusterView } from '../cluster/cluster-view.js';

/**
 * Number of group-coordinator shards (docs/architecture.md §8). Kafka's default for
 * offsets.topic.num.partitions; each shard will be leased by one agent.
 */
export const DEFAULT_COORDINATOR_SHARDS = 50;

/** Java's String.hashCode, so that a group lands on the shard Kafka users would expect. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The shard of a group: abs(hashCode) mod N, as Kafka maps groups to __consumer_offsets partitions. */
export function coordinatorShardOf(groupId: string, shards = DEFAULT_COORDINATOR_SHARDS): number {
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 instead of overflowing
  const h = javaStringHash(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % shards;
}

/**
 * Who coordinates which group. The multi-agent cluster replaces this with the owner of the
 * group's shard lease; everything else asks only these two questions.
 */
export interface CoordinatorLocator {
  /** The agent clients must talk to about the group; undefined while no agent owns its shard. */
  coordinatorFor(groupId: string): BrokerNode | undefined;
  /** Whether this agent coordinates the group now. */
  isLocal(groupId: string): boolean;
}

/** One agent coordinates every group (the embedded deployment). */
export class SingleAgentCoordinatorLocator implements CoordinatorLocator {
  constructor(private readonly cluster: ClusterView) {}

  coordinatorFor(): BrokerNode {
    return this.cluster.self;
  }

  isLocal(): boolean {
    return true;
  }
}
