import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';
import type { TopicPartitionRef } from '../../agent/groups/group-coordinator.js';

/**
 * OffsetDelete v0: removes committed offsets of partitions the group no longer consumes.
 * A group-level error answers with no topics, as Kafka does.
 */
export const offsetDeleteHandler = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { services } = ctx;
    // Kafka: DELETE on the group, then READ on each topic
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const codes = new Map<string, number>();
    const known: Array<TopicPartitionRef & { key: string }> = [];
    for (const t of request.topics) {
      const readable = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      const topic = readable ? await services.topics.get(t.name) : undefined;
      for (const p of t.partitions) {
        const key = `${t.name}\0${p.partitionIndex}`;
        if (!readable) codes.set(key, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        else if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount) codes.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        else known.push({ key, topic: t.name, partition: p.partitionIndex });
      }
    }
    const result = await getGroupCoordinator(services).deleteOffsets(request.groupId, known);
    if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
    known.forEach((k, i) => codes.set(k.key, result.partitions[i]!));
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes.get(`${t.name}\0${p.partitionIndex}`) ?? ErrorCode.NONE })),
      })),
    };
  },
});
