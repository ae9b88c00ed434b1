// Posts N random orders to the order service: npx tsx examples/production-demo/src/tools/send-orders.ts [N]
import { generateOrders } from './order-generator.js';
import { sendOrders } from './order-sender.js';

const count = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(count) || count < 1) throw new Error(`the order count must be a positive integer, got "${process.argv[2]}"`);
const url = process.env.ORDER_SERVICE_URL ?? 'http://127.0.0.1:3001';
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const result = await sendOrders(url, generateOrders(count, { seed }), Number(process.env.BATCH ?? 500), Number(process.env.CONCURRENCY ?? 4));
console.log(`${result.accepted} orders accepted (${result.failed} failed) in ${result.seconds.toFixed(2)} s: ${Math.round(result.accepted / result.seconds)} orders/s, $${(result.totalCents / 100).toFixed(2)}`);
