// order-service: REST in, priced orders out to `orders` through the typed gRPC Producer.
import Fastify from 'fastify';
import { loadConfig } from '../shared/config.js';
import { ensureTopic, ORDERS_PARTITIONS, ORDERS_TOPIC } from '../shared/topics.js';
import { onShutdown } from '../shared/shutdown.js';
import { OrderPublisher } from './order-publisher.js';
import { orderRoutes } from './order-routes.js';

const config = loadConfig(3001);
await ensureTopic(config.grpcAddress, ORDERS_TOPIC, ORDERS_PARTITIONS);
const publisher = new OrderPublisher(config.grpcAddresses);
const app = Fastify({ bodyLimit: 32 * 1024 * 1024 });
orderRoutes(app, publisher, new Date());
await app.listen({ host: config.host, port: config.port });
console.log(`order-service on http://${config.host}:${config.port} -> ${config.grpcAddresses.join(',')}`);
onShutdown(async () => {
  await app.close();
  await publisher.close();
});
