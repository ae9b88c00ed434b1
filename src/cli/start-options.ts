import type { ApiListenerHosts } from '../server/start-agent.js';
import { ConfigError, defaultBrokerConfig, parseHostPort, type BrokerConfig, type HostPort } from '../agent/config/broker-config.js';

/** One CLI flag, its environment variable and how it lands in BrokerConfig. */
export interface StartOption {
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  /** The default as shown in --help and the README table. */
  readonly defaultText: string;
}

export const START_OPTIONS: readonly StartOption[] = [
  { flag: 'data-dir', env: 'STREAMHOUSE_DATA_DIR', description: 'directory for embedded metadata and objects', defaultText: './data' },
  { flag: 'kafka-listener', env: 'STREAMHOUSE_KAFKA_LISTENER', description: 'host:port the Kafka protocol listens on', defaultText: '0.0.0.0:9092' },
  { flag: 'advertised-listener', env: 'STREAMHOUSE_ADVERTISED_LISTENER', description: 'host:port clients are told to connect to', defaultText: 'localhost:<kafka port>' },
  { flag: 'http-listener', env: 'STREAMHOUSE_HTTP_LISTENER', description: 'host:port of /health, /ready, /metrics and the REST API', defaultText: '0.0.0.0:8080' },
  { flag: 'http-port', env: 'STREAMHOUSE_HTTP_PORT', description: 'port of the HTTP API on every interface, like --http-listener 0.0.0.0:<port>', defaultText: '8080' },
  { flag: 'grpc-listener', env: 'STREAMHOUSE_GRPC_LISTENER', description: 'host:port of the native gRPC API', defaultText: '0.0.0.0:50051' },
  { flag: 'grpc-port', env: 'STREAMHOUSE_GRPC_PORT', description: 'port of the gRPC API on every interface, like --grpc-listener 0.0.0.0:<port>', defaultText: '50051' },
  { flag: 'metadata', env: 'STREAMHOUSE_METADATA_URL', description: 'metadata store URL: sqlite://path or postgres://... (DATABASE_URL also works)', defaultText: 'sqlite://<data-dir>/metadata.db' },
  { flag: 'storage', env: 'STREAMHOUSE_STORAGE_URL', description: 'object store URL: file://dir or s3://bucket/prefix', defaultText: 'file://<data-dir>/objects' },
  { flag: 'agent-id', env: 'STREAMHOUSE_AGENT_ID', description: 'this agent\'s id', defaultText: 'host name' },
  { flag: 'node-id', env: 'STREAMHOUSE_NODE_ID', description: 'Kafka broker id', defaultText: '0' },
  { flag: 'log-level', env: 'STREAMHOUSE_LOG_LEVEL', description: 'trace, debug, info, warn, error', defaultText: 'info' },
  { flag: 'flush-interval-ms', env: 'STREAMHOUSE_FLUSH_INTERVAL_MS', description: 'flush.interval.ms', defaultText: '10 with a local directory, 100 with S3' },
  { flag: 'flush-max-bytes', env: 'STREAMHOUSE_FLUSH_MAX_BYTES', description: 'flush.max.bytes', defaultText: '8388608' },
  { flag: 'auto-create-topics', env: 'STREAMHOUSE_AUTO_CREATE_TOPICS', description: 'auto.create.topics.enable: true or false', defaultText: 'true' },
  { flag: 'object-gc-grace-ms', env: 'STREAMHOUSE_OBJECT_GC_GRACE_MS', description: 'age after which unreferenced objects are deleted', defaultText: '600000' },
  { flag: 'retention-check-interval-ms', env: 'STREAMHOUSE_RETENTION_CHECK_INTERVAL_MS', description: 'how often retention.ms/retention.bytes are applied', defaultText: '60000' },
  { flag: 'compaction-interval-ms', env: 'STREAMHOUSE_COMPACTION_INTERVAL_MS', description: 'how often small chunks are merged into larger objects; 0 disables', defaultText: '60000' },
  { flag: 'default-partitions', env: 'STREAMHOUSE_DEFAULT_PARTITIONS', description: 'num.partitions for auto-created topics', defaultText: '1' },
  { flag: 'cluster', env: 'STREAMHOUSE_CLUSTER', description: 'join a cluster of agents through leases: auto (when --metadata is postgres://), true or false', defaultText: 'auto' },
  { flag: 'heartbeat-interval-ms', env: 'STREAMHOUSE_HEARTBEAT_INTERVAL_MS', description: 'cluster heartbeat and lease renewal interval, 1000 or more', defaultText: '5000' },
  { flag: 'lease-ttl-ms', env: 'STREAMHOUSE_LEASE_TTL_MS', description: 'partition lease lifetime without renewal; at least twice the heartbeat', defaultText: '15000' },
  { flag: 'group-initial-rebalance-delay-ms', env: 'STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS', description: 'group.initial.rebalance.delay.ms: how long a new group waits for more members', defaultText: '3000' },
];

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function int(value: string, what: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`${what} must be an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function envName(flag: string): string {
  const opt = START_OPTIONS.find((o) => o.flag === flag);
  if (!opt) throw new Error(`no start option --${flag}`);
  return opt.env;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** What `streamhouse start` runs with: the broker config and the hosts its HTTP and gRPC APIs bind. */
export type StartConfig = BrokerConfig & Required<ApiListenerHosts>;

/**
 * Where the HTTP or gRPC API binds: `--<api>-listener host:port`, or `--<api>-port` on every
 * interface. Flags beat environment variables; a listener and a port from the same source
 * must name the same port.
 */
function apiListener(
  api: 'http' | 'grpc',
  defaultPort: number,
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
): HostPort {
  const listenerFlag = `${api}-listener`;
  const portFlag = `${api}-port`;
  const sources: Array<(flag: string) => string | undefined> = [(flag) => nonEmpty(flags[camel(flag)]), (flag) => nonEmpty(env[envName(flag)])];
  for (const read of sources) {
    const listenerText = read(listenerFlag);
    const portText = read(portFlag);
    const port = portText === undefined ? undefined : int(portText, `--${portFlag}`, 0, 65535);
    if (listenerText === undefined) {
      if (port !== undefined) return { host: '0.0.0.0', port };
      continue;
    }
    const listener = parseHostPort(listenerText, `--${listenerFlag}`);
    if (port !== undefined && port !== listener.port) {
      throw new ConfigError(`--${listenerFlag} ${listenerText} and --${portFlag} ${port} name different ports; give one of them`);
    }
    return { host: listener.host === '' ? '0.0.0.0' : listener.host, port: listener.port };
  }
  return { host: '0.0.0.0', port: defaultPort };
}

/**
 * Merges flags over environment variables over defaults. Throws ConfigError with one
 * readable line for anything invalid.
 */
export function resolveStartConfig(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv = process.env): StartConfig {
  const get = (flag: string): string | undefined => nonEmpty(flags[camel(flag)]) ?? nonEmpty(env[envName(flag)]);
  const overrides: { -readonly [K in keyof BrokerConfig]?: BrokerConfig[K] } = {};
  const dataDir = get('data-dir') ?? './data';
  overrides.dataDir = dataDir;
  const listener = get('kafka-listener');
  if (listener) overrides.kafkaListener = parseHostPort(listener, '--kafka-listener');
  const advertised = get('advertised-listener');
  if (advertised) {
    const hp = parseHostPort(advertised, '--advertised-listener');
    if (hp.host === '' || hp.host === '0.0.0.0') throw new ConfigError('--advertised-listener needs a host clients can reach, not 0.0.0.0');
    overrides.advertisedListener = hp;
  }
  const defaults = defaultBrokerConfig();
  const http = apiListener('http', defaults.httpPort, flags, env);
  overrides.httpPort = http.port;
  const grpc = apiListener('grpc', defaults.grpcPort, flags, env);
  overrides.grpcPort = grpc.port;
  const metadata = get('metadata') ?? (env.DATABASE_URL || undefined);
  if (metadata) {
    if (!/^(sqlite:|postgres:\/\/|postgresql:\/\/)/.test(metadata)) throw new ConfigError(`--metadata must be sqlite://path or postgres://..., got "${metadata.replace(/:[^:@/]*@/, ':***@')}"`);
    overrides.metadataUrl = metadata;
  }
  const storage = get('storage');
  if (storage) {
    if (!/^(file:\/\/|s3:\/\/)/.test(storage)) throw new ConfigError(`--storage must be file://dir or s3://bucket/prefix, got "${storage}"`);
    overrides.storageUrl = storage;
  }
  const agentId = get('agent-id');
  if (agentId) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(agentId)) throw new ConfigError(`--agent-id may use letters, digits, '.', '_' and '-' (1-128 characters), got "${agentId}"`);
    overrides.agentId = agentId;
  }
  const nodeId = get('node-id');
  if (nodeId) overrides.nodeId = int(nodeId, '--node-id', 0, 2147483647);
  const logLevel = get('log-level');
  if (logLevel) {
    if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
    overrides.logLevel = logLevel;
  }
  const flushInterval = get('flush-interval-ms');
  if (flushInterval) overrides.flushIntervalMs = int(flushInterval, '--flush-interval-ms', 0, 60000);
  const flushMax = get('flush-max-bytes');
  if (flushMax) overrides.flushMaxBytes = int(flushMax, '--flush-max-bytes', 1024, 1024 * 1024 * 1024);
  const autoCreate = get('auto-create-topics');
  if (autoCreate) {
    if (autoCreate !== 'true' && autoCreate !== 'false') throw new ConfigError(`--auto-create-topics must be true or false, got "${autoCreate}"`);
    overrides.autoCreateTopics = autoCreate === 'true';
  }
  const grace = get('object-gc-grace-ms');
  if (grace) overrides.objectGcGraceMs = int(grace, '--object-gc-grace-ms', 0, 2147483647);
  const retentionEvery = get('retention-check-interval-ms');
  if (retentionEvery) overrides.retentionCheckIntervalMs = int(retentionEvery, '--retention-check-interval-ms', 100, 86_400_000);
  const compactionEvery = get('compaction-interval-ms');
  if (compactionEvery) overrides.compactionIntervalMs = int(compactionEvery, '--compaction-interval-ms', 0, 86_400_000);
  const partitions = get('default-partitions');
  if (partitions) overrides.defaultPartitions = int(partitions, '--default-partitions', 1, 100000);
  const rebalanceDelay = get('group-initial-rebalance-delay-ms');
  if (rebalanceDelay) overrides.groupInitialRebalanceDelayMs = int(rebalanceDelay, '--group-initial-rebalance-delay-ms', 0, 2147483647);
  const cluster = get('cluster');
  if (cluster) {
    if (!['auto', 'true', 'false'].includes(cluster)) throw new ConfigError(`--cluster must be auto, true or false, got "${cluster}"`);
    overrides.clusterMode = cluster === 'true' ? 'on' : cluster === 'false' ? 'off' : 'auto';
  }
  const heartbeat = get('heartbeat-interval-ms');
  if (heartbeat) overrides.heartbeatIntervalMs = int(heartbeat, '--heartbeat-interval-ms', 1000, 600_000);
  const leaseTtl = get('lease-ttl-ms');
  if (leaseTtl) overrides.leaseTtlMs = int(leaseTtl, '--lease-ttl-ms', 2000, 3_600_000);
  const resolved = defaultBrokerConfig(overrides);
  if (resolved.leaseTtlMs < 2 * resolved.heartbeatIntervalMs) {
    throw new ConfigError(`--lease-ttl-ms (${resolved.leaseTtlMs}) must be at least twice --heartbeat-interval-ms (${resolved.heartbeatIntervalMs})`);
  }
  return { ...resolved, httpHost: http.host, grpcHost: grpc.host };
}

/** The README's configuration table, made from START_OPTIONS (a unit test keeps them equal). */
export function startOptionsTable(): string {
  const rows = START_OPTIONS.map((o) => `| \`--${o.flag}\` | \`${o.env}\` | ${o.defaultText} | ${o.description.replace(/\|/g, '\\|')} |`);
  return ['| flag | environment | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
