import type { BrokerConfig } from '../config/broker-config.js';
import type { ListenerEndpoint } from '../../metadata/metadata-store.js';

export interface BrokerNode {
  readonly nodeId: number;
  /** The agent behind the node id, when the view knows it (the gRPC API shows it). */
  readonly agentId?: string;
  /** The inter-broker listener's advertised address: what other agents connect to. */
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  /** Every advertised listener by name; absent or empty for an agent that registered none. */
  readonly listeners?: readonly ListenerEndpoint[];
}

/**
 * The address of `node` that a client which connected on listener `listenerName` is told
 * (Kafka advertises the listener the client came in on). A node without a listener list
 * (an agent of an older version) has only its one address; a node that has a list but not
 * this listener is not reachable on it: undefined, and Kafka leaves such a broker out.
 */
export function advertisedEndpoint(node: BrokerNode, listenerName: string | undefined): { host: string; port: number } | undefined {
  if (listenerName === undefined || node.listeners === undefined || node.listeners.length === 0) return { host: node.host, port: node.port };
  const l = node.listeners.find((e) => e.name === listenerName);
  return l && { host: l.host, port: l.port };
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
  private readonly node: BrokerNode;

  /** @param listeners the advertised listeners once bound (ports resolved); the configured ones until then */
  constructor(
    readonly clusterId: string,
    config: BrokerConfig,
    private readonly listeners?: () => readonly ListenerEndpoint[],
  ) {
    this.node = { nodeId: config.nodeId, agentId: config.agentId, host: config.advertisedListener.host, port: config.advertisedListener.port, rack: config.rack };
  }

  get self(): BrokerNode {
    const listeners = this.listeners?.();
    if (listeners === undefined) return this.node;
    return { ...this.node, listeners };
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
