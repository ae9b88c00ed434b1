import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { fencedCompatible, getTransactionCoordinator } from './transaction-access.js';

/**
 * AddPartitionsToTxn v0-3 (the client's form; v4+ batches are sent by brokers for
 * verification, which this broker does itself at produce time). All partitions are added or
 * none: a partition that is unknown or not writable gets its error and every other one
 * OPERATION_NOT_ATTEMPTED, as in Kafka.
 */
export const addPartitionsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const { services } = ctx;
    const txnId = request.v3AndBelowTransactionalId;
    const topics = request.v3AndBelowTopics;
    const answer = (code: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) })),
    });
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txnId)) return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const problems = new Map<string, number>();
    for (const t of topics) {
      const allowed = authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, t.name);
      const topic = allowed ? await services.topics.get(t.name) : undefined;
      for (const p of t.partitions) {
        if (!allowed) problems.set(`${t.name}\0${p}`, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        else if (!topic || p < 0 || p >= topic.partitionCount) problems.set(`${t.name}\0${p}`, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      }
    }
    if (problems.size > 0) return answer((t, p) => problems.get(`${t}\0${p}`) ?? ErrorCode.OPERATION_NOT_ATTEMPTED);
    const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const code = await getTransactionCoordinator(services).addPartitions(txnId, request.v3AndBelowProducerId, request.v3AndBelowProducerEpoch, partitions);
    const compatible = fencedCompatible(code, ctx.apiVersion, 2);
    return answer(() => compatible);
  },
});
