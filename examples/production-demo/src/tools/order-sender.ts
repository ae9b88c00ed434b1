import type { GeneratedOrder } from './order-generator.js';

export interface SendResult {
  readonly accepted: number;
  readonly failed: number;
  readonly seconds: number;
  /** Cents, from the service's answers. */
  readonly totalCents: number;
}

/** Posts the orders to POST /orders/batch, `batchSize` a request, `concurrency` requests at a time. */
export async function sendOrders(baseUrl: string, orders: readonly GeneratedOrder[], batchSize = 500, concurrency = 4): Promise<SendResult> {
  const started = performance.now();
  let next = 0;
  let accepted = 0;
  let failed = 0;
  let totalCents = 0;
  const worker = async (): Promise<void> => {
    while (next < orders.length) {
      const batch = orders.slice(next, next + batchSize);
      next += batch.length;
      const res = await fetch(`${baseUrl}/orders/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ orders: batch }) });
      const body = (await res.json()) as { accepted?: number; failed?: number; orders?: Array<{ status: string; total_amount: number }>; error?: string };
      if (!res.ok && body.orders === undefined) throw new Error(`POST /orders/batch: ${res.status} ${body.error ?? ''}`);
      accepted += body.accepted ?? 0;
      failed += body.failed ?? 0;
      for (const o of body.orders ?? []) if (o.status === 'accepted') totalCents += Math.round(o.total_amount * 100);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { accepted, failed, seconds: (performance.now() - started) / 1000, totalCents };
}
