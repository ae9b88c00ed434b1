// Reading the monitoring kit of deploy/: the Prometheus rule files, their promtool unit tests,
// the Grafana dashboard and its queries, and the metric names docs/operations.md documents.
// Shared by alert-rules.test.ts, dashboard.test.ts and prometheus-live.test.ts.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const RULES_DIR = join(REPO, 'deploy/prometheus/rules');
export const ALERTS_FILE = join(RULES_DIR, 'streamhouse-alerts.yml');
export const RULE_TESTS_FILE = join(REPO, 'deploy/prometheus/tests/streamhouse-alerts.test.yml');
export const PROMETHEUS_CONFIG = join(REPO, 'deploy/prometheus/prometheus.yml');
export const DASHBOARD_FILE = join(REPO, 'deploy/grafana/dashboards/streamhouse.json');
export const DATASOURCES_FILE = join(REPO, 'deploy/grafana/provisioning/datasources/prometheus.yml');
export const RUNBOOK_FILE = join(REPO, 'docs/runbook.md');
export const OPERATIONS_FILE = join(REPO, 'docs/operations.md');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: Rule[] }>;
}

export function readYaml<T>(path: string): T {
  return YAML.parse(readFileSync(path, 'utf8')) as T;
}

/** Every rule file Prometheus loads (deploy/prometheus/rules/*.yml), by file name. */
export function ruleFiles(): Map<string, RuleFile> {
  const out = new Map<string, RuleFile>();
  for (const name of readdirSync(RULES_DIR).filter((n) => n.endsWith('.yml')).sort()) out.set(name, readYaml<RuleFile>(join(RULES_DIR, name)));
  return out;
}

export function alertRules(): Rule[] {
  return readYaml<RuleFile>(ALERTS_FILE).groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
}

/** Seconds of a Prometheus duration such as `90s`, `5m`, `1h30m`. */
export function durationSeconds(d: string): number {
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(d)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== d.length || d === '') throw new Error(`not a Prometheus duration: ${d}`);
  return total;
}

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of every heading of a Markdown file. */
export function markdownAnchors(path: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(headingAnchor(m[1]!));
  }
  return out;
}

/**
 * Metric names a PromQL expression reads: `streamhouse_*` names (also inside a `__name__`
 * regex) and `up`, not recording-rule names (those have colons).
 */
export function metricNames(expr: string): Set<string> {
  const out = new Set<string>();
  for (const token of expr.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []) {
    if (token.includes(':')) continue;
    if (token.startsWith('streamhouse_')) out.add(token);
  }
  if (/(^|[^A-Za-z0-9_:])up\{/.test(expr)) out.add('up');
  return out;
}

/**
 * The agent's metric families docs/operations.md documents (its "### Agent" table): exact
 * names, and prefixes for the `streamhouse_process_*` / `streamhouse_nodejs_*` rows.
 */
export function documentedAgentMetrics(): { names: Set<string>; prefixes: string[] } {
  const text = readFileSync(OPERATIONS_FILE, 'utf8');
  const start = text.indexOf('### Agent');
  if (start < 0) throw new Error('docs/operations.md has no "### Agent" metrics table');
  const end = text.indexOf('\n### ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `streamhouse_')) continue;
    const firstCell = line.split('|')[1]!;
    for (const m of firstCell.matchAll(/`(streamhouse_[a-z0-9_]*)(\*?)`/g)) {
      if (m[2] === '*') prefixes.push(m[1]!);
      else names.add(m[1]!);
    }
  }
  return { names, prefixes };
}

/** Whether `name` (a series name: histograms as `_bucket`, `_sum`, `_count`) is documented. */
export function isDocumented(name: string, doc: { names: Set<string>; prefixes: string[] }): boolean {
  if (doc.names.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  if (base !== name && doc.names.has(base)) return true;
  return doc.prefixes.some((p) => name.startsWith(p));
}

// ---------------------------------------------------------------- dashboard

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface DashboardVariable {
  type: string;
  name: string;
  query?: unknown;
  allValue?: string;
  includeAll?: boolean;
  current?: { value?: unknown };
  datasource?: { type: string; uid: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export interface PanelQuery {
  panel: string;
  refId: string;
  /** As in the dashboard, with `$variables`. */
  raw: string;
  /** With every variable replaced (substitutions()). */
  expr: string;
}

/**
 * What Grafana would put in for each variable, for running the queries outside it: a query
 * variable with "All" its allValue (`.*`), a textbox or custom variable its current value,
 * `$__rate_interval` the given window.
 */
export function substitutions(d: Dashboard, rateInterval: string): Map<string, string> {
  const out = new Map<string, string>([['__rate_interval', rateInterval]]);
  for (const v of d.templating.list) {
    if (v.type === 'query') out.set(v.name, v.allValue ?? '.*');
    else out.set(v.name, String(v.current?.value ?? v.query));
  }
  return out;
}

export function dashboardQueries(d: Dashboard, rateInterval = '20s'): PanelQuery[] {
  const subs = substitutions(d, rateInterval);
  const out: PanelQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      const expr = t.expr.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
        const value = subs.get(name);
        if (value === undefined) throw new Error(`panel "${p.title}" ${t.refId} uses $${name}, which the dashboard does not define`);
        return value;
      });
      out.push({ panel: p.title, refId: t.refId, raw: t.expr, expr });
    }
  }
  return out;
}
