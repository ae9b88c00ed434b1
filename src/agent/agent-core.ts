import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { BrokerConfig } from './config/broker-config.js';
import type { DynamicBrokerConfigs } from './config/dynamic-broker-configs.js';
import type { ClusterView } from './cluster/cluster-view.js';
import type { TopicService } from './topics/topic-service.js';
import type { BrokerMetrics } from './broker-metrics.js';

/**
 * The agent core every door (Kafka, gRPC, HTTP) is built on: configuration, stores, the
 * cluster view, topics and metrics. The log and the group coordinator are still installed in
 * `extensions` (see log-access.ts and the groups folder).
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
  /** Filled in by later layers (log, groups); handlers check what they need. */
  readonly extensions: Map<string, unknown>;
}
