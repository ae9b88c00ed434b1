import type { Topic } from '../../metadata/metadata-store.js';
import { TOPIC_CONFIGS, type ConfigType } from '../config/topic-config-definitions.js';
import type { TopicService } from '../topic-service.js';

/** Kafka's DescribeConfigs ConfigSource values. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
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
    const synonyms: ConfigView['synonyms'] = [];
    if (includeSynonyms) {
      if (own !== undefined) synonyms.push({ name: def.name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      if (def.brokerSynonym) synonyms.push({ name: def.brokerSynonym, value: topics.effectiveConfig({ ...topic, configs: {} }, def.name), source: ConfigSource.DEFAULT_CONFIG });
    }
    return {
      name: def.name,
      value,
      readOnly: false,
      isDefault: own === undefined,
      configSource: own === undefined ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG,
      isSensitive: false,
      synonyms,
      configType: CONFIG_TYPE_CODES[def.type],
      documentation: def.documentation,
    };
  });
}
