// The alert and recording rules of deploy/prometheus/rules/ pass `promtool check rules`, and
// their unit tests (deploy/prometheus/tests/streamhouse-alerts.test.yml, synthetic series)
// pass `promtool test rules`. Every alert has a unit test case where it fires and one where it
// must not, a `for:`, a severity, a summary, a description and a runbook_url whose anchor is a
// section of docs/runbook.md; the rules read only metrics docs/operations.md documents.
// promtool comes from Debian's `prometheus` package (scripts/test-all.sh installs it).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALERTS_FILE,
  REPO,
  RULE_TESTS_FILE,
  RULES_DIR,
  RUNBOOK_FILE,
  alertRules,
  documentedAgentMetrics,
  durationSeconds,
  isDocumented,
  markdownAnchors,
  metricNames,
  readYaml,
  ruleFiles,
} from './monitoring-files.js';

interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }>;
}

interface RuleTestFile {
  rule_files: string[];
  group_eval_order?: string[];
  tests: Array<{ name: string; alert_rule_test?: AlertTestCase[] }>;
}

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  expect(run.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('Prometheus rules (deploy/prometheus/rules)', () => {
  const files = [...ruleFiles().keys()];
  const alerts = alertRules();

  it('pass promtool check rules', () => {
    expect(files).toContain('streamhouse-alerts.yml');
    const check = promtool(['check', 'rules', ...files.map((f) => join(RULES_DIR, f))]);
    expect(check, check.output).toMatchObject({ status: 0 });
  });

  it('pass their promtool unit tests (promtool test rules)', () => {
    const test = promtool(['test', 'rules', RULE_TESTS_FILE]);
    expect(test, test.output).toMatchObject({ status: 0 });
    expect(test.output).toContain('SUCCESS');
  });

  it('the unit tests load every rule file, and test every alert both firing and not firing', () => {
    const tests = readYaml<RuleTestFile>(RULE_TESTS_FILE);
    expect(tests.rule_files.map((f) => f.replace(/^\.\.\/rules\//, '')).sort()).toEqual([...files].sort());
    // recording rules first, as the alerts read them (promtool's order is random otherwise)
    const groups = [...ruleFiles().values()].flatMap((f) => f.groups.map((g) => g.name));
    expect([...(tests.group_eval_order ?? [])].sort()).toEqual([...groups].sort());
    expect(tests.group_eval_order![0]).toBe('streamhouse-recording');
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const names = new Set(alerts.map((a) => a.alert!));
    // no case for an alert that does not exist (a misspelt name would pass vacuously with exp_alerts: [])
    expect(cases.map((c) => c.alertname).filter((n) => !names.has(n))).toEqual([]);
    const missing: string[] = [];
    for (const name of names) {
      const mine = cases.filter((c) => c.alertname === name);
      if (!mine.some((c) => (c.exp_alerts ?? []).length > 0)) missing.push(`${name}: no case where it fires`);
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0)) missing.push(`${name}: no case where it does not fire`);
    }
    expect(missing).toEqual([]);
  });

  it('cover the alerts of issue #16', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of [
      'StreamHouseConsumerLagHigh',
      'StreamHouseConsumerLagCritical',
      'StreamHouseConsumerLagGrowing',
      'StreamHouseConsumerLagStalled',
      'StreamHouseProduceErrorRateHigh',
      'StreamHouseProduceErrorRateCritical',
      'StreamHouseProduceLatencyP99High',
      'StreamHouseProduceLatencyP99VeryHigh',
      'StreamHouseThroughputDrop',
      'StreamHouseAgentDown',
      'StreamHouseAgentNotReady',
      'StreamHouseOrphanedPartitions',
      'StreamHouseFlushFailures',
      'StreamHouseObjectStoreErrors',
      'StreamHouseMetadataStoreLatencyHigh',
      'StreamHouseCPUHigh',
      'StreamHouseMemoryHigh',
      'StreamHouseDiskFull',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('every alert has for, severity, summary, description and a runbook_url to its section of docs/runbook.md', () => {
    const anchors = markdownAnchors(RUNBOOK_FILE);
    const problems: string[] = [];
    for (const a of alerts) {
      const name = a.alert!;
      if (a.for === undefined || durationSeconds(a.for) <= 0) problems.push(`${name}: no for`);
      if (!['warning', 'critical'].includes(a.labels?.severity ?? '')) problems.push(`${name}: severity ${a.labels?.severity}`);
      if (!a.annotations?.summary) problems.push(`${name}: no summary`);
      if (!a.annotations?.description) problems.push(`${name}: no description`);
      const url = a.annotations?.runbook_url ?? '';
      const anchor = name.toLowerCase();
      if (url !== `docs/runbook.md#${anchor}`) problems.push(`${name}: runbook_url ${url}`);
      if (!anchors.has(anchor)) problems.push(`${name}: docs/runbook.md has no section "## ${name}"`);
    }
    expect(problems).toEqual([]);
  });

  it('read only metrics the agents export (docs/operations.md) and the agents\' scrape job', () => {
    const doc = documentedAgentMetrics();
    const unknown: string[] = [];
    for (const file of ruleFiles().values()) {
      for (const rule of file.groups.flatMap((g) => g.rules)) {
        for (const name of metricNames(rule.expr)) {
          if (name !== 'up' && !isDocumented(name, doc)) unknown.push(`${rule.alert ?? rule.record}: ${name}`);
        }
        if (/\bup\{/.test(rule.expr)) expect(rule.expr, rule.alert).toContain('up{job="streamhouse"}');
      }
    }
    expect(unknown).toEqual([]);
    // the job the agent-down alert watches is the scrape job of deploy/prometheus/prometheus.yml
    const prom = readYaml<{ scrape_configs: Array<{ job_name: string }> }>(join(REPO, 'deploy/prometheus/prometheus.yml'));
    expect(prom.scrape_configs.map((j) => j.job_name)).toContain('streamhouse');
    expect(ALERTS_FILE.endsWith('streamhouse-alerts.yml')).toBe(true);
  });
});
