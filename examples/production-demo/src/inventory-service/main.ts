// inventory-service: kafkajs in (orders), the typed gRPC Producer out (inventory-updates, keyed by SKU).
import Fastify from 'fastify';
import { loadConfig } from '../shared/config.js';
import { onShutdown } from '../shared/shutdown.js';
import { ensureTopic, INVENTORY_PARTITIONS, INVENTORY_TOPIC, ORDERS_PARTITIONS, ORDERS_TOPIC } from '../shared/topics.js';
import { InventoryWorker } from './inventory-worker.js';
import { inventoryRoutes } from './inventory-routes.js';
import { rebuildStock } from './stock-rebuild.js';
import { StockLedger } from './stock-ledger.js';

const config = loadConfig(3003);
await ensureTopic(config.grpcAddress, ORDERS_TOPIC, ORDERS_PARTITIONS);
await ensureTopic(config.grpcAddress, INVENTORY_TOPIC, INVENTORY_PARTITIONS);
const ledger = new StockLedger();
const rebuilt = await rebuildStock(config.grpcAddress, ledger);
const worker = new InventoryWorker(config.kafkaBrokers, config.grpcAddresses, ledger);
const app = Fastify();
inventoryRoutes(app, ledger, worker, new Date(), rebuilt);
await worker.start();
await app.listen({ host: config.host, port: config.port });
console.log(`inventory-service on http://${config.host}:${config.port} <- ${config.kafkaBrokers.join(',')} -> ${config.grpcAddresses.join(',')} (rebuilt from ${rebuilt} events)`);
onShutdown(async () => {
  await app.close();
  await worker.stop();
});
