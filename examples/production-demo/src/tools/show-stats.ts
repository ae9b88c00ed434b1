// Prints the analytics and inventory figures: npx tsx examples/production-demo/src/tools/show-stats.ts
const analytics = process.env.ANALYTICS_URL ?? 'http://127.0.0.1:3002';
const inventory = process.env.INVENTORY_URL ?? 'http://127.0.0.1:3003';
const orders = process.env.ORDER_SERVICE_URL ?? 'http://127.0.0.1:3001';

interface Stats {
  order_count: number;
  total_revenue: number;
  average_order_value: number;
  top_customers: Array<{ customer_id: string; revenue: number }>;
  top_products: Array<{ name: string; quantity: number }>;
  partitions: Array<{ partition: number }>;
}
interface Inventory {
  items: Array<{ sku: string; initial: number; available: number; status: string }>;
}

const get = async <T>(url: string): Promise<T> => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
};
const published = await get<{ orders_published: number; revenue_published: number }>(`${orders}/stats`);
const s = await get<Stats>(`${analytics}/stats`);
const inv = await get<Inventory>(`${inventory}/inventory`);
const usd = (n: number) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
console.log(`order-service: ${published.orders_published} orders published, ${usd(published.revenue_published)}`);
console.log(`analytics (partitions ${s.partitions.map((p) => p.partition).join(',')}): ${s.order_count} orders, revenue ${usd(s.total_revenue)}, average ${usd(s.average_order_value)}`);
console.log('top customers: ' + s.top_customers.slice(0, 5).map((c) => `${c.customer_id} ${usd(c.revenue)}`).join(', '));
console.log('top products:  ' + s.top_products.slice(0, 5).map((p) => `${p.name} x${p.quantity}`).join(', '));
console.log('inventory:');
for (const i of inv.items) console.log(`  ${i.sku.padEnd(14)} ${String(i.available).padStart(6)} / ${String(i.initial).padEnd(6)} ${i.status}`);
