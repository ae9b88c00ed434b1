import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getTransactionCoordinator } from './transaction-access.js';

/** DescribeTransactions v0: the coordinator's record of each transactional id it coordinates. */
export const describeTransactionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const coordinator = getTransactionCoordinator(ctx.services);
    const transactionStates = await Promise.all(
      request.transactionalIds.map(async (transactionalId) => {
        const empty = { transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] };
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId)) return { ...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
        if (!coordinator.isLocal(transactionalId)) return { ...empty, errorCode: ErrorCode.NOT_COORDINATOR };
        let record;
        try {
          record = await coordinator.get(transactionalId);
        } catch (err) {
          ctx.services.logger.error({ err, transactionalId }, 'reading a transaction failed');
          return { ...empty, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
        }
        if (!record) return { ...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
        const byTopic = new Map<string, number[]>();
        for (const p of record.partitions) {
          const list = byTopic.get(p.topic) ?? [];
          list.push(p.partition);
          byTopic.set(p.topic, list);
        }
        return {
          errorCode: ErrorCode.NONE,
          transactionalId,
          transactionState: record.state,
          transactionTimeoutMs: record.timeoutMs,
          transactionStartTimeMs: BigInt(record.startedAtMs),
          producerId: record.producerId,
          producerEpoch: record.producerEpoch,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        };
      }),
    );
    return { throttleTimeMs: 0, transactionStates };
  },
});
