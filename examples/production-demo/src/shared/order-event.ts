/** One priced order as the order service writes it to `orders` (JSON, keyed by customer id). */
export interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unit_price_cents: number;
}

export interface OrderEvent {
  readonly order_id: string;
  readonly customer_id: string;
  readonly items: readonly OrderLine[];
  readonly total_cents: number;
  /** ISO 8601. */
  readonly created_at: string;
}

export function encodeOrderEvent(order: OrderEvent): Buffer {
  return Buffer.from(JSON.stringify(order));
}

/** The order in a record's value, or undefined when it is not one (such records are counted and skipped). */
export function decodeOrderEvent(value: Buffer | null): OrderEvent | undefined {
  if (value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Partial<Record<keyof OrderEvent, unknown>>;
  if (typeof o.order_id !== 'string' || typeof o.customer_id !== 'string' || typeof o.total_cents !== 'number' || typeof o.created_at !== 'string') return undefined;
  if (!Array.isArray(o.items) || !o.items.every(isLine)) return undefined;
  return parsed as OrderEvent;
}

function isLine(l: unknown): l is OrderLine {
  if (typeof l !== 'object' || l === null) return false;
  const line = l as Partial<Record<keyof OrderLine, unknown>>;
  return typeof line.sku === 'string' && Number.isInteger(line.quantity) && Number.isInteger(line.unit_price_cents);
}
