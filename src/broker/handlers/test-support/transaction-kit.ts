import pino from 'pino';
import type { MarkerRequest } from '../../../agent/log-service.js';
import { TransactionCoordinator, type TransactionCoordinatorOptions } from '../../../agent/transactions/transaction-coordinator.js';
import type { HandlerKit } from './handler-kit.js';

export interface TransactionKit<K extends HandlerKit = HandlerKit> {
  readonly kit: K;
  readonly transactions: TransactionCoordinator;
  /** Every marker the coordinator wrote, in order. */
  readonly markers: MarkerRequest[];
  /** Whether the coordinator holds every transactional id (flip it to see NOT_COORDINATOR). */
  local: boolean;
}

/**
 * `kit` with a real TransactionCoordinator over the kit's store installed as
 * services.transactions; markers are recorded instead of written to a log. The periodic
 * task is not started (call `transactions.sweepNow()`).
 */
export function withTransactions<K extends HandlerKit>(kit: K, options: Partial<TransactionCoordinatorOptions> = {}): TransactionKit<K> {
  const markers: MarkerRequest[] = [];
  const tk = {
    markers,
    local: true,
  } as { markers: MarkerRequest[]; local: boolean; kit: K; transactions: TransactionCoordinator };
  tk.transactions = new TransactionCoordinator({
    store: kit.store.transactions,
    groupOffsets: kit.store.groupOffsets,
    producers: kit.store.producers,
    isLocal: () => tk.local,
    writeMarker: async (m) => {
      markers.push(m);
    },
    logger: pino({ level: 'silent' }),
    maxTimeoutMs: 900_000,
    abortIntervalMs: 10_000,
    ...options,
  });
  tk.kit = { ...kit, services: { ...kit.services, transactions: tk.transactions } };
  return tk;
}
