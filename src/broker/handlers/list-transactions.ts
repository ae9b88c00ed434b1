import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { TransactionStateName } from '../../metadata/metadata-store.js';
import { defineHandler } from '../handler.js';
import { AclOperation, permits, ResourceType } from '../authorization.js';
import { getTransactionCoordinator } from './transaction-access.js';

/** Kafka's transaction state names (ListTransactions filters on them). */
const STATE_NAMES: ReadonlySet<string> = new Set<TransactionStateName | 'Dead' | 'PrepareEpochFence'>(['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence']);

/**
 * ListTransactions v0-1: the transactional ids this agent coordinates, filtered by state,
 * producer id and (v1) how long the open transaction has run; ids the client may not
 * DESCRIBE are left out, as in Kafka.
 */
export const listTransactionsHandler = defineHandler({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const coordinator = getTransactionCoordinator(ctx.services);
    const unknownStateFilters = request.stateFilters.filter((s) => !STATE_NAMES.has(s));
    const states = new Set(request.stateFilters);
    const producerIds = new Set(request.producerIdFilters);
    const minDurationMs = ctx.apiVersion >= 1 ? Number(request.durationFilter) : -1;
    let records;
    try {
      records = await coordinator.list();
    } catch (err) {
      ctx.services.logger.error({ err }, 'listing transactions failed');
      return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters, transactionStates: [] };
    }
    const now = Date.now();
    const transactionStates = records
      .filter((r) => coordinator.isLocal(r.transactionalId))
      .filter((r) => states.size === 0 || states.has(r.state))
      .filter((r) => producerIds.size === 0 || producerIds.has(r.producerId))
      .filter((r) => minDurationMs < 0 || (r.startedAtMs >= 0 && now - r.startedAtMs > minDurationMs))
      .filter((r) => permits(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, r.transactionalId))
      .map((r) => ({ transactionalId: r.transactionalId, producerId: r.producerId, transactionState: r.state }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  },
});
