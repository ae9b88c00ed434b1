/** What the shop sells: prices in cents (integers keep every sum exact) and the stock it starts with. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly priceCents: number;
  readonly initialStock: number;
}

export const CATALOG: readonly Product[] = [
  { sku: 'SKU-KEYBOARD', name: 'Mechanical keyboard', priceCents: 8999, initialStock: 5000 },
  { sku: 'SKU-MOUSE', name: 'Wireless mouse', priceCents: 2499, initialStock: 8000 },
  { sku: 'SKU-MONITOR', name: '27" monitor', priceCents: 24900, initialStock: 1500 },
  { sku: 'SKU-HEADSET', name: 'Headset', priceCents: 5950, initialStock: 3000 },
  { sku: 'SKU-WEBCAM', name: 'Webcam', priceCents: 4599, initialStock: 2500 },
  { sku: 'SKU-DOCK', name: 'USB-C dock', priceCents: 13900, initialStock: 1200 },
  { sku: 'SKU-CABLE', name: 'HDMI cable', priceCents: 799, initialStock: 20000 },
  { sku: 'SKU-CHAIR', name: 'Office chair', priceCents: 31900, initialStock: 600 },
  { sku: 'SKU-DESK', name: 'Standing desk', priceCents: 45900, initialStock: 400 },
  { sku: 'SKU-LAMP', name: 'Desk lamp', priceCents: 3450, initialStock: 4000 },
  { sku: 'SKU-MIC', name: 'USB microphone', priceCents: 11900, initialStock: 1000 },
  { sku: 'SKU-PAD', name: 'Mouse pad', priceCents: 1299, initialStock: 10000 },
];

const BY_SKU = new Map(CATALOG.map((p) => [p.sku, p]));

export function productBySku(sku: string): Product | undefined {
  return BY_SKU.get(sku);
}

/** A stock level at or below this share of the initial stock is "low" (an event when crossed). */
export const LOW_STOCK_FRACTION = 0.1;

/**
 * DEMO_INITIAL_STOCK overrides the initial stock: a number for every product (benchmarks use a
 * large one), or a JSON object of SKU to number for some of them (tests use it to make chosen
 * SKUs run low or out). A malformed value or an unknown SKU is an error, not silently ignored.
 */
export function initialStock(product: Product, env: NodeJS.ProcessEnv = process.env): number {
  const override = env.DEMO_INITIAL_STOCK;
  if (override === undefined || override === '') return product.initialStock;
  const fail = (): never => {
    throw new Error(`DEMO_INITIAL_STOCK must be an integer >= 0 or a JSON object of SKU to such integers, got "${override}"`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(override);
  } catch {
    return fail();
  }
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (valid(parsed)) return parsed;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail();
  const bySku = parsed as Record<string, unknown>;
  for (const [sku, n] of Object.entries(bySku)) if (productBySku(sku) === undefined || !valid(n)) return fail();
  return (bySku[product.sku] as number | undefined) ?? product.initialStock;
}
