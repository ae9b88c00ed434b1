import type { Topic } from '../../metadata/metadata-store.js';
import { TOPIC_CONFIGS, type ConfigType } from './topic-config-definitions.js';
import type { TopicService } from './topic-service.js';
import type { DynamicBrokerConfigs } from '../config/dynamic-broker-configs.js';

/** Kafka's DescribeConfigs ConfigSource values. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

const CONFIG_TYPE_CODES: Record<ConfigType, number> = { boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9 };

export interface ConfigView {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
  configType: number;
  documentation: string | null;
}

/** Every topic config with its effective value and where that value comes from. */
export function topicConfigViews(topics: TopicService, topic: Topic, includeSynonyms: boolean): ConfigView[] {
  return TOPIC_CONFIGS.map((def) => {
    const own = topic.configs[def.name];
    const value = topics.effectiveConfig(topic, def.name);
    // Kafka's synonym chain, highest precedence first: the topic's own value, then the
    // broker config behind it (dynamic for this broker, cluster default, start-up), then the default
    const chain: ConfigView['synonyms'] = [];
    if (own !== undefined) chain.push({ name: def.name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    if (def.brokerSynonym) for (const link of brokerConfigChain(topics.brokerConfigs, def.brokerSynonym)) chain.push({ name: def.brokerSynonym, ...link });
    const source = chain[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
    return {
      name: def.name,
      value,
      readOnly: false,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: false,
      synonyms: includeSynonyms ? chain : [],
      configType: CONFIG_TYPE_CODES[def.type],
      documentation: def.documentation,
    };
  });
}

/**
 * The values a broker config has, highest precedence first: dynamic for this broker, the
 * cluster-wide dynamic default, the start-up value when it differs from the default, the default.
 */
export function brokerConfigChain(configs: DynamicBrokerConfigs, name: string): Array<{ value: string | null; source: number }> {
  const chain: Array<{ value: string | null; source: number }> = [];
  const own = configs.scope(configs.ownScope).find((o) => o.name === name);
  if (own) chain.push({ value: own.value, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
  const cluster = configs.scope('').find((o) => o.name === name);
  if (cluster) chain.push({ value: cluster.value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  const startUp = configs.startUpValue(name);
  const fallback = configs.defaultValue(name);
  if (startUp !== undefined && startUp !== fallback) chain.push({ value: startUp, source: ConfigSource.STATIC_BROKER_CONFIG });
  if (fallback !== undefined) chain.push({ value: fallback, source: ConfigSource.DEFAULT_CONFIG });
  return chain;
}
