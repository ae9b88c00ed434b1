import type { FastifyInstance } from 'fastify';
import { CATALOG } from '../shared/catalog.js';
import type { InventoryWorker } from './inventory-worker.js';
import type { StockLedger } from './stock-ledger.js';

/** GET /inventory (stock per SKU), GET /stats, GET /health. */
export function inventoryRoutes(app: FastifyInstance, ledger: StockLedger, worker: InventoryWorker, startedAt: Date, rebuiltEvents: number): void {
  app.get('/inventory', async () => ({
    items: CATALOG.map((p) => {
      const initial = ledger.initial.get(p.sku)!;
      const available = ledger.levels.get(p.sku)!;
      const low = ledger.lowStockThreshold(p.sku);
      return { sku: p.sku, name: p.name, initial, available, reserved: initial - available, low_stock_threshold: low, status: available === 0 ? 'out_of_stock' : available <= low ? 'low_stock' : 'in_stock' };
    }),
  }));
  app.get('/stats', async () => {
    const uptime = (Date.now() - startedAt.getTime()) / 1000;
    return { service: 'inventory-service', uptime_seconds: Math.round(uptime), rebuilt_from_events: rebuiltEvents, ...worker.stats };
  });
  app.get('/health', async () => ({ status: 'ok', service: 'inventory-service' }));
}
