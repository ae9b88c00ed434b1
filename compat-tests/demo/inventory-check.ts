// The exact inventory-updates a run must produce for one SKU, given the order in which the
// inventory service met that SKU's order lines (the order of its events in the SKU's one
// partition): every line reserved while it fits, rejected otherwise; a low-stock event when a
// reservation takes the level from above the threshold to at or below it (but not to zero),
// an out-of-stock event when it takes it to zero.

import { LOW_STOCK_FRACTION } from '../../examples/production-demo/src/shared/catalog.js';
import type { InventoryEvent } from '../../examples/production-demo/src/shared/inventory-event.js';

export type EventShape = Pick<InventoryEvent, 'type' | 'sku' | 'order_id' | 'quantity' | 'available'>;

export function shape(e: InventoryEvent): EventShape {
  return { type: e.type, sku: e.sku, order_id: e.order_id, quantity: e.quantity, available: e.available };
}

export function lowStockThreshold(initial: number): number {
  return Math.floor(initial * LOW_STOCK_FRACTION);
}

/** The events the lines (in this order) must give, and the level after them. */
export function expectedEvents(sku: string, initial: number, lines: ReadonlyArray<{ order_id: string; quantity: number }>): { events: EventShape[]; level: number } {
  const low = lowStockThreshold(initial);
  const events: EventShape[] = [];
  let level = initial;
  for (const { order_id, quantity } of lines) {
    if (quantity > level) {
      events.push({ type: 'rejected', sku, order_id, quantity, available: level });
      continue;
    }
    const before = level;
    level -= quantity;
    events.push({ type: 'reserved', sku, order_id, quantity, available: level });
    if (level === 0) events.push({ type: 'out_of_stock', sku, order_id, quantity, available: 0 });
    else if (before > low && level <= low) events.push({ type: 'low_stock', sku, order_id, quantity, available: level });
  }
  return { events, level };
}
