import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode, errorMessage } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, permits, ResourceType } from '../authorization.js';
import { TopicError } from '../../agent/topics/topic-service.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const deleteTopicsHandler = defineHandler({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, request) {
    const { services } = ctx;
    // v6 names topics by name or id; earlier versions by name only
    const targets = ctx.apiVersion >= 6 ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses = [];
    for (const target of targets) {
      let name = target.name;
      // Kafka (KRaft) refuses an entry that gives both or neither, and deletes the others
      if (name !== null && target.topicId !== ZERO_UUID) {
        responses.push({ name, topicId: target.topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'You may not specify both topic name and topic id.' });
        continue;
      }
      if (name === null && target.topicId === ZERO_UUID) {
        responses.push({ name: null, topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Neither topic name nor id were specified.' });
        continue;
      }
      if (name === null) {
        const byId = await services.topics.getById(target.topicId);
        // as in Kafka, an id the caller may not describe is an unknown id
        if (!byId || !permits(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, byId.name)) {
          responses.push({ name: null, topicId: target.topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: errorMessage(ErrorCode.UNKNOWN_TOPIC_ID) });
          continue;
        }
        name = byId.name;
      }
      if (!authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
        responses.push({ name, topicId: target.topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: errorMessage(ErrorCode.TOPIC_AUTHORIZATION_FAILED) });
        continue;
      }
      try {
        const topic = await services.topics.get(name);
        const orphaned = await services.topics.delete(name);
        services.logger.info({ topic: name, orphanedObjects: orphaned.length }, 'deleted topic');
        services.onTopicDeleted?.(name);
        responses.push({ name, topicId: topic?.id ?? ZERO_UUID, errorCode: 0, errorMessage: null });
      } catch (e) {
        if (!(e instanceof TopicError)) throw e;
        responses.push({ name, topicId: target.topicId, errorCode: e.errorCode, errorMessage: e.message });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});
