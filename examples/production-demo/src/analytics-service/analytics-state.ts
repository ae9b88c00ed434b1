import { CATALOG } from '../shared/catalog.js';
import { PartitionLedger } from './partition-ledger.js';
import { topN } from './top-n.js';

export interface AnalyticsStats {
  readonly instance: string;
  /** Partitions this instance owns, each with its own figures: the true totals are the sum over instances. */
  readonly partitions: ReadonlyArray<{ partition: number; orders: number; revenue_cents: number; next_offset: string; duplicates: number }>;
  readonly order_count: number;
  readonly total_revenue_cents: number;
  readonly total_revenue: number;
  readonly average_order_value: number;
  /** A customer's orders all go to one partition, so these merge exactly across instances. */
  readonly top_customers: ReadonlyArray<{ customer_id: string; revenue: number; revenue_cents: number }>;
  readonly top_products: ReadonlyArray<{ sku: string; name: string; quantity: number }>;
  /** Every product's quantity (products span partitions: sum these across instances). */
  readonly product_quantities: Readonly<Record<string, number>>;
  readonly records_applied: number;
  readonly records_per_second: number;
}

/** Ledgers of the partitions this instance has read, and which of them it owns right now. */
export class AnalyticsState {
  readonly ledgers = new Map<number, PartitionLedger>();
  readonly owned = new Set<number>();
  recordsApplied = 0;
  private readonly rate = { at: Date.now(), applied: 0, perSecond: 0 };

  constructor(readonly instance: string) {}

  ledger(partition: number): PartitionLedger {
    let l = this.ledgers.get(partition);
    if (!l) {
      l = new PartitionLedger(partition);
      this.ledgers.set(partition, l);
    }
    return l;
  }

  stats(topCustomers = 10, topProducts = 10): AnalyticsStats {
    const owned = [...this.owned].sort((a, b) => a - b).map((p) => this.ledger(p));
    let orders = 0;
    let revenue = 0;
    const products = new Map<string, number>();
    for (const l of owned) {
      orders += l.orders;
      revenue += l.revenueCents;
      for (const [sku, q] of l.productQuantities) products.set(sku, (products.get(sku) ?? 0) + q);
    }
    const customers = topN(owned.flatMap((l) => topN(l.customerRevenueCents, topCustomers)), topCustomers);
    const names = new Map(CATALOG.map((p) => [p.sku, p.name]));
    return {
      instance: this.instance,
      partitions: owned.map((l) => ({ partition: l.partition, orders: l.orders, revenue_cents: l.revenueCents, next_offset: l.nextOffset.toString(), duplicates: l.duplicates })),
      order_count: orders,
      total_revenue_cents: revenue,
      total_revenue: revenue / 100,
      average_order_value: orders === 0 ? 0 : Math.round(revenue / orders) / 100,
      top_customers: customers.map(([customer_id, cents]) => ({ customer_id, revenue: cents / 100, revenue_cents: cents })),
      top_products: topN(products, topProducts).map(([sku, quantity]) => ({ sku, name: names.get(sku) ?? sku, quantity })),
      product_quantities: Object.fromEntries([...products].sort(([a], [b]) => a.localeCompare(b))),
      records_applied: this.recordsApplied,
      records_per_second: this.sampleRate(),
    };
  }

  private sampleRate(): number {
    const now = Date.now();
    if (now - this.rate.at >= 1000) {
      this.rate.perSecond = Math.round(((this.recordsApplied - this.rate.applied) * 1000) / (now - this.rate.at));
      this.rate.at = now;
      this.rate.applied = this.recordsApplied;
    }
    return this.rate.perSecond;
  }
}
