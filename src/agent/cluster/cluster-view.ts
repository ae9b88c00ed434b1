import type { BrokerConfig } from '../config/broker-config.js';

export interface BrokerNode {
  readonly nodeId: number;
  /** The agent behind the node id, when the view knows it (the gRPC API shows it). */
  readonly agentId?: string;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionLeader {
  readonly nodeId: number;
  readonly leaderEpoch: number;
}

/** What clients are told about the cluster: its brokers and who leads each partition. */
export interface ClusterView {
  readonly clusterId: string;
  readonly self: BrokerNode;
  controllerId(): number;
  brokers(): readonly BrokerNode[];
  leaderOf(topic: string, partition: number): PartitionLeader | undefined;
  /**
   * Resolves once every partition has a leader clients can be told about (at once for a
   * single agent; in a cluster, when the owning agents took their leases); false when
   * `timeoutMs` passed first.
   */
  awaitLeaders(partitions: ReadonlyArray<{ topic: string; partition: number }>, timeoutMs: number): Promise<boolean>;
}

/** A single agent that leads everything (the embedded, one-process deployment). */
export class SingleAgentClusterView implements ClusterView {
  readonly self: BrokerNode;

  constructor(
    readonly clusterId: string,
    config: BrokerConfig,
  ) {
    this.self = { nodeId: config.nodeId, agentId: config.agentId, host: config.advertisedListener.host, port: config.advertisedListener.port, rack: config.rack };
  }

  controllerId(): number {
    return this.self.nodeId;
  }

  brokers(): readonly BrokerNode[] {
    return [this.self];
  }

  leaderOf(): PartitionLeader {
    return { nodeId: this.self.nodeId, leaderEpoch: 0 };
  }

  async awaitLeaders(): Promise<boolean> {
    return true;
  }
}
