import { CATALOG, initialStock, LOW_STOCK_FRACTION, productBySku } from '../shared/catalog.js';
import type { InventoryEvent } from '../shared/inventory-event.js';
import type { OrderEvent } from '../shared/order-event.js';

export interface StockPlan {
  readonly events: InventoryEvent[];
  readonly levels: Map<string, number>;
  readonly applied: string[];
}

/**
 * Stock per SKU. A reservation is planned first and committed once its events are in
 * `inventory-updates`, so a failed produce changes nothing; (order id, SKU) is applied once.
 * A line asking for more than is left is rejected whole and leaves the level unchanged.
 */
export class StockLedger {
  readonly initial = new Map<string, number>();
  readonly levels = new Map<string, number>();
  private readonly applied = new Set<string>();

  constructor(env: NodeJS.ProcessEnv = process.env) {
    for (const p of CATALOG) {
      this.initial.set(p.sku, initialStock(p, env));
      this.levels.set(p.sku, initialStock(p, env));
    }
  }

  lowStockThreshold(sku: string): number {
    return Math.floor((this.initial.get(sku) ?? 0) * LOW_STOCK_FRACTION);
  }

  /** The events of these orders' lines not applied yet, and the levels after them. */
  plan(orders: readonly OrderEvent[], at = new Date().toISOString()): StockPlan {
    const levels = new Map<string, number>();
    const applied: string[] = [];
    const planned = new Set<string>();
    const events: InventoryEvent[] = [];
    for (const order of orders) {
      for (const { sku, quantity } of order.items) {
        const key = `${order.order_id}\u0000${sku}`;
        if (this.applied.has(key) || planned.has(key) || productBySku(sku) === undefined) continue;
        planned.add(key);
        applied.push(key);
        const before = levels.get(sku) ?? this.levels.get(sku)!;
        const base = { sku, order_id: order.order_id, quantity, at };
        if (quantity > before) {
          events.push({ ...base, type: 'rejected', available: before });
          continue;
        }
        const after = before - quantity;
        levels.set(sku, after);
        events.push({ ...base, type: 'reserved', available: after });
        const low = this.lowStockThreshold(sku);
        if (after === 0) events.push({ ...base, type: 'out_of_stock', available: 0 });
        else if (before > low && after <= low) events.push({ ...base, type: 'low_stock', available: after });
      }
    }
    return { events, levels, applied };
  }

  commit(plan: StockPlan): void {
    for (const [sku, level] of plan.levels) this.levels.set(sku, level);
    for (const key of plan.applied) this.applied.add(key);
  }

  /** Replays one event read back from `inventory-updates` (rebuilding the ledger on start). */
  replay(event: InventoryEvent): void {
    if (!this.levels.has(event.sku)) return;
    this.levels.set(event.sku, event.available);
    if (event.type === 'reserved' || event.type === 'rejected') this.applied.add(`${event.order_id}\u0000${event.sku}`);
  }
}
