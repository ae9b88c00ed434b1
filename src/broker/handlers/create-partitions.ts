import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { TopicError } from '../../agent/topics/topic-service.js';
import { checkReplicaAssignment } from './replica-assignment.js';
import { awaitNewLeaders, CREATE_LEADER_WAIT_MS } from '../../agent/cluster/await-new-leaders.js';

export const createPartitionsHandler = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const { services } = ctx;
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results = [];
    for (const t of request.topics) {
      if ((counts.get(t.name) ?? 0) > 1) {
        results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request.' });
        continue;
      }
      if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' });
        continue;
      }
      try {
        const topic = await services.topics.get(t.name);
        if (topic && t.assignments !== null && t.count > topic.partitionCount) {
          const adding = t.count - topic.partitionCount;
          if (t.assignments.length !== adding) {
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${adding} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`);
          }
          const registered = new Set(services.cluster.brokers().map((b) => b.nodeId));
          for (const a of t.assignments) checkReplicaAssignment(a.brokerIds, registered);
        }
        const before = topic?.partitionCount ?? 0;
        await services.topics.addPartitions(t.name, t.count, request.validateOnly);
        if (!request.validateOnly) {
          services.logger.info({ topic: t.name, partitions: t.count }, 'added partitions');
          await awaitNewLeaders(services, t.name, before, t.count, Math.min(request.timeoutMs, CREATE_LEADER_WAIT_MS));
        }
        results.push({ name: t.name, errorCode: 0, errorMessage: null });
      } catch (e) {
        if (!(e instanceof TopicError)) throw e;
        results.push({ name: t.name, errorCode: e.errorCode, errorMessage: e.message });
      }
    }
    return { throttleTimeMs: 0, results };
  },
});
