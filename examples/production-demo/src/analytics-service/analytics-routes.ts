import type { FastifyInstance } from 'fastify';
import type { AnalyticsState } from './analytics-state.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

/** GET / (the dashboard), GET /stats (JSON), GET /health. */
export function analyticsRoutes(app: FastifyInstance, state: AnalyticsState): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
  app.get('/dashboard', async (_req, reply) => reply.redirect('/'));
  app.get('/stats', async () => state.stats());
  app.get('/health', async () => ({ status: 'ok', service: 'analytics-service', instance: state.instance, partitions: [...state.owned].sort((a, b) => a - b) }));
}
