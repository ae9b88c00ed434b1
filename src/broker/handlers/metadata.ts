import type { Topic } from '../../metadata/metadata-store.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataResponseTopic } from '../../protocol/messages/generated/metadata.js';
import { defineHandler, type BrokerServices, type Loose } from '../handler.js';
import { TopicError } from '../topic-service.js';
import { topicNameProblem } from '../topic-names.js';
import { awaitNewLeaders, AUTO_CREATE_LEADER_WAIT_MS } from '../await-new-leaders.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function describeTopicPartitions(services: BrokerServices, topic: Topic): Loose<MetadataResponseTopic> {
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

export const metadataHandler = defineHandler({
  apiKey: 3,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const { services } = ctx;
    // v0 asks for every topic with an empty list; later versions with null
    const wantsAll = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0);
    // before v4 the request had no flag and clients relied on the broker default
    const clientAllowsCreate = ctx.apiVersion < 4 ? true : request.allowAutoTopicCreation;
    const topics: Array<Loose<MetadataResponseTopic>> = [];
    if (wantsAll) {
      for (const t of await services.topics.list()) topics.push(describeTopicPartitions(services, t));
    } else {
      for (const requested of request.topics ?? []) {
        const name = requested.name ?? '';
        const problem = topicNameProblem(name);
        if (problem) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        let topic = await services.topics.get(name);
        if (!topic && clientAllowsCreate && services.config.autoCreateTopics) {
          try {
            topic = await services.topics.autoCreate(name);
            services.logger.info({ topic: name, partitions: topic.partitionCount }, 'auto-created topic');
            await awaitNewLeaders(services, name, 0, topic.partitionCount, AUTO_CREATE_LEADER_WAIT_MS);
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
      brokers: services.cluster.brokers().map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      clusterId: services.cluster.clusterId,
      controllerId: services.cluster.controllerId(),
      topics,
    };
  },
});
