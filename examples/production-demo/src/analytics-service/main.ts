// analytics-service: consumes `orders` in group analytics-pipeline with the typed gRPC Consumer.
import { hostname } from 'node:os';
import Fastify from 'fastify';
import { loadConfig } from '../shared/config.js';
import { onShutdown } from '../shared/shutdown.js';
import { ensureTopic, ORDERS_PARTITIONS, ORDERS_TOPIC } from '../shared/topics.js';
import { AnalyticsPipeline } from './analytics-pipeline.js';
import { analyticsRoutes } from './analytics-routes.js';
import { AnalyticsState } from './analytics-state.js';

function positiveInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer (ms), got "${text}"`);
  return n;
}

const config = loadConfig(3002);
const instance = process.env.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
const sessionTimeoutMs = positiveInt('SESSION_TIMEOUT_MS', 10_000);
const heartbeatIntervalMs = process.env.HEARTBEAT_INTERVAL_MS ? positiveInt('HEARTBEAT_INTERVAL_MS', 0) : undefined;
await ensureTopic(config.grpcAddress, ORDERS_TOPIC, ORDERS_PARTITIONS);
const state = new AnalyticsState(instance);
const pipeline = new AnalyticsPipeline(state, { address: config.grpcAddress, sessionTimeoutMs, heartbeatIntervalMs, log: (line) => console.log(`[${instance}] ${line}`) });
const app = Fastify();
analyticsRoutes(app, state);
await app.listen({ host: config.host, port: config.port });
console.log(`analytics-service ${instance} on http://${config.host}:${config.port} (dashboard at /) <- ${config.grpcAddress}`);
pipeline.start();
onShutdown(async () => {
  await app.close();
  await pipeline.stop();
});
