import { redactUrl } from '../../common/redact-url.js';
import { hostname } from 'node:os';
import { listenersText, protocolMapText, type KafkaListenerConfig } from './listeners.js';
import { defaultSecurityConfig, type SecurityConfig } from './security-config.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Everything one agent needs to start (docs/architecture.md §11). */
export interface BrokerConfig {
  readonly dataDir: string;
  /** The inter-broker listener's bind address (the only listener unless `listeners` names more). */
  readonly kafkaListener: HostPort;
  /** The inter-broker listener's advertised address: what other agents connect to. */
  readonly advertisedListener: HostPort;
  /** Every Kafka listener (docs/security.md); by default one PLAINTEXT listener on kafkaListener. */
  readonly listeners: readonly KafkaListenerConfig[];
  /** inter.broker.listener.name: the listener other agents use (a PLAINTEXT one in a cluster). */
  readonly interBrokerListenerName: string;
  readonly security: SecurityConfig;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly metadataUrl: string;
  readonly storageUrl: string;
  readonly agentId: string;
  readonly nodeId: number;
  readonly logLevel: string;
  readonly rack: string | null;
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  readonly socketRequestMaxBytes: number;
  readonly messageMaxBytes: number;
  readonly flushMaxBytes: number;
  readonly flushIntervalMs: number;
  /** Grace period before unreferenced objects are deleted. */
  readonly objectGcGraceMs: number;
  /** How often retention.ms / retention.bytes are applied. */
  readonly retentionCheckIntervalMs: number;
  /** How often small chunks are merged; 0 disables compaction. */
  readonly compactionIntervalMs: number;
  /** transaction.max.timeout.ms: the largest transaction.timeout.ms a producer may ask for. */
  readonly transactionMaxTimeoutMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly transactionAbortIntervalMs: number;
  readonly compactionSmallChunkBytes: number;
  readonly compactionTargetChunkBytes: number;
  readonly logRetentionMs: bigint;
  readonly logRetentionBytes: bigint;
  readonly groupInitialRebalanceDelayMs: number;
  readonly offsetsRetentionMinutes: number;
  readonly fetchCacheBytes: number;
  readonly recentWriteCacheBytes: number;
  /** Join a cluster of agents through leases: 'auto' does so with a PostgreSQL metadata store. */
  readonly clusterMode: 'auto' | 'on' | 'off';
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseHostPort(text: string, what: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`${what} must be host:port, got "${text}"`);
  const port = Number(m[3]);
  if (port < 0 || port > 65535) throw new ConfigError(`${what} port must be 0-65535, got ${port}`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export function defaultBrokerConfig(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  const dataDir = overrides.dataDir ?? './data';
  const kafkaListener = overrides.kafkaListener ?? { host: '0.0.0.0', port: 9092 };
  const advertised =
    overrides.advertisedListener ??
    { host: kafkaListener.host === '0.0.0.0' || kafkaListener.host === '' || kafkaListener.host === '::' ? 'localhost' : kafkaListener.host, port: kafkaListener.port };
  const storageUrl = overrides.storageUrl ?? `file://${dataDir}/objects`;
  const listeners = overrides.listeners ?? [{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', bind: kafkaListener, advertised }];
  return {
    dataDir,
    kafkaListener,
    advertisedListener: advertised,
    listeners,
    interBrokerListenerName: listeners[0]?.name ?? 'PLAINTEXT',
    security: defaultSecurityConfig(),
    httpPort: 8080,
    grpcPort: 50051,
    metadataUrl: `sqlite://${dataDir}/metadata.db`,
    storageUrl,
    agentId: hostname(),
    nodeId: 0,
    logLevel: 'info',
    rack: null,
    autoCreateTopics: true,
    defaultPartitions: 1,
    socketRequestMaxBytes: 100 * 1024 * 1024,
    messageMaxBytes: 1048588,
    flushMaxBytes: 8 * 1024 * 1024,
    flushIntervalMs: storageUrl.startsWith('s3://') ? 100 : 10,
    objectGcGraceMs: 10 * 60 * 1000,
    retentionCheckIntervalMs: 60_000,
    compactionIntervalMs: 60_000,
    transactionMaxTimeoutMs: 900_000,
    transactionAbortIntervalMs: 10_000,
    compactionSmallChunkBytes: 1024 * 1024,
    compactionTargetChunkBytes: 16 * 1024 * 1024,
    logRetentionMs: 604800000n,
    logRetentionBytes: -1n,
    groupInitialRebalanceDelayMs: 3000,
    offsetsRetentionMinutes: 10080,
    fetchCacheBytes: 256 * 1024 * 1024,
    recentWriteCacheBytes: 64 * 1024 * 1024,
    clusterMode: 'auto',
    heartbeatIntervalMs: 5000,
    leaseTtlMs: 15_000,
    ...overrides,
  };
}

/** Broker-level configs as DescribeConfigs reports them (Kafka names). */
export function brokerConfigEntries(config: BrokerConfig): Array<{ name: string; value: string; readOnly: boolean }> {
  const listener = listenersText(config.listeners, 'bind');
  const advertised = listenersText(config.listeners, 'advertised');
  return [
    { name: 'broker.id', value: String(config.nodeId), readOnly: true },
    { name: 'node.id', value: String(config.nodeId), readOnly: true },
    { name: 'listeners', value: listener, readOnly: true },
    { name: 'advertised.listeners', value: advertised, readOnly: true },
    { name: 'listener.security.protocol.map', value: protocolMapText(config.listeners), readOnly: true },
    { name: 'inter.broker.listener.name', value: config.interBrokerListenerName, readOnly: true },
    { name: 'sasl.enabled.mechanisms', value: config.security.saslEnabledMechanisms.join(','), readOnly: true },
    { name: 'ssl.client.auth', value: config.security.ssl?.clientAuth ?? 'none', readOnly: true },
    { name: 'ssl.principal.mapping.rules', value: config.security.ssl?.principalMappingRules ?? 'DEFAULT', readOnly: true },
    { name: 'connections.max.reauth.ms', value: String(config.security.connectionsMaxReauthMs), readOnly: true },
    { name: 'connection.failed.authentication.delay.ms', value: String(config.security.failedAuthenticationDelayMs), readOnly: true },
    { name: 'super.users', value: config.security.superUsers.map((p) => `${p.type}:${p.name}`).join(';'), readOnly: true },
    { name: 'broker.rack', value: config.rack ?? '', readOnly: true },
    { name: 'auto.create.topics.enable', value: String(config.autoCreateTopics), readOnly: true },
    { name: 'num.partitions', value: String(config.defaultPartitions), readOnly: true },
    { name: 'default.replication.factor', value: '1', readOnly: true },
    { name: 'message.max.bytes', value: String(config.messageMaxBytes), readOnly: true },
    { name: 'socket.request.max.bytes', value: String(config.socketRequestMaxBytes), readOnly: true },
    { name: 'log.retention.ms', value: String(config.logRetentionMs), readOnly: true },
    { name: 'log.retention.bytes', value: String(config.logRetentionBytes), readOnly: true },
    { name: 'log.cleanup.policy', value: 'delete', readOnly: true },
    { name: 'compression.type', value: 'producer', readOnly: true },
    { name: 'min.insync.replicas', value: '1', readOnly: true },
    { name: 'log.message.timestamp.type', value: 'CreateTime', readOnly: true },
    { name: 'log.message.format.version', value: '3.0-IV1', readOnly: true },
    { name: 'group.initial.rebalance.delay.ms', value: String(config.groupInitialRebalanceDelayMs), readOnly: true },
    { name: 'offsets.retention.minutes', value: String(config.offsetsRetentionMinutes), readOnly: true },
    { name: 'delete.topic.enable', value: 'true', readOnly: true },
    { name: 'streamhouse.agent.id', value: config.agentId, readOnly: true },
    { name: 'streamhouse.metadata.url', value: redactUrl(config.metadataUrl), readOnly: true },
    { name: 'streamhouse.storage.url', value: redactUrl(config.storageUrl), readOnly: true },
    { name: 'streamhouse.flush.max.bytes', value: String(config.flushMaxBytes), readOnly: true },
    { name: 'streamhouse.flush.interval.ms', value: String(config.flushIntervalMs), readOnly: true },
  ];
}
