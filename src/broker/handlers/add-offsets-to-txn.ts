import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { fencedCompatible, getTransactionCoordinator } from './transaction-access.js';

/** AddOffsetsToTxn v0-4: the group's TxnOffsetCommit offsets will commit or abort with the transaction. */
export const addOffsetsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return answer(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const code = await getTransactionCoordinator(ctx.services).addOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId);
    return answer(fencedCompatible(code, ctx.apiVersion, 2));
  },
});
