import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { fencedCompatible, getTransactionCoordinator } from './transaction-access.js';

/**
 * EndTxn v0-4: commits or aborts the open transaction. Answered once the markers are in
 * every partition and the offsets applied (Kafka answers after PrepareCommit and writes the
 * markers afterwards; waiting costs one flush and spares clients CONCURRENT_TRANSACTIONS on
 * their next transaction). v5 (KIP-890's epoch bump per transaction) is not offered.
 */
export const endTxnHandler = defineHandler({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const code = await getTransactionCoordinator(ctx.services).endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
    return answer(fencedCompatible(code, ctx.apiVersion, 2));
  },
});
