import { productBySku } from '../shared/catalog.js';

/** What a client posts: who orders, and which products in which quantities. */
export interface OrderRequest {
  readonly customer_id: string;
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>;
}

export const MAX_ITEMS = 50;
export const MAX_QUANTITY = 1000;
const CUSTOMER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** The request, or the reason it is not a valid order. */
export function parseOrderRequest(body: unknown): OrderRequest | { readonly error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'the body must be a JSON object' };
  const { customer_id: customer, items } = body as Record<string, unknown>;
  if (typeof customer !== 'string' || !CUSTOMER_ID.test(customer)) return { error: 'customer_id must be 1-64 characters of A-Z a-z 0-9 _ . -' };
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS) return { error: `items must be an array of 1 to ${MAX_ITEMS} lines` };
  const lines: Array<{ sku: string; quantity: number }> = [];
  for (const [i, item] of items.entries()) {
    if (typeof item !== 'object' || item === null) return { error: `items[${i}] must be an object` };
    const { sku, quantity } = item as Record<string, unknown>;
    if (typeof sku !== 'string' || productBySku(sku) === undefined) return { error: `items[${i}].sku is not a product: ${JSON.stringify(sku)}` };
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) return { error: `items[${i}].quantity must be an integer from 1 to ${MAX_QUANTITY}` };
    lines.push({ sku, quantity });
  }
  return { customer_id: customer, items: lines };
}
