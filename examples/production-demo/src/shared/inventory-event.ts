/**
 * One record of `inventory-updates` (JSON, keyed by SKU): a reservation for an order line, a
 * line refused for lack of stock, or a stock level crossing the low-stock or zero mark.
 */
export type InventoryEventType = 'reserved' | 'rejected' | 'low_stock' | 'out_of_stock';

export interface InventoryEvent {
  readonly type: InventoryEventType;
  readonly sku: string;
  readonly order_id: string;
  /** The quantity the order line asked for. */
  readonly quantity: number;
  /** Stock left after this event. */
  readonly available: number;
  /** ISO 8601. */
  readonly at: string;
}

export function encodeInventoryEvent(e: InventoryEvent): Buffer {
  return Buffer.from(JSON.stringify(e));
}

export function decodeInventoryEvent(value: Buffer | null): InventoryEvent | undefined {
  if (value === null) return undefined;
  try {
    const e = JSON.parse(value.toString('utf8')) as Partial<Record<keyof InventoryEvent, unknown>>;
    if (typeof e.sku !== 'string' || typeof e.order_id !== 'string' || typeof e.type !== 'string' || !Number.isInteger(e.available) || !Number.isInteger(e.quantity)) return undefined;
    return e as InventoryEvent;
  } catch {
    return undefined;
  }
}
