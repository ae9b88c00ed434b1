// What clients see of a cluster of agents (docs/architecture.md §8): live agents as brokers, each
// partition's lease owner as its leader with the lease epoch as leader epoch, and each
// group's coordinator as the owner of its shard's lease.

import type { BrokerNode, ClusterView, PartitionLeader } from './cluster-view.js';
import { coordinatorShardOf, type CoordinatorLocator } from '../groups/coordinator-shards.js';
import type { AgentRecord } from '../../metadata/metadata-store.js';
import type { ClusterRuntime } from './cluster-runtime.js';
import { coordinatorShardResource, partitionLeaseResource } from './lease-resources.js';

function toNode(a: AgentRecord): BrokerNode {
  return { nodeId: a.nodeId, agentId: a.agentId, host: a.host, port: a.port, rack: a.rack, ...(a.listeners !== undefined && a.listeners.length > 0 ? { listeners: a.listeners } : {}) };
}

export class LeasedClusterView implements ClusterView, CoordinatorLocator {
  /**
   * @param current the runtime once it has registered (undefined while the agent starts:
   *   then only `fallbackSelf` is known and nothing has a leader yet)
   */
  constructor(
    readonly clusterId: string,
    private readonly current: () => ClusterRuntime | undefined,
    private readonly shards: number,
    private readonly fallbackSelf: BrokerNode,
  ) {}

  get self(): BrokerNode {
    const runtime = this.current();
    return runtime ? toNode(runtime.self) : this.fallbackSelf;
  }

  controllerId(): number {
    // Kafka clients only need a live broker here; the lowest node id is stable across agents
    return this.brokers()[0]?.nodeId ?? this.self.nodeId;
  }

  brokers(): readonly BrokerNode[] {
    const runtime = this.current();
    return runtime ? runtime.brokers().map(toNode) : [this.fallbackSelf];
  }

  leaderOf(topic: string, partition: number): PartitionLeader | undefined {
    const owner = this.ownerOf(partitionLeaseResource(topic, partition));
    return owner && { nodeId: owner.node.nodeId, leaderEpoch: owner.epoch };
  }

  async awaitLeaders(partitions: ReadonlyArray<{ topic: string; partition: number }>, timeoutMs: number): Promise<boolean> {
    const runtime = this.current();
    if (!runtime) return false;
    return runtime.awaitOwners(
      partitions.map((p) => partitionLeaseResource(p.topic, p.partition)),
      timeoutMs,
    );
  }

  coordinatorFor(groupId: string): BrokerNode | undefined {
    return this.ownerOf(coordinatorShardResource(coordinatorShardOf(groupId, this.shards)))?.node;
  }

  isLocal(groupId: string): boolean {
    return this.current()?.heldLease(coordinatorShardResource(coordinatorShardOf(groupId, this.shards))) !== undefined;
  }

  private ownerOf(resource: string): { node: BrokerNode; epoch: number } | undefined {
    const runtime = this.current();
    if (!runtime) return undefined;
    const lease = runtime.leaseOf(resource);
    const owner = lease && runtime.agent(lease.owner);
    if (!lease || !owner) {
      // nobody holds it (a new topic, or a failover in progress): look again soon
      void runtime.refreshSoon();
      return undefined;
    }
    return { node: toNode(owner), epoch: lease.epoch };
  }
}
