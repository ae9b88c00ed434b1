/**
 * Topic-level configs with Kafka's names, types and defaults. Each topic config may inherit
 * from a broker config (its "synonym"), as DescribeConfigs reports.
 */
export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

export interface ConfigDefinition {
  readonly name: string;
  readonly type: ConfigType;
  readonly defaultValue: string | null;
  /** Broker config that supplies the default (DescribeConfigs synonyms). */
  readonly brokerSynonym?: string;
  /** Returns an error message for an invalid value, or undefined. */
  readonly validate?: (value: string) => string | undefined;
  readonly documentation: string;
}

const LONG_MAX = '9223372036854775807';

function oneOf(...allowed: string[]): (v: string) => string | undefined {
  return (v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`);
}

function cleanupPolicy(v: string): string | undefined {
  const parts = v.split(',').map((p) => p.trim());
  return parts.length > 0 && parts.every((p) => p === 'delete' || p === 'compact') ? undefined : 'must be a list of delete, compact';
}

function longAtLeast(min: bigint): (v: string) => string | undefined {
  return (v) => {
    if (!/^-?\d+$/.test(v.trim())) return 'must be an integer';
    const n = BigInt(v.trim());
    if (n < min || n > BigInt(LONG_MAX)) return `must be at least ${min}`;
    return undefined;
  };
}

function intAtLeast(min: number): (v: string) => string | undefined {
  return (v) => {
    if (!/^-?\d+$/.test(v.trim())) return 'must be an integer';
    const n = Number(v.trim());
    if (n < min || n > 2147483647) return `must be between ${min} and 2147483647`;
    return undefined;
  };
}

function boolean(v: string): string | undefined {
  return v === 'true' || v === 'false' ? undefined : 'must be true or false';
}

function ratio(v: string): string | undefined {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? undefined : 'must be between 0 and 1';
}

/** Kafka's throttled-replicas lists: empty, '*', or partition:broker pairs. */
function throttledReplicas(v: string): string | undefined {
  const t = v.trim();
  return t === '' || t === '*' || /^\d+:\d+(\s*,\s*\d+:\d+)*$/.test(t) ? undefined : "must be empty, '*' or a list of partitionId:brokerId";
}

export const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const;

export const TOPIC_CONFIGS: readonly ConfigDefinition[] = [
  { name: 'cleanup.policy', type: 'list', defaultValue: 'delete', brokerSynonym: 'log.cleanup.policy', validate: cleanupPolicy, documentation: 'delete or compact' },
  { name: 'compression.type', type: 'string', defaultValue: 'producer', brokerSynonym: 'compression.type', validate: oneOf(...COMPRESSION_TYPES), documentation: 'final compression of stored batches' },
  { name: 'delete.retention.ms', type: 'long', defaultValue: '86400000', brokerSynonym: 'log.cleaner.delete.retention.ms', validate: longAtLeast(0n), documentation: 'tombstone retention for compacted topics' },
  { name: 'file.delete.delay.ms', type: 'long', defaultValue: '60000', brokerSynonym: 'log.segment.delete.delay.ms', validate: longAtLeast(0n), documentation: 'grace period before unreferenced objects are deleted' },
  { name: 'follower.replication.throttled.replicas', type: 'list', defaultValue: '', validate: throttledReplicas, documentation: 'accepted for compatibility, no effect: there is no replication between agents' },
  { name: 'flush.messages', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.flush.interval.messages', validate: longAtLeast(1n), documentation: 'accepted for compatibility; every acknowledged write is already durable' },
  { name: 'flush.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.flush.interval.ms', validate: longAtLeast(0n), documentation: 'accepted for compatibility; every acknowledged write is already durable' },
  { name: 'index.interval.bytes', type: 'int', defaultValue: '4096', brokerSynonym: 'log.index.interval.bytes', validate: intAtLeast(0), documentation: 'accepted for compatibility' },
  { name: 'leader.replication.throttled.replicas', type: 'list', defaultValue: '', validate: throttledReplicas, documentation: 'accepted for compatibility, no effect: there is no replication between agents' },
  { name: 'local.retention.bytes', type: 'long', defaultValue: '-2', brokerSynonym: 'log.local.retention.bytes', validate: longAtLeast(-2n), documentation: 'accepted for compatibility' },
  { name: 'local.retention.ms', type: 'long', defaultValue: '-2', brokerSynonym: 'log.local.retention.ms', validate: longAtLeast(-2n), documentation: 'accepted for compatibility' },
  { name: 'max.compaction.lag.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.cleaner.max.compaction.lag.ms', validate: longAtLeast(1n), documentation: 'for compacted topics' },
  { name: 'max.message.bytes', type: 'int', defaultValue: '1048588', brokerSynonym: 'message.max.bytes', validate: intAtLeast(0), documentation: 'largest record batch accepted' },
  { name: 'message.downconversion.enable', type: 'boolean', defaultValue: 'true', brokerSynonym: 'log.message.downconversion.enable', validate: boolean, documentation: 'accepted for compatibility' },
  { name: 'message.format.version', type: 'string', defaultValue: '3.0-IV1', brokerSynonym: 'log.message.format.version', validate: (v) => (/^\d+\.\d+(\.\d+)?(-IV\d+)?$/.test(v.trim()) ? undefined : 'must be a Kafka version such as 3.0-IV1'), documentation: 'deprecated in Kafka 3.x; accepted, no effect (batches are always stored as sent, magic v2)' },
  { name: 'message.timestamp.after.max.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.message.timestamp.after.max.ms', validate: longAtLeast(0n), documentation: 'largest allowed timestamp ahead of the broker clock' },
  { name: 'message.timestamp.before.max.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.message.timestamp.before.max.ms', validate: longAtLeast(0n), documentation: 'largest allowed timestamp behind the broker clock' },
  { name: 'message.timestamp.difference.max.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.message.timestamp.difference.max.ms', validate: longAtLeast(0n), documentation: 'deprecated form of the two settings above' },
  { name: 'message.timestamp.type', type: 'string', defaultValue: 'CreateTime', brokerSynonym: 'log.message.timestamp.type', validate: oneOf('CreateTime', 'LogAppendTime'), documentation: 'CreateTime or LogAppendTime' },
  { name: 'min.cleanable.dirty.ratio', type: 'double', defaultValue: '0.5', brokerSynonym: 'log.cleaner.min.cleanable.ratio', validate: ratio, documentation: 'for compacted topics' },
  { name: 'min.compaction.lag.ms', type: 'long', defaultValue: '0', brokerSynonym: 'log.cleaner.min.compaction.lag.ms', validate: longAtLeast(0n), documentation: 'for compacted topics' },
  { name: 'min.insync.replicas', type: 'int', defaultValue: '1', brokerSynonym: 'min.insync.replicas', validate: intAtLeast(1), documentation: 'accepted for compatibility; durability comes from object storage' },
  { name: 'preallocate', type: 'boolean', defaultValue: 'false', brokerSynonym: 'log.preallocate', validate: boolean, documentation: 'accepted for compatibility' },
  { name: 'remote.storage.enable', type: 'boolean', defaultValue: 'false', validate: boolean, documentation: 'accepted for compatibility; the whole log is in object storage' },
  { name: 'retention.bytes', type: 'long', defaultValue: '-1', brokerSynonym: 'log.retention.bytes', validate: longAtLeast(-1n), documentation: 'size limit per partition, -1 for none' },
  { name: 'retention.ms', type: 'long', defaultValue: '604800000', brokerSynonym: 'log.retention.ms', validate: longAtLeast(-1n), documentation: 'time limit, -1 for none' },
  { name: 'segment.bytes', type: 'int', defaultValue: '1073741824', brokerSynonym: 'log.segment.bytes', validate: intAtLeast(14), documentation: 'accepted for compatibility' },
  { name: 'segment.index.bytes', type: 'int', defaultValue: '10485760', brokerSynonym: 'log.index.size.max.bytes', validate: intAtLeast(4), documentation: 'accepted for compatibility' },
  { name: 'segment.jitter.ms', type: 'long', defaultValue: '0', brokerSynonym: 'log.roll.jitter.ms', validate: longAtLeast(0n), documentation: 'accepted for compatibility' },
  { name: 'segment.ms', type: 'long', defaultValue: '604800000', brokerSynonym: 'log.roll.ms', validate: longAtLeast(1n), documentation: 'accepted for compatibility' },
  { name: 'unclean.leader.election.enable', type: 'boolean', defaultValue: 'false', brokerSynonym: 'unclean.leader.election.enable', validate: boolean, documentation: 'accepted for compatibility' },
];

export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

/** Returns an error message for a topic config key/value, or undefined when valid. */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic config ${name}`;
  const problem = def.validate?.(value);
  return problem ? `Invalid value ${value} for configuration ${name}: ${problem}` : undefined;
}
