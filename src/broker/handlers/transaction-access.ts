import type { AgentCore } from '../../agent/agent-core.js';
import type { TransactionCoordinator } from '../../agent/transactions/transaction-coordinator.js';
import { ErrorCode } from '../../protocol/error-codes.js';

/**
 * The agent's transaction coordinator. A core without one cannot serve transactional APIs:
 * the error closes the connection instead of answering with made-up state.
 */
export function getTransactionCoordinator(services: AgentCore): TransactionCoordinator {
  if (!services.transactions) throw new Error('this agent core has no transaction coordinator');
  return services.transactions;
}

/**
 * PRODUCER_FENCED (KIP-588) as a request version knows it: versions before `since` only
 * know INVALID_PRODUCER_EPOCH, which their clients treat as fenced too.
 */
export function fencedCompatible(errorCode: number, apiVersion: number, since: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < since ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
