import { CATALOG } from '../shared/catalog.js';

export interface GeneratedOrder {
  readonly customer_id: string;
  readonly items: ReadonlyArray<{ readonly sku: string; readonly quantity: number }>;
}

/** A small seeded PRNG (mulberry32), so a run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random orders: customers customer-00001.. (a few buy much more often than the rest), one to
 * three distinct products each, one to `maxQuantity` of each.
 */
export function generateOrders(count: number, options: { seed?: number; customers?: number; maxQuantity?: number } = {}): GeneratedOrder[] {
  const random = seededRandom(options.seed ?? 17);
  const customers = options.customers ?? 500;
  const maxQuantity = options.maxQuantity ?? 3;
  const out: GeneratedOrder[] = [];
  for (let i = 0; i < count; i++) {
    const c = Math.floor(customers * random() ** 2);
    const lines = 1 + Math.floor(random() * 3);
    const skus = new Set<string>();
    while (skus.size < lines) skus.add(CATALOG[Math.floor(random() * CATALOG.length)]!.sku);
    out.push({ customer_id: `customer-${String(c + 1).padStart(5, '0')}`, items: [...skus].map((sku) => ({ sku, quantity: 1 + Math.floor(random() * maxQuantity) })) });
  }
  return out;
}
