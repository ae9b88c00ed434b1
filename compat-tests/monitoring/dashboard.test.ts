// The Grafana dashboard deploy/grafana/dashboards/streamhouse.json, offline: provisioned data
// source (no ${DS_...} import placeholders), every variable a query uses is defined, every
// query parses (promtool check rules on the queries with the variables filled in) and reads
// only metrics docs/operations.md documents, panels do not overlap, and the panels issue #16
// asks for are there. prometheus-live.test.ts runs every query against a real cluster.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_FILE,
  DATASOURCES_FILE,
  allPanels,
  dashboardQueries,
  documentedAgentMetrics,
  isDocumented,
  metricNames,
  readDashboard,
  readYaml,
} from './monitoring-files.js';

const dashboard = readDashboard();
const panels = allPanels(dashboard).filter((p) => p.type !== 'row');
const queries = dashboardQueries(dashboard);

describe('Grafana dashboard (deploy/grafana/dashboards/streamhouse.json)', () => {
  it('uses the provisioned Prometheus data source by uid, never an import placeholder', () => {
    const text = readFileSync(DASHBOARD_FILE, 'utf8');
    expect(text).not.toMatch(/\$\{?DS_/);
    expect(text).not.toContain('__inputs');
    const ds = readYaml<{ datasources: Array<{ uid: string; type: string }> }>(DATASOURCES_FILE).datasources;
    const uid = ds.find((d) => d.type === 'prometheus')!.uid;
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid });
      for (const t of p.targets ?? []) expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid });
    }
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid });
  });

  it('is a Grafana 11 dashboard with a fixed uid, unique panel ids and no overlapping panels', () => {
    expect(dashboard.uid).toBe('streamhouse-overview');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const all = allPanels(dashboard);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    const cells = new Map<string, string>();
    for (const p of all) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`);
          expect(other, `"${p.title}" overlaps "${other}"`).toBeUndefined();
          cells.set(`${i},${j}`, p.title);
        }
      }
    }
  });

  it('every panel has a query, every query parses as PromQL', () => {
    for (const p of panels) expect(p.targets?.length ?? 0, p.title).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThan(40);
    // promtool has no "check expression": each query becomes a recording rule
    const dir = mkdtempSync(join(tmpdir(), 'streamhouse-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr }));
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(check.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
      expect({ status: check.status, output: check.stdout + check.stderr }).toMatchObject({ status: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads only metrics the agents export (docs/operations.md "Metrics")', () => {
    const doc = documentedAgentMetrics();
    const unknown = queries.flatMap((q) => [...metricNames(q.expr)].filter((n) => n !== 'up' && !isDocumented(n, doc)).map((n) => `${q.panel} ${q.refId}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('has agent, topic and group variables, and the object store prices as variables', () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    for (const name of ['instance', 'topic', 'group']) expect(vars.get(name), name).toMatchObject({ type: 'query', includeAll: true, allValue: '.*' });
    for (const name of ['storage_price_per_gib_month', 'put_price_per_1000', 'get_price_per_1000']) {
      expect(vars.get(name)?.type, name).toBe('textbox');
      expect(Number(vars.get(name)?.current?.value), name).toBeGreaterThan(0);
    }
    const exprOf = (title: string) => panels.find((p) => p.title === title)!.targets!.map((t) => t.expr).join('\n');
    expect(exprOf('Storage cost ($/month)')).toContain('$storage_price_per_gib_month');
    // the stored-bytes gauge, not an estimate from bytes written
    expect(exprOf('Storage cost ($/month)')).toContain('streamhouse_stored_object_bytes');
    expect(queries.filter((q) => q.raw.includes('streamhouse_object_bytes_written_total') && q.raw.includes('$storage_price_per_gib_month'))).toEqual([]);
    expect(exprOf('Request cost ($/month)')).toMatch(/operation=~"put\|list".*\$put_price_per_1000[\s\S]*operation="get".*\$get_price_per_1000/);
  });

  it('shows what issue #16 lists', () => {
    const uses = (metric: string, extra?: RegExp) => queries.some((q) => q.raw.includes(metric) && (extra === undefined || extra.test(q.raw)));
    const wanted: Array<[string, boolean]> = [
      ['throughput in', uses('streamhouse_topic_bytes_in_total')],
      ['throughput out', uses('streamhouse_topic_bytes_out_total')],
      ['produce latency p50/p95/p99', ['0.5', '0.95', '0.99'].every((p) => uses('streamhouse_kafka_request_duration_seconds_bucket', new RegExp(`histogram_quantile\\(${p.replace('.', '\\.')}, .*api="Produce"`)))],
      ['fetch latency p50/p95/p99', ['0.5', '0.95', '0.99'].every((p) => uses('streamhouse_kafka_request_duration_seconds_bucket', new RegExp(`histogram_quantile\\(${p.replace('.', '\\.')}, .*api="Fetch"`)))],
      ['consumer lag', uses('streamhouse_consumer_group_lag_records') && uses('streamhouse_consumer_group_lag_seconds')],
      ['agents', uses('up{job="streamhouse"')],
      ['their partitions', uses('streamhouse_active_partitions')],
      ['errors', uses('streamhouse_kafka_response_errors_total') && uses('streamhouse_flush_failures_total') && uses('streamhouse_object_store_errors_total')],
      ['batch sizes', uses('streamhouse_kafka_requests_total{api="Produce"')],
      ['flush sizes', uses('streamhouse_flush_size_bytes_bucket')],
      ['cache hit rate', uses('streamhouse_cache_hits_total', /streamhouse_cache_misses_total/)],
      ['object store requests', uses('streamhouse_object_store_requests_total')],
      ['object store cost', uses('$storage_price_per_gib_month')],
      ['stored bytes', uses('streamhouse_stored_object_bytes')],
      ['agents ready', uses('streamhouse_agent_ready')],
      ['partitions without a leader', uses('streamhouse_leaderless_partitions') && uses('streamhouse_leaderless_coordinator_shards')],
      ['disk free', uses('streamhouse_disk_free_bytes') && uses('streamhouse_disk_size_bytes')],
    ];
    expect(wanted.filter(([, ok]) => !ok).map(([what]) => what)).toEqual([]);
  });
});
