import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorizeTopicCreate, permits, ResourceType } from '../authorization.js';
import { checkReplicaAssignment } from './replica-assignment.js';
import { TopicError } from '../../agent/topics/topic-service.js';
import { topicConfigViews } from '../../agent/topics/topic-configs-view.js';
import { awaitNewLeaders, CREATE_LEADER_WAIT_MS } from '../../agent/cluster/await-new-leaders.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const createTopicsHandler = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, request) {
    const { services } = ctx;
    const seen = new Map<string, number>();
    for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const results = [];
    for (const t of request.topics) {
      const base = { name: t.name, topicId: ZERO_UUID, numPartitions: -1, replicationFactor: -1, configs: null };
      if ((seen.get(t.name) ?? 0) > 1) {
        results.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client \`${ctx.connection.clientId}\` contains multiple entries for the following topics: ${t.name}` });
        continue;
      }
      if (!authorizeTopicCreate(ctx, t.name)) {
        results.push({ ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' });
        continue;
      }
      try {
        let partitions = t.numPartitions;
        if (t.assignments.length > 0) {
          if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
            throw new TopicError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
          }
          const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
          if (indexes.some((p, i) => p !== i)) {
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions must be numbered 0..n-1, each with at least one replica.');
          }
          const registered = new Set(services.cluster.brokers().map((b) => b.nodeId));
          for (const a of t.assignments) checkReplicaAssignment(a.brokerIds, registered);
          partitions = t.assignments.length;
        } else if (partitions === -1) {
          partitions = services.brokerConfigs.defaultPartitions;
        }
        // storage is replicated by the object store, so any positive factor is accepted
        if (t.replicationFactor === 0 || t.replicationFactor < -1) {
          throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) {
          if (c.value === null) throw new TopicError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config ${c.name}`);
          configs[c.name] = c.value;
        }
        const topic = await services.topics.create({ name: t.name, partitions, configs, validateOnly: request.validateOnly });
        if (!request.validateOnly) services.logger.info({ topic: t.name, partitions, configs }, 'created topic');
        // Kafka shows the new topic's configs only to who may describe them
        const showConfigs = permits(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name);
        results.push({
          name: t.name,
          topicId: request.validateOnly ? ZERO_UUID : topic.id,
          errorCode: 0,
          errorMessage: null,
          numPartitions: partitions,
          replicationFactor: 1,
          configs: showConfigs ? topicConfigViews(services.topics, topic, false) : null,
          ...(showConfigs ? {} : { topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }),
        });
      } catch (e) {
        if (!(e instanceof TopicError)) throw e;
        results.push({ ...base, errorCode: e.errorCode, errorMessage: e.message });
      }
    }
    if (!request.validateOnly) {
      const created = results.filter((r) => r.errorCode === 0);
      const waitMs = Math.min(request.timeoutMs, CREATE_LEADER_WAIT_MS);
      await Promise.all(created.map((r) => awaitNewLeaders(services, r.name, 0, r.numPartitions, waitMs)));
    }
    return { throttleTimeMs: 0, topics: results };
  },
});
