import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { TOPIC_CONFIG_BY_NAME } from '../../agent/topics/topic-config-definitions.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { AclOperation, authorize, authorizeCluster, ResourceType as AclResource } from '../authorization.js';
import type { AgentCore } from '../../agent/agent-core.js';
import { BrokerConfigError } from '../../agent/config/dynamic-broker-configs.js';
import { TopicError } from '../../agent/topics/topic-service.js';
import { ResourceType } from './describe-configs.js';

/**
 * AlterConfigs replaces a resource's whole set of overrides: keys left out return to their
 * defaults. A BROKER resource names one broker (its id) or, empty, the cluster-wide default;
 * only dynamic broker configs may be set (see DynamicBrokerConfigs).
 */
export const alterConfigsHandler = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { services } = ctx;
    const responses = [];
    for (const resource of request.resources) {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      const denied = configsDenied(ctx, resource.resourceType, resource.resourceName);
      if (denied !== undefined) {
        responses.push({ ...base, errorCode: denied, errorMessage: null });
        continue;
      }
      if (resource.resourceType === ResourceType.BROKER) {
        // replaces the whole dynamic set of the resource: names left out are removed
        const changes: Record<string, string | null> = {};
        for (const o of services.brokerConfigs.scope(resource.resourceName)) changes[o.name] = null;
        for (const c of resource.configs) changes[c.name] = c.value;
        responses.push({ ...base, ...(await alterBrokerConfigs(services, resource.resourceName, changes, request.validateOnly)) });
        continue;
      }
      if (resource.resourceType !== ResourceType.TOPIC) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resource.resourceType}` });
        continue;
      }
      try {
        const topic = await services.topics.get(resource.resourceName);
        if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resource.resourceName} does not exist.`);
        const changes: Record<string, string | null> = {};
        for (const name of Object.keys(topic.configs)) changes[name] = null;
        for (const c of resource.configs) changes[c.name] = c.value;
        await services.topics.setConfigs(resource.resourceName, changes, request.validateOnly);
        if (!request.validateOnly) services.logger.info({ topic: resource.resourceName, configs: resource.configs }, 'altered topic configs');
        responses.push({ ...base, errorCode: 0, errorMessage: null });
      } catch (e) {
        if (!(e instanceof TopicError)) throw e;
        responses.push({ ...base, errorCode: e.errorCode, errorMessage: e.message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

/** Kafka's check: ALTER_CONFIGS on the topic, or on the cluster for a broker; the error code when refused. */
function configsDenied(ctx: RequestContext, resourceType: number, resourceName: string): number | undefined {
  if (resourceType === ResourceType.TOPIC) return authorize(ctx, AclOperation.ALTER_CONFIGS, AclResource.TOPIC, resourceName) ? undefined : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  if (resourceType === ResourceType.BROKER || resourceType === ResourceType.BROKER_LOGGER) return authorizeCluster(ctx, AclOperation.ALTER_CONFIGS) ? undefined : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  return undefined;
}

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

/** IncrementalAlterConfigs: SET, DELETE, and APPEND/SUBTRACT on list configs. */
export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const { services } = ctx;
    const responses = [];
    for (const resource of request.resources) {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      const denied = configsDenied(ctx, resource.resourceType, resource.resourceName);
      if (denied !== undefined) {
        responses.push({ ...base, errorCode: denied, errorMessage: null });
        continue;
      }
      if (resource.resourceType === ResourceType.BROKER) {
        responses.push({ ...base, ...(await incrementalBrokerChange(services, resource.resourceName, resource.configs, request.validateOnly)) });
        continue;
      }
      if (resource.resourceType !== ResourceType.TOPIC) {
        responses.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resource.resourceType}` });
        continue;
      }
      try {
        const topic = await services.topics.get(resource.resourceName);
        if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resource.resourceName} does not exist.`);
        const seen = new Set<string>();
        const changes: Record<string, string | null> = {};
        for (const c of resource.configs) {
          if (seen.has(c.name)) throw new TopicError(ErrorCode.INVALID_REQUEST, `Error due to duplicate config keys: ${c.name}`);
          seen.add(c.name);
          const def = TOPIC_CONFIG_BY_NAME.get(c.name);
          if (!def) throw new TopicError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${c.name}`);
          switch (c.configOperation) {
            case OP_SET:
              if (c.value === null) throw new TopicError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config ${c.name}`);
              changes[c.name] = c.value;
              break;
            case OP_DELETE:
              changes[c.name] = null;
              break;
            case OP_APPEND:
            case OP_SUBTRACT: {
              if (def.type !== 'list') throw new TopicError(ErrorCode.INVALID_CONFIG, `Config value append is not allowed for config key: ${c.name}`);
              const current = (services.topics.effectiveConfig(topic, c.name) ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
              const items = (c.value ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
              const next = c.configOperation === OP_APPEND ? [...current, ...items.filter((i) => !current.includes(i))] : current.filter((v) => !items.includes(v));
              changes[c.name] = next.join(',');
              break;
            }
            default:
              throw new TopicError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${c.configOperation} for ${c.name}`);
          }
        }
        await services.topics.setConfigs(resource.resourceName, changes, request.validateOnly);
        if (!request.validateOnly) services.logger.info({ topic: resource.resourceName, changes }, 'altered topic configs incrementally');
        responses.push({ ...base, errorCode: 0, errorMessage: null });
      } catch (e) {
        if (!(e instanceof TopicError)) throw e;
        responses.push({ ...base, errorCode: e.errorCode, errorMessage: e.message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

type Outcome = { errorCode: number; errorMessage: string | null };

async function alterBrokerConfigs(services: AgentCore, scope: string, changes: Record<string, string | null>, validateOnly: boolean): Promise<Outcome> {
  try {
    await services.brokerConfigs.alter(scope, changes, validateOnly);
    if (!validateOnly) services.logger.info({ broker: scope === '' ? 'cluster default' : scope, changes }, 'altered dynamic broker configs');
    return { errorCode: 0, errorMessage: null };
  } catch (e) {
    if (!(e instanceof BrokerConfigError)) throw e;
    return { errorCode: e.errorCode, errorMessage: e.message };
  }
}

async function incrementalBrokerChange(
  services: AgentCore,
  scope: string,
  configs: ReadonlyArray<{ name: string; configOperation: number; value: string | null }>,
  validateOnly: boolean,
): Promise<Outcome> {
  const changes: Record<string, string | null> = {};
  const current = new Map(services.brokerConfigs.scope(scope).map((o) => [o.name, o.value]));
  for (const c of configs) {
    if (c.name in changes) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Error due to duplicate config keys: ${c.name}` };
    switch (c.configOperation) {
      case OP_SET:
        if (c.value === null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${c.name}` };
        changes[c.name] = c.value;
        break;
      case OP_DELETE:
        changes[c.name] = null;
        break;
      case OP_APPEND:
      case OP_SUBTRACT: {
        if (c.name !== 'log.cleanup.policy') return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Config value append is not allowed for config key: ${c.name}` };
        const have = (current.get(c.name) ?? services.brokerConfigs.value(c.name) ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
        const items = (c.value ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
        changes[c.name] = (c.configOperation === OP_APPEND ? [...have, ...items.filter((i) => !have.includes(i))] : have.filter((v) => !items.includes(v))).join(',');
        break;
      }
      default:
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown config operation ${c.configOperation} for ${c.name}` };
    }
  }
  return alterBrokerConfigs(services, scope, changes, validateOnly);
}
