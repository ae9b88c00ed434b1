import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { BrokerConfig } from './config/broker-config.js';
import type { DynamicBrokerConfigs } from './config/dynamic-broker-configs.js';
import type { ClusterView } from './cluster/cluster-view.js';
import type { TopicService } from './topics/topic-service.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { LogService } from './log-service.js';
import type { GroupCoordinator } from './groups/group-coordinator.js';
import type { CoordinatorLocator } from './groups/coordinator-shards.js';
import type { ManagedGroupMembers } from './groups/managed-members.js';
import type { GroupRouter } from './groups/group-router.js';
import type { PartitionRouter } from './cluster/partition-router.js';
import type { Authorizer } from './security/authorizer.js';
import type { AclSync } from './security/acl-sync.js';
import type { TransactionCoordinator } from './transactions/transaction-coordinator.js';

/**
 * The agent core every door (Kafka, gRPC, HTTP) is built on: configuration, stores, the
 * cluster view, topics, the log, consumer groups and metrics. src/server/start-agent.ts builds
 * it; each door receives it and nothing of the other doors.
 */
export interface AgentCore {
  readonly config: BrokerConfig;
  readonly metadata: MetadataStore;
  readonly cluster: ClusterView;
  readonly topics: TopicService;
  /** Broker configs in force: start-up values under the dynamic ones (AlterConfigs). */
  readonly brokerConfigs: DynamicBrokerConfigs;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
  /** The log of the partitions this agent leads (append, read, offsets). */
  readonly log: LogService;
  /**
   * Consumer groups this agent coordinates, where their coordinator shards are, and the route
   * to any group's coordinator on any agent. Absent in a core without group support (tests of
   * other APIs): group APIs then fail instead of answering with made-up state.
   */
  readonly groups?: GroupCoordinator;
  readonly coordinators?: CoordinatorLocator;
  readonly groupRouter?: GroupRouter;
  /** Group membership for consumers that do not speak Kafka's group protocol (gRPC), assigned by the agents. */
  readonly managedMembers?: ManagedGroupMembers;
  /**
   * Any partition's log from this agent: the leader's, over its Kafka listener, when another
   * agent leads it (for doors that do not speak Kafka). Absent in test cores: use `log`.
   */
  readonly partitionRouter?: PartitionRouter;
  /**
   * The ACL authorizer (authorizer.class.name) and what keeps its bindings current; absent:
   * no authorization, every request allowed and the ACL APIs answer SECURITY_DISABLED.
   */
  readonly authorizer?: Authorizer;
  readonly aclSync?: AclSync;
  /**
   * The transaction coordinator for the transactional ids of the coordinator shards this
   * agent holds (docs/transactions.md); absent in test cores: transactional APIs then fail.
   */
  readonly transactions?: TransactionCoordinator;
  /** Told when a topic was deleted, so the log forgets what it cached of it. */
  readonly onTopicDeleted?: (topic: string) => void;
}
