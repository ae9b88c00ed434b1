import type { CommittedOffset } from '../../metadata/metadata-store.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { AclOperation, authorize, authorizing, permits, ResourceType } from '../authorization.js';
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

/** The requested partitions in request order; unknown ones answer offset -1, unstable ones UNSTABLE_OFFSET_COMMIT. */
function requestedTopics(requested: readonly RequestedTopic[], offsets: readonly CommittedOffset[], unstable?: ReadonlySet<string>): TopicAnswer[] {
  const byKey = new Map(offsets.map((o) => [`${o.topic}\0${o.partition}`, o]));
  return requested.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => {
      const key = `${t.name}\0${p}`;
      if (unstable?.has(key)) return noOffset(p, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      const o = byKey.get(key);
      return o ? answerOf(o) : noOffset(p);
    }),
  }));
}

/**
 * Kafka's checks: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED), DESCRIBE on each
 * topic: a requested topic the caller may not describe answers TOPIC_AUTHORIZATION_FAILED per
 * partition, and is left out of an "everything" fetch.
 */
async function authorizedFetch(ctx: RequestContext, groupId: string, topics: readonly RequestedTopic[] | null, requireStable: boolean): Promise<{ errorCode: number; topics: TopicAnswer[] }> {
  if (!authorizing(ctx)) return fetchGroup(ctx.services, groupId, topics, requireStable);
  if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  if (topics === null) {
    const r = await fetchGroup(ctx.services, groupId, null, requireStable);
    return { errorCode: r.errorCode, topics: r.topics.filter((t) => permits(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) };
  }
  const describable = new Map<string, boolean>();
  for (const t of topics) if (!describable.has(t.name)) describable.set(t.name, authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name));
  const r = await fetchGroup(ctx.services, groupId, topics.filter((t) => describable.get(t.name)), requireStable);
  if (r.errorCode !== ErrorCode.NONE) return r;
  const answered = new Map(r.topics.map((t) => [t.name, t]));
  return {
    errorCode: ErrorCode.NONE,
    topics: topics.map((t) => (describable.get(t.name) ? answered.get(t.name)! : { name: t.name, partitions: t.partitionIndexes.map((p) => noOffset(p, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) })),
  };
}

async function fetchGroup(services: AgentCore, groupId: string, topics: readonly RequestedTopic[] | null, requireStable: boolean): Promise<{ errorCode: number; topics: TopicAnswer[] }> {
  const partitions = topics === null ? null : topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
  const result = await getGroupCoordinator(services).fetchOffsets(groupId, partitions, requireStable);
  if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, topics: [] };
  return { errorCode: ErrorCode.NONE, topics: topics === null ? allTopics(result.offsets) : requestedTopics(topics, result.offsets, result.unstable) };
}

/**
 * OffsetFetch v0-8: one group up to v7 (null topics = everything the group committed, v2+),
 * several groups in v8. A group error is per partition before v2, top level from v2, per
 * group in v8. With requireStable (v7+) a requested partition whose offset an open
 * transaction staged answers UNSTABLE_OFFSET_COMMIT (KIP-447); the client retries.
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
          const r = await authorizedFetch(ctx, g.groupId, g.topics, request.requireStable);
          return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
        }),
      );
      return { throttleTimeMs: 0, groups };
    }
    const r = await authorizedFetch(ctx, request.groupId, request.topics, v >= 7 && request.requireStable);
    if (r.errorCode !== ErrorCode.NONE && v < 2) {
      const topics = (request.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => noOffset(p, r.errorCode)) }));
      return { throttleTimeMs: 0, topics };
    }
    return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
  },
});
