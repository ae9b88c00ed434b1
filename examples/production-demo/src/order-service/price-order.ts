import { randomUUID } from 'node:crypto';
import { productBySku } from '../shared/catalog.js';
import type { OrderEvent, OrderLine } from '../shared/order-event.js';
import type { OrderRequest } from './order-request.js';

/**
 * Prices a valid request from the catalog and gives it an id. Lines of the same SKU are merged,
 * so an order names each SKU once (the inventory service reserves per order and SKU).
 */
export function priceOrder(request: OrderRequest, now = new Date()): OrderEvent {
  const quantities = new Map<string, number>();
  for (const { sku, quantity } of request.items) quantities.set(sku, (quantities.get(sku) ?? 0) + quantity);
  const items: OrderLine[] = [];
  let total = 0;
  for (const [sku, quantity] of quantities) {
    const unit = productBySku(sku)!.priceCents;
    items.push({ sku, quantity, unit_price_cents: unit });
    total += unit * quantity;
  }
  return { order_id: randomUUID(), customer_id: request.customer_id, items, total_cents: total, created_at: now.toISOString() };
}
