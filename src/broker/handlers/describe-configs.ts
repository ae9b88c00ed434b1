import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { brokerConfigEntries } from '../../agent/config/broker-config.js';
import { isDynamicBrokerConfig } from '../../agent/config/dynamic-broker-configs.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, authorizeCluster, ResourceType as AclResource } from '../authorization.js';
import { brokerConfigChain, ConfigSource, topicConfigViews, type ConfigView } from '../../agent/topics/topic-configs-view.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export const describeConfigsHandler = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { services } = ctx;
    const results = [];
    for (const resource of request.resources) {
      const keys = resource.configurationKeys;
      const pick = (views: ConfigView[]) => (keys === null ? views : views.filter((v) => keys.includes(v.name)));
      const withoutDocs = (views: ConfigView[]) => (request.includeDocumentation ? views : views.map((v) => ({ ...v, documentation: null })));
      const denied = (errorCode: number) => results.push({ errorCode, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] });
      if (resource.resourceType === ResourceType.TOPIC && !authorize(ctx, AclOperation.DESCRIBE_CONFIGS, AclResource.TOPIC, resource.resourceName)) {
        denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        continue;
      }
      if ((resource.resourceType === ResourceType.BROKER || resource.resourceType === ResourceType.BROKER_LOGGER) && !authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
        denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
        continue;
      }
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
        const configs = services.brokerConfigs;
        const entry = (name: string, value: string | null, chain: Array<{ value: string | null; source: number }>): ConfigView => {
          const source = chain[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
          return {
            name,
            value,
            readOnly: !isDynamicBrokerConfig(name),
            isDefault: source === ConfigSource.DEFAULT_CONFIG,
            configSource: source,
            isSensitive: false,
            synonyms: request.includeSynonyms ? chain.map((c) => ({ name, ...c })) : [],
            configType: 2,
            documentation: null,
          };
        };
        // the empty name is the cluster-wide default resource: only what is set there (Kafka)
        const views: ConfigView[] =
          resource.resourceName === ''
            ? configs.scope('').map((o) => entry(o.name, o.value, [{ value: o.value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG }]))
            : brokerConfigEntries(services.config).map((e) => entry(e.name, configs.value(e.name) ?? e.value, brokerConfigChain(configs, e.name)));
        results.push({ errorCode: 0, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: pick(views) });
      } else {
        results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resource.resourceType}`, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
