import type { CommittedOffset } from '../../metadata/metadata-store.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import type { AgentCore } from '../../agent/agent-core.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

interface PartitionAnswer {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

interface TopicAnswer {
  name: string;
  partitions: PartitionAnswer[];
}

interface RequestedTopic {
  readonly name: string;
  readonly partitionIndexes: readonly number[];
}

/** What Kafka answers for a partition without a committed offset. */
function noOffset(partitionIndex: number, errorCode: number = ErrorCode.NONE): PartitionAnswer {
  return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode };
}

function answerOf(o: CommittedOffset): PartitionAnswer {
  return { partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata ?? '', errorCode: ErrorCode.NONE };
}

/** Every committed offset of the group (topics = null), grouped by topic in store order. */
function allTopics(offsets: readonly CommittedOffset[]): TopicAnswer[] {
  const topics: TopicAnswer[] = [];
  for (const o of offsets) {
    let t = topics[topics.length - 1];
    if (!t || t.name !== o.topic) {
      t = { name: o.topic, partitions: [] };
      topics.push(t);
    }
    t.partitions.push(answerOf(o));
  }
  return topics;
}

/** The requested partitions in request order; unknown ones answer offset -1. */
function requestedTopics(requested: readonly RequestedTopic[], offsets: readonly CommittedOffset[]): TopicAnswer[] {
  const byKey = new Map(offsets.map((o) => [`${o.topic}\0${o.partition}`, o]));
  return requested.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => {
      const o = byKey.get(`${t.name}\0${p}`);
      return o ? answerOf(o) : noOffset(p);
    }),
  }));
}

async function fetchGroup(services: AgentCore, groupId: string, topics: readonly RequestedTopic[] | null): Promise<{ errorCode: number; topics: TopicAnswer[] }> {
  const partitions = topics === null ? null : topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
  const result = await getGroupCoordinator(services).fetchOffsets(groupId, partitions);
  if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, topics: [] };
  return { errorCode: ErrorCode.NONE, topics: topics === null ? allTopics(result.offsets) : requestedTopics(topics, result.offsets) };
}

/**
 * OffsetFetch v0-8: one group up to v7 (null topics = everything the group committed, v2+),
 * several groups in v8. A group error is per partition before v2, top level from v2, per
 * group in v8. requireStable is moot without transactions.
 */
export const offsetFetchHandler = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 8,
  async handle(ctx, request) {
    const v = ctx.apiVersion;
    if (v >= 8) {
      const groups = await Promise.all(
        request.groups.map(async (g) => {
          const r = await fetchGroup(ctx.services, g.groupId, g.topics);
          return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
        }),
      );
      return { throttleTimeMs: 0, groups };
    }
    const r = await fetchGroup(ctx.services, request.groupId, request.topics);
    if (r.errorCode !== ErrorCode.NONE && v < 2) {
      const topics = (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => noOffset(p, r.errorCode)) }));
      return { throttleTimeMs: 0, topics };
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
  },
});
