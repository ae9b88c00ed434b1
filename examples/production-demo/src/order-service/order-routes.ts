import type { FastifyInstance } from 'fastify';
import type { OrderEvent } from '../shared/order-event.js';
import { parseOrderRequest } from './order-request.js';
import { priceOrder } from './price-order.js';
import type { OrderPublisher } from './order-publisher.js';

export const MAX_BATCH = 10_000;

interface OrderAnswer {
  readonly order_id: string;
  readonly status: 'accepted' | 'failed';
  readonly total_amount: number;
  readonly created_at: string;
  readonly error?: string;
}

function answer(order: OrderEvent, error: unknown): OrderAnswer {
  const base = { order_id: order.order_id, total_amount: order.total_cents / 100, created_at: order.created_at };
  return error === undefined ? { ...base, status: 'accepted' } : { ...base, status: 'failed', error: error instanceof Error ? error.message : String(error) };
}

/**
 * POST /orders (one order), POST /orders/batch ({"orders": [...]}, all valid or none
 * published), GET /health, GET /stats. An order is "accepted" once committed in `orders`.
 */
export function orderRoutes(app: FastifyInstance, publisher: OrderPublisher, startedAt: Date): void {
  const counters = { requests: 0, batches: 0, invalid: 0 };

  app.post('/orders', async (req, reply) => {
    counters.requests++;
    const parsed = parseOrderRequest(req.body);
    if ('error' in parsed) {
      counters.invalid++;
      return reply.code(400).send({ error: parsed.error });
    }
    const order = priceOrder(parsed);
    const [error] = await publisher.publish([order]);
    return reply.code(error === undefined ? 201 : 503).send(answer(order, error));
  });

  app.post('/orders/batch', async (req, reply) => {
    counters.requests++;
    counters.batches++;
    const list = (req.body as { orders?: unknown } | null)?.orders;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH) {
      counters.invalid++;
      return reply.code(400).send({ error: `the body must be {"orders": [...]} with 1 to ${MAX_BATCH} orders` });
    }
    const now = new Date();
    const orders: OrderEvent[] = [];
    for (const [i, body] of list.entries()) {
      const parsed = parseOrderRequest(body);
      if ('error' in parsed) {
        counters.invalid++;
        return reply.code(400).send({ error: `orders[${i}]: ${parsed.error}`, index: i });
      }
      orders.push(priceOrder(parsed, now));
    }
    const errors = await publisher.publish(orders);
    const failed = errors.filter((e) => e !== undefined).length;
    return reply.code(failed === orders.length ? 503 : 201).send({ accepted: orders.length - failed, failed, orders: orders.map((o, i) => answer(o, errors[i])) });
  });

  app.get('/health', async () => ({ status: 'ok', service: 'order-service' }));

  app.get('/stats', async () => {
    const uptime = (Date.now() - startedAt.getTime()) / 1000;
    return {
      service: 'order-service',
      uptime_seconds: Math.round(uptime),
      ...counters,
      ...publisher.stats,
      revenue_published: publisher.stats.revenue_published_cents / 100,
      orders_per_second: Math.round(publisher.stats.orders_published / Math.max(uptime, 1)),
    };
  });
}
