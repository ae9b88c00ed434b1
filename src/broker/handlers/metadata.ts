import { advertisedEndpoint } from '../../agent/cluster/cluster-view.js';
import type { Topic } from '../../metadata/metadata-store.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataRequest, MetadataResponse, MetadataResponseTopic } from '../../protocol/messages/generated/metadata.js';
import { defineHandler, type Loose } from '../handler.js';
import type { AgentCore } from '../../agent/agent-core.js';
import { TopicError } from '../../agent/topics/topic-service.js';
import { topicNameProblem } from '../../agent/topics/topic-names.js';
import { autoCreateTopic, existingTopic } from '../../agent/topics/auto-create-topic.js';
import { OPERATIONS_NOT_REQUESTED } from './authorized-operations.js';
import { AclOperation, authorize, authorizedOperations, authorizeTopicCreate, permits, ResourceType } from '../authorization.js';
import { CLUSTER_RESOURCE_NAME } from '../../agent/security/acl.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function describeTopicPartitions(services: AgentCore, topic: Topic): Loose<MetadataResponseTopic> {
  const partitions = [];
  for (let p = 0; p < topic.partitionCount; p++) {
    const leader = services.cluster.leaderOf(topic.name, p);
    partitions.push(
      leader
        ? { errorCode: 0, partitionIndex: p, leaderId: leader.nodeId, leaderEpoch: leader.leaderEpoch, replicaNodes: [leader.nodeId], isrNodes: [leader.nodeId], offlineReplicas: [] }
        : { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, partitionIndex: p, leaderId: -1, leaderEpoch: -1, replicaNodes: [], isrNodes: [], offlineReplicas: [] },
    );
  }
  return { errorCode: 0, name: topic.name, topicId: topic.id, isInternal: false, partitions };
}

/**
 * Kafka's answer to a request it refuses as a whole (MetadataRequest.getErrorResponse): every
 * requested topic with the error, no brokers, no cluster id, no controller.
 */
function refuseAll(request: MetadataRequest, errorCode: number): Loose<MetadataResponse> {
  return {
    throttleTimeMs: 0,
    brokers: [],
    clusterId: null,
    controllerId: -1,
    topics: (request.topics ?? []).map((t) => ({ errorCode, name: t.name ?? '', topicId: t.topicId, isInternal: false, partitions: [] })),
  };
}

/**
 * Metadata v0-12. Topics carry their id from v10 on; v12 requests may name topics by id
 * (v10 and v11 have the fields but Kafka refuses ids and null names in them).
 */
export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(ctx, request) {
    const { services } = ctx;
    // v0 asks for every topic with an empty list; later versions with null
    const wantsAll = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
    const requested = wantsAll ? [] : (request.topics ?? []);
    if (ctx.apiVersion >= 10 && ctx.apiVersion < 12 && requested.some((t) => t.name === null || t.topicId !== ZERO_UUID)) {
      return refuseAll(request, ErrorCode.INVALID_REQUEST);
    }
    // before v4 the request had no flag and clients relied on the broker default
    const clientAllowsCreate = ctx.apiVersion < 4 ? true : request.allowAutoTopicCreation;
    // As in Kafka, a request that names any topic by id is answered by id alone: the ids it
    // names, each once, and nothing for its entries that only give a name.
    const ids = ctx.apiVersion >= 12 ? [...new Set(requested.map((t) => t.topicId).filter((id) => id !== ZERO_UUID))] : [];
    const topics: Array<Loose<MetadataResponseTopic>> = [];
    if (wantsAll) {
      // topics the caller may not describe are left out, as in Kafka
      for (const t of await services.topics.list()) if (permits(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) topics.push(describeTopicPartitions(services, t));
    } else if (ids.length > 0) {
      for (const id of ids) {
        const topic = await services.topics.getById(id);
        if (topic && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)) topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name: null, topicId: id, isInternal: false, partitions: [] });
        else topics.push(topic ? describeTopicPartitions(services, topic) : { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: id, isInternal: false, partitions: [] });
      }
    } else {
      for (const entry of requested) {
        const name = entry.name ?? '';
        const problem = topicNameProblem(name);
        if (problem) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        // whether it exists or not, a topic the caller may not describe is refused alike
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
          topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        let topic = await existingTopic(services, name);
        if (!topic && clientAllowsCreate && services.brokerConfigs.autoCreateTopics) {
          if (!authorizeTopicCreate(ctx, name)) {
            topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, partitions: [] });
            continue;
          }
          try {
            topic = await autoCreateTopic(services, name, 'kafka metadata');
          } catch (e) {
            if (!(e instanceof TopicError)) throw e;
            topics.push({ errorCode: e.errorCode, name, topicId: ZERO_UUID, partitions: [] });
            continue;
          }
        }
        topics.push(topic ? describeTopicPartitions(services, topic) : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, partitions: [] });
      }
    }
    return {
      throttleTimeMs: 0,
      // each broker's address on the listener this client came in on; brokers without it are left out, as in Kafka
      brokers: services.cluster.brokers().flatMap((b) => {
        const at = advertisedEndpoint(b, ctx.connection.listenerName);
        return at ? [{ nodeId: b.nodeId, host: at.host, port: at.port, rack: b.rack }] : [];
      }),
      clusterId: services.cluster.clusterId,
      controllerId: services.cluster.controllerId(),
      // v8+: from the ACLs; with no authorizer every operation of the resource (Kafka answers the same)
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) : OPERATIONS_NOT_REQUESTED,
      topics: topics.map((t) => ({ ...t, topicAuthorizedOperations: request.includeTopicAuthorizedOperations && t.errorCode === 0 && t.name ? authorizedOperations(ctx, ResourceType.TOPIC, t.name) : OPERATIONS_NOT_REQUESTED })),
    };
  },
});
