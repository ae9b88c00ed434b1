import { decodeInventoryEvent } from '../shared/inventory-event.js';
import { Consumer } from '../shared/streamhouse-client.js';
import { INVENTORY_TOPIC } from '../shared/topics.js';
import type { StockLedger } from './stock-ledger.js';

/**
 * Replays all of `inventory-updates` into the ledger: every event carries the SKU's level after
 * it, and a SKU's events are in order on one partition, so the last one per SKU is its level.
 * Read through the gRPC door, outside any group.
 */
export async function rebuildStock(address: string, ledger: StockLedger): Promise<number> {
  const reader = new Consumer({ address, topics: [INVENTORY_TOPIC], offsetReset: 'earliest', maxPollRecords: 5000, maxRecordsPerFetch: 5000 });
  let events = 0;
  try {
    do {
      for (const r of await reader.poll(200)) {
        const e = decodeInventoryEvent(r.value);
        if (e === undefined) continue;
        ledger.replay(e);
        events++;
      }
    } while (!reader.caughtUp());
  } finally {
    await reader.close();
  }
  return events;
}
