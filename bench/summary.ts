/**
 * Prints the summary table of a run-all.sh results file (JSON lines written by the bench
 * scripts' --json-out), with issue #3's goals next to the runs that measure them.
 *   npx tsx bench/summary.ts results.jsonl
 */
import { readFileSync } from 'node:fs';
import { fmt } from './lib/results-file.js';

interface Row {
  script: string;
  label: string;
  [k: string]: unknown;
}

interface Goal {
  readonly text: string;
  met(r: Row): boolean;
}

const num = (r: Row, k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : NaN);
const p99 = (r: Row): number => num((r.latency ?? {}) as Row, 'p99');

/** Issue #3's goals, by the label run-all.sh gives the run that measures each. */
const GOALS: Record<string, Goal> = {
  'produce 100B': { text: '>= 1,000,000 records/s', met: (r) => num(r, 'recordsPerSecond') >= 1_000_000 },
  'produce 1KiB': { text: '>= 300 MB/s', met: (r) => num(r, 'mbPerSecond') >= 300 },
  'latency 10MB/s': { text: 'p99 <= 40 ms', met: (r) => p99(r) <= 40 },
  'fetch recent': { text: '>= 500 MB/s', met: (r) => num(r, 'mbPerSecond') >= 500 },
  'fetch chunk-cache': { text: '>= 500 MB/s', met: (r) => num(r, 'mbPerSecond') >= 500 },
  memory: { text: 'RSS <= idle + caches + requests', met: (r) => r.withinBound === true },
  // issue #13: REST batch produce of 100-byte values
  'rest produce 1000': { text: '>= 100,000 records/s', met: (r) => num(r, 'recordsPerSecond') >= 100_000 },
  'rest produce 5000': { text: '>= 100,000 records/s', met: (r) => num(r, 'recordsPerSecond') >= 100_000 },
  // issue #17: the production demo
  'demo orders': { text: '>= 20,000 orders/s', met: (r) => num(r, 'recordsPerSecond') >= 20_000 },
  'demo analytics': { text: '>= 100,000 events/s', met: (r) => num(r, 'recordsPerSecond') >= 100_000 },
  'demo inventory': { text: '>= 60,000 updates/s', met: (r) => num(r, 'recordsPerSecond') >= 60_000 },
};

function describe(r: Row): string {
  switch (r.script) {
    case 'produce-load': {
      const lat = (r.latency ?? {}) as Row;
      return `${fmt(num(r, 'recordsPerSecond'))} rec/s, ${fmt(num(r, 'mbPerSecond'), 1)} MB/s, p50/p99 ${fmt(num(lat, 'p50'), 1)}/${fmt(num(lat, 'p99'), 1)} ms` +
        (r.brokerCpu !== null && r.brokerCpu !== undefined ? `, server CPU ${fmt(num(r, 'brokerCpu') * 100)}%` : '') +
        `, client CPU ${fmt(num(r, 'clientCpu') * 100)}%`;
    }
    case 'fetch-load':
      return `${fmt(num(r, 'mbPerSecond'), 1)} MB/s (${fmt(num(r, 'bytes') / 1e6)} MB, ${r.passes} passes)`;
    case 'rest-api': {
      const lat = (r.latency ?? {}) as Row;
      return `${fmt(num(r, 'recordsPerSecond'))} rec/s, ${fmt(num(r, 'mbPerSecond'), 1)} MB/s of values, request p50/p99 ${fmt(num(lat, 'p50'), 1)}/${fmt(num(lat, 'p99'), 1)} ms` +
        (r.matches === false ? ', READ != PRODUCED' : '');
    }
    case 'production-demo': {
      const cpu = (k: string) => (typeof r[k] === 'number' ? `${fmt(num(r, k) * 100)}%` : '-');
      return `${fmt(num(r, 'recordsPerSecond'))}/s (${fmt(num(r, 'records'))} in ${fmt(num(r, 'seconds'), 2)} s), CPU broker ${cpu('brokerCpu')}, service ${cpu('serviceCpu')}`;
    }
    case 'real-client':
      return `${fmt(num(r, 'recordsPerSecond'))} rec/s, ${fmt(num(r, 'mbPerSecond'), 1)} MB/s`;
    case 'object-store-baseline': {
      if (r.latency) {
        const lat = r.latency as Row;
        return `put p50/p99/max ${fmt(num(lat, 'p50'), 1)}/${fmt(num(lat, 'p99'), 1)}/${fmt(num(lat, 'max'), 1)} ms`;
      }
      return `${fmt(num(r, 'mbPerSecond'), 1)} MB/s (${fmt(num(r, 'putsPerSecond'), 1)} puts/s)`;
    }
    case 'memory':
      return `peak RSS ${fmt(Math.max(num(r, 'produceRssPeak'), num(r, 'readRssPeak')) / 1048576)} MiB, bound ${fmt(num(r, 'bound') / 1048576)} MiB` +
        (r.gcExternal !== null && r.gcExternal !== undefined ? `, Buffers after full GC ${fmt(num(r, 'gcExternal') / 1048576)} MiB` : '');
    default:
      return '';
  }
}

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx bench/summary.ts <results.jsonl>');
  process.exit(2);
}
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
const lines = rows.map((r) => {
  const goal = GOALS[r.label];
  const errors = num(r, 'errorCount');
  return [
    r.label,
    describe(r),
    Number.isNaN(errors) ? '' : String(errors),
    goal ? goal.text : '',
    goal ? (goal.met(r) ? 'MET' : 'NOT MET') : '',
    typeof r.cpuPressurePct === 'number' ? `${fmt(r.cpuPressurePct)}%` : '',
  ];
});
const header = ['run', 'result', 'errors', 'goal', '', 'CPU pressure'];
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const print = (cells: string[]) => console.log(cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd());
print(header);
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const l of lines) print(l);
console.log('\nCPU pressure: /proc/pressure/cpu "some avg10" when the run ended, the share of the last 10 s in which a');
console.log('runnable task waited for a CPU. Anything well above 0 means other processes were competing for the 2 cores.');
