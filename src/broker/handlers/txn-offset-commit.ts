import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';
import { inConnectionOrder } from '../connection-order.js';
import type { OffsetCommitEntry } from '../../agent/groups/group-coordinator.js';
import { fencedCompatible, getTransactionCoordinator } from './transaction-access.js';

/**
 * TxnOffsetCommit v0-4, sent to the group's coordinator: the offsets are staged and become
 * the group's committed offsets when the transaction commits. The group must have been
 * added to the producer's open transaction (AddOffsetsToTxn), else INVALID_TXN_STATE.
 */
export const txnOffsetCommitHandler = defineHandler({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { services } = ctx;
    const v = ctx.apiVersion;
    const answer = (code: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code(t.name, p.partitionIndex) })) })),
    });
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return answer(() => ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const codes = new Map<string, number>();
    const stored = await inConnectionOrder(ctx.connection, async () => {
      const verdict = await getTransactionCoordinator(services).verifyOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId);
      if (verdict !== ErrorCode.NONE) return { verdict };
      const accepted: Array<OffsetCommitEntry & { key: string }> = [];
      for (const t of request.topics) {
        const allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
        const topic = allowed ? await services.topics.get(t.name) : undefined;
        for (const p of t.partitions) {
          const key = `${t.name}\0${p.partitionIndex}`;
          if (!allowed) codes.set(key, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          else if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount) codes.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          else accepted.push({ key, topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata });
        }
      }
      if (accepted.length === 0) return { verdict };
      const results = getGroupCoordinator(services).stageTransactionalOffsets({
        groupId: request.groupId,
        producerId: request.producerId,
        generationId: v >= 3 ? request.generationId : -1,
        memberId: v >= 3 ? request.memberId : '',
        groupInstanceId: v >= 3 ? request.groupInstanceId : null,
        offsets: accepted,
      });
      return { verdict, accepted, results };
    });
    if (stored.verdict !== ErrorCode.NONE) {
      // Kafka 3.8+: v4 clients abort and go on (TRANSACTION_ABORTABLE) where older ones get INVALID_TXN_STATE
      const code = stored.verdict === ErrorCode.INVALID_TXN_STATE && v >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : fencedCompatible(stored.verdict, v, 2);
      return answer(() => code);
    }
    if (stored.accepted) {
      const results = await stored.results;
      stored.accepted.forEach((a, i) => codes.set(a.key, results[i]!));
    }
    return answer((t, p) => codes.get(`${t}\0${p}`) ?? ErrorCode.NONE);
  },
});
