import { ErrorCode } from '../../protocol/error-codes.js';
import { brokerConfigEntries, defaultBrokerConfig } from '../config/broker-config.js';
import { defineHandler } from '../handler.js';
import { ConfigSource, topicConfigViews, type ConfigView } from './topic-configs-view.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export const describeConfigsHandler = defineHandler({
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { services } = ctx;
    const results = [];
    for (const resource of request.resources) {
      const keys = resource.configurationKeys;
      const pick = (views: ConfigView[]) => (keys === null ? views : views.filter((v) => keys.includes(v.name)));
      const withoutDocs = (views: ConfigView[]) => (request.includeDocumentation ? views : views.map((v) => ({ ...v, documentation: null })));
      if (resource.resourceType === ResourceType.TOPIC) {
        const topic = await services.topics.get(resource.resourceName);
        if (!topic) {
          results.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${resource.resourceName} does not exist`, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] });
          continue;
        }
        results.push({ errorCode: 0, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: withoutDocs(pick(topicConfigViews(services.topics, topic, request.includeSynonyms))) });
      } else if (resource.resourceType === ResourceType.BROKER) {
        if (resource.resourceName !== '' && resource.resourceName !== String(services.config.nodeId)) {
          results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${services.config.nodeId} or empty string, but received ${resource.resourceName}`, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] });
          continue;
        }
        // a value left at its default is reported as such, as Kafka does; anything set is static
        const defaults = new Map(brokerConfigEntries(defaultBrokerConfig()).map((e) => [e.name, e.value]));
        const views: ConfigView[] = brokerConfigEntries(services.config).map((e) => {
          const isDefault = defaults.get(e.name) === e.value;
          const source = isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG;
          return {
            name: e.name,
            value: e.value,
            readOnly: e.readOnly,
            isDefault,
            configSource: source,
            isSensitive: false,
            synonyms: request.includeSynonyms ? [{ name: e.name, value: e.value, source }] : [],
            configType: 2,
            documentation: null,
          };
        });
        results.push({ errorCode: 0, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: pick(views) });
      } else {
        results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resource.resourceType}`, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
