import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';
import type { OffsetCommitEntry } from '../../agent/groups/group-coordinator.js';
import { inConnectionOrder } from '../connection-order.js';

/**
 * OffsetCommit v0-8. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; the rest
 * go through the coordinator's generation/member checks and are durable in the metadata
 * store before the answer. v0 (ZooKeeper offsets in Kafka) is a generation -1 commit here;
 * v1's per-partition commit timestamp is honoured; v2-4's retention time is not (the
 * broker-wide offsets.retention.minutes applies).
 */
export const offsetCommitHandler = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 8,
  async handle(ctx, request) {
    const { services } = ctx;
    const v = ctx.apiVersion;
    const codes = new Map<string, number>();
    // Kafka: READ on the group for the whole request, then READ on each topic
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })) })),
      };
    }
    const readable = new Map(request.topics.map((t) => [t.name, true]));
    for (const name of readable.keys()) readable.set(name, authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name));
    // Commits are applied in the order they arrive: this connection's turn covers the look-ups
    // and the call into the coordinator, which keeps one group's commits in call order.
    const stored = await inConnectionOrder(ctx.connection, async () => {
      const accepted: Array<OffsetCommitEntry & { key: string }> = [];
      for (const t of request.topics) {
        const allowed = readable.get(t.name) === true;
        const topic = allowed ? await services.topics.get(t.name) : undefined;
        for (const p of t.partitions) {
          const key = `${t.name}\0${p.partitionIndex}`;
          if (!allowed) {
            codes.set(key, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            continue;
          }
          if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount) {
            codes.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            continue;
          }
          const commitTimestamp = v === 1 && p.commitTimestamp >= 0n ? Number(p.commitTimestamp) : undefined;
          accepted.push({
            key,
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            metadata: p.committedMetadata,
            ...(commitTimestamp !== undefined ? { commitTimestamp } : {}),
          });
        }
      }
      if (accepted.length === 0) return undefined;
      const results = getGroupCoordinator(services).commitOffsets({
        groupId: request.groupId,
        generationId: v >= 1 ? request.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? request.memberId : '',
        groupInstanceId: v >= 7 ? request.groupInstanceId : null,
        offsets: accepted,
      });
      return { accepted, results };
    });
    if (stored) {
      const results = await stored.results;
      stored.accepted.forEach((a, i) => codes.set(a.key, results[i]!));
    }
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codes.get(`${t.name}\0${p.partitionIndex}`) ?? ErrorCode.NONE })),
      })),
    };
  },
});
