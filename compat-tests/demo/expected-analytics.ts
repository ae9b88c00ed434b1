// What the analytics service must show, computed by the test from the orders it sent and the
// order service's answers (not from anything the services compute).

import { CATALOG } from '../../examples/production-demo/src/shared/catalog.js';
import type { GeneratedOrder } from '../../examples/production-demo/src/tools/order-generator.js';
import { cents, type OrderAnswer } from './demo-services.js';

export interface SentOrder {
  readonly request: GeneratedOrder;
  readonly answer: OrderAnswer;
}

export interface ExpectedAnalytics {
  readonly order_count: number;
  readonly total_revenue_cents: number;
  readonly average_order_value: number;
  readonly top_customers: Array<{ customer_id: string; revenue_cents: number }>;
  readonly top_products: Array<{ sku: string; quantity: number }>;
  readonly product_quantities: Record<string, number>;
}

/** The n largest by value, ties by key ascending (what a dashboard ranking should be). */
function ranked(values: Map<string, number>, n: number): Array<[string, number]> {
  return [...values].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

/** The catalog price of a request, in cents (what the order service should have charged). */
export function listPriceCents(request: GeneratedOrder): number {
  const prices = new Map(CATALOG.map((p) => [p.sku, p.priceCents]));
  return request.items.reduce((sum, l) => sum + prices.get(l.sku)! * l.quantity, 0);
}

export function expectedAnalytics(orders: readonly SentOrder[], top = 10): ExpectedAnalytics {
  const accepted = orders.filter((o) => o.answer.status === 'accepted');
  const customers = new Map<string, number>();
  const products = new Map<string, number>();
  let revenue = 0;
  for (const { request, answer } of accepted) {
    const c = cents(answer.total_amount);
    revenue += c;
    customers.set(request.customer_id, (customers.get(request.customer_id) ?? 0) + c);
    for (const l of request.items) products.set(l.sku, (products.get(l.sku) ?? 0) + l.quantity);
  }
  return {
    order_count: accepted.length,
    total_revenue_cents: revenue,
    average_order_value: accepted.length === 0 ? 0 : Math.round(revenue / accepted.length) / 100,
    top_customers: ranked(customers, top).map(([customer_id, revenue_cents]) => ({ customer_id, revenue_cents })),
    top_products: ranked(products, top).map(([sku, quantity]) => ({ sku, quantity })),
    product_quantities: Object.fromEntries([...products].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/** The fields of an analytics /stats body that expectedAnalytics predicts. */
export function analyticsFigures(s: {
  order_count: number;
  total_revenue_cents: number;
  average_order_value: number;
  top_customers: ReadonlyArray<{ customer_id: string; revenue_cents: number }>;
  top_products: ReadonlyArray<{ sku: string; quantity: number }>;
  product_quantities: Readonly<Record<string, number>>;
}): ExpectedAnalytics {
  return {
    order_count: s.order_count,
    total_revenue_cents: s.total_revenue_cents,
    average_order_value: s.average_order_value,
    top_customers: s.top_customers.map((c) => ({ customer_id: c.customer_id, revenue_cents: c.revenue_cents })),
    top_products: s.top_products.map((p) => ({ sku: p.sku, quantity: p.quantity })),
    product_quantities: { ...s.product_quantities },
  };
}

/**
 * The figures of several analytics instances that split the partitions between them, merged:
 * counts and sums add up; a customer's orders all sit in one partition, so the overall top
 * customers are among the instances' own top lists.
 */
export function mergedFigures(parts: readonly ExpectedAnalytics[], top = 10): ExpectedAnalytics {
  const customers = new Map<string, number>();
  const products = new Map<string, number>();
  let orders = 0;
  let revenue = 0;
  for (const p of parts) {
    orders += p.order_count;
    revenue += p.total_revenue_cents;
    for (const c of p.top_customers) customers.set(c.customer_id, (customers.get(c.customer_id) ?? 0) + c.revenue_cents);
    for (const [sku, q] of Object.entries(p.product_quantities)) products.set(sku, (products.get(sku) ?? 0) + q);
  }
  return {
    order_count: orders,
    total_revenue_cents: revenue,
    average_order_value: orders === 0 ? 0 : Math.round(revenue / orders) / 100,
    top_customers: ranked(customers, top).map(([customer_id, revenue_cents]) => ({ customer_id, revenue_cents })),
    top_products: ranked(products, top).map(([sku, quantity]) => ({ sku, quantity })),
    product_quantities: Object.fromEntries([...products].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}
