/** The live dashboard: one static page that fetches /stats every second and redraws itself. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>StreamHouse demo: analytics</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7fb; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1rem; margin-top: 1.5rem; }
  .cards { display: flex; gap: 1rem; flex-wrap: wrap; }
  .card { background: #fff; border-radius: 8px; padding: 1rem 1.4rem; box-shadow: 0 1px 3px #0002; min-width: 10rem; }
  .card b { display: block; font-size: 1.6rem; }
  table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 3px #0002; }
  td, th { padding: .35rem .8rem; text-align: left; border-bottom: 1px solid #eee; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .grid { display: flex; gap: 2rem; flex-wrap: wrap; }
  #updated { color: #667; font-size: .85rem; }
</style>
</head>
<body>
<h1>Orders analytics <span id="instance"></span></h1>
<div class="cards">
  <div class="card">Revenue<b id="revenue">-</b></div>
  <div class="card">Orders<b id="orders">-</b></div>
  <div class="card">Average order<b id="aov">-</b></div>
  <div class="card">Records/s<b id="rate">-</b></div>
</div>
<div class="grid">
  <div><h2>Top customers by revenue</h2><table id="customers"></table></div>
  <div><h2>Top products by quantity</h2><table id="products"></table></div>
  <div><h2>Partitions owned</h2><table id="partitions"></table></div>
</div>
<p id="updated"></p>
<script>
const money = (n) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
const text = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const rows = (id, head, body) => {
  document.getElementById(id).innerHTML = '<tr>' + head.map((h) => '<th>' + h + '</th>').join('') + '</tr>' +
    body.map((r) => '<tr>' + r.map((c, i) => '<td' + (i > 0 ? ' class="n"' : '') + '>' + text(c) + '</td>').join('') + '</tr>').join('');
};
async function refresh() {
  try {
    const s = await (await fetch('stats')).json();
    document.getElementById('instance').textContent = '(' + s.instance + ')';
    document.getElementById('revenue').textContent = money(s.total_revenue);
    document.getElementById('orders').textContent = s.order_count.toLocaleString('en-US');
    document.getElementById('aov').textContent = money(s.average_order_value);
    document.getElementById('rate').textContent = s.records_per_second.toLocaleString('en-US');
    rows('customers', ['customer', 'revenue'], s.top_customers.map((c) => [c.customer_id, money(c.revenue)]));
    rows('products', ['product', 'quantity'], s.top_products.map((p) => [p.name, p.quantity.toLocaleString('en-US')]));
    rows('partitions', ['partition', 'orders', 'next offset'], s.partitions.map((p) => [p.partition, p.orders.toLocaleString('en-US'), p.next_offset]));
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    document.getElementById('updated').textContent = 'cannot reach the analytics service: ' + err;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
