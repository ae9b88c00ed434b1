import type { BrokerConfigOverride, ClusterMetadataStore } from '../../metadata/metadata-store.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { brokerConfigEntries, defaultBrokerConfig, type BrokerConfig } from './broker-config.js';
import { TOPIC_CONFIGS } from '../topics/topic-config-definitions.js';

/** A refused broker config change, with the Kafka error code to answer. */
export class BrokerConfigError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerConfigError';
  }
}

type Validator = (value: string) => string | undefined;

function intAtLeast(min: number): Validator {
  return (v) => (/^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= 2147483647 ? undefined : `must be an integer between ${min} and 2147483647`);
}

/**
 * The broker configs AlterConfigs may change at run time (Kafka's "dynamic" ones that mean
 * something here): the defaults behind topic configs (validated like the topic config they
 * stand behind), plus auto-creation and its partition count.
 */
const DYNAMIC: ReadonlyMap<string, Validator> = new Map<string, Validator>([
  ...TOPIC_CONFIGS.filter((d) => d.brokerSynonym !== undefined && ['log.retention.ms', 'log.retention.bytes', 'message.max.bytes', 'log.cleanup.policy', 'compression.type', 'log.message.timestamp.type'].includes(d.brokerSynonym))
    .map((d): [string, Validator] => [d.brokerSynonym!, d.validate ?? (() => undefined)]),
  ['auto.create.topics.enable', (v) => (v === 'true' || v === 'false' ? undefined : 'must be true or false')],
  ['num.partitions', intAtLeast(1)],
]);

export function isDynamicBrokerConfig(name: string): boolean {
  return DYNAMIC.has(name);
}

/** Where a broker config's value comes from (Kafka's DescribeConfigs ConfigSource names). */
export type BrokerConfigSource = 'DYNAMIC_BROKER_CONFIG' | 'DYNAMIC_DEFAULT_BROKER_CONFIG' | 'STATIC_BROKER_CONFIG';

/**
 * Broker configs as this agent applies them: a value set for this broker wins over the
 * cluster-wide default, which wins over the start-up value. Dynamic values live in the
 * metadata store, so every agent sees them (after its next reload).
 */
export class DynamicBrokerConfigs {
  private overrides: readonly BrokerConfigOverride[] = [];
  private readonly staticValues: ReadonlyMap<string, string>;
  private readonly defaults: ReadonlyMap<string, string>;
  /** This broker's scope: its node id. */
  readonly ownScope: string;

  constructor(
    private readonly store: ClusterMetadataStore,
    config: BrokerConfig,
  ) {
    this.staticValues = new Map(brokerConfigEntries(config).map((e) => [e.name, e.value]));
    this.defaults = new Map(brokerConfigEntries(defaultBrokerConfig()).map((e) => [e.name, e.value]));
    this.ownScope = String(config.nodeId);
  }

  /** The value from start-up (flags, environment, or the default). */
  startUpValue(name: string): string | undefined {
    return this.staticValues.get(name);
  }

  /** Kafka's default for the config (what it is with no flag set). */
  defaultValue(name: string): string | undefined {
    return this.defaults.get(name);
  }

  /** Re-reads the dynamic configs (at start, after a change, and on each cluster view refresh). */
  async reload(): Promise<void> {
    this.overrides = await this.store.listBrokerConfigs();
    this.version++;
  }

  /** Bumped on every reload: what was derived from these values may be stale. */
  version = 0;

  /** The dynamic value this broker uses, if any, and whose it is. */
  dynamic(name: string): { value: string; source: BrokerConfigSource } | undefined {
    const own = this.overrides.find((o) => o.scope === this.ownScope && o.name === name);
    if (own) return { value: own.value, source: 'DYNAMIC_BROKER_CONFIG' };
    const cluster = this.overrides.find((o) => o.scope === '' && o.name === name);
    return cluster && { value: cluster.value, source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' };
  }

  /** Dynamic values of one scope ('' = cluster-wide default). */
  scope(scope: string): readonly BrokerConfigOverride[] {
    return this.overrides.filter((o) => o.scope === scope);
  }

  /** The value in force: dynamic, else the start-up value; undefined for a name we do not know. */
  value(name: string): string | undefined {
    return this.dynamic(name)?.value ?? this.staticValues.get(name);
  }

  get autoCreateTopics(): boolean {
    return this.value('auto.create.topics.enable') === 'true';
  }

  get defaultPartitions(): number {
    return Number(this.value('num.partitions'));
  }

  get messageMaxBytes(): number {
    return Number(this.value('message.max.bytes'));
  }

  /**
   * Sets (string) or removes (null) dynamic configs of one scope. Refuses the whole change
   * when any name is not dynamic (INVALID_REQUEST, as Kafka) or a value is invalid
   * (INVALID_CONFIG).
   */
  async alter(scope: string, changes: Readonly<Record<string, string | null>>, validateOnly: boolean): Promise<void> {
    if (scope !== '' && !/^\d+$/.test(scope)) throw new BrokerConfigError(ErrorCode.INVALID_REQUEST, `Invalid broker id ${scope}`);
    const names = Object.keys(changes);
    const readOnly = names.filter((n) => !DYNAMIC.has(n));
    if (readOnly.length > 0) throw new BrokerConfigError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: Set(${readOnly.join(', ')})`);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) continue;
      const problem = DYNAMIC.get(name)!(value);
      if (problem) throw new BrokerConfigError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: ${problem}`);
    }
    if (validateOnly || names.length === 0) return;
    await this.store.alterBrokerConfigs(scope, changes);
    await this.reload();
  }
}
