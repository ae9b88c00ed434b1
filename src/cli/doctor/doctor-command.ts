// `streamhouse doctor`: the health check of a deployment read from its stores
// (docs/operations.md, "Health check"). Where the stores are comes from the same flags and
// environment variables as `streamhouse start`; exit code 0 healthy, 1 degraded, 2 critical
// (and 2 for a bad flag, with one line on stderr).

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../agent/config/broker-config.js';
import { redactUrl } from '../../common/redact-url.js';
import { openMetadataStore, parseMetadataStoreUrl } from '../../metadata/open-metadata-store.js';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { SQLITE_MEMORY_PATH } from '../../metadata/sqlite/sqlite-metadata-store.js';
import { LOCAL_TEMP_DIR } from '../../storage/local/local-object-store.js';
import { localPathFromUrl, openObjectStore } from '../../storage/open-object-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { table, toJson } from '../streamctl/output.js';
import { addStartOptions, STORE_OPTION_FLAGS, storeConfig } from '../start-options.js';
import { exitCodeOf, humanDuration, runDoctor, type CheckResult, type DoctorReport, type DoctorSettings, type DoctorStores } from './health-checks.js';

/** The doctor's own options: name, default, bounds, help. */
const LIMITS = {
  timeoutMs: { flag: 'timeout-ms', default: 5000, min: 100, max: 600_000, help: 'limit of each stage that waits on a store (opening and probing both stores; then the other checks)' },
  metadataLatencyWarnMs: { flag: 'metadata-latency-warn-ms', default: 500, min: 0, max: 600_000, help: 'metadata store query latency above which it is degraded' },
  objectLatencyWarnMs: { flag: 'object-latency-warn-ms', default: 1000, min: 0, max: 600_000, help: 'object store latency above which it is degraded' },
  lagWarn: { flag: 'lag-warn', default: 10_000, min: 0, max: Number.MAX_SAFE_INTEGER, help: 'a group\'s total lag (records) above which it is degraded' },
  lagCritical: { flag: 'lag-critical', default: 100_000, min: 0, max: Number.MAX_SAFE_INTEGER, help: 'a group\'s total lag (records) above which it is critical' },
  flowMaxAgeMs: { flag: 'flow-max-age-ms', default: 300_000, min: 1000, max: 30 * 86_400_000, help: 'newest object older than this: idle, or degraded when segment objects were uploaded since but not recorded' },
  agentGoneAfterMs: { flag: 'agent-gone-after-ms', default: 3_600_000, min: 0, max: 365 * 86_400_000, help: 'a registered agent silent this long is gone, no longer a stopped (stale) agent' },
} as const;

type LimitKey = keyof typeof LIMITS;

function integer(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new ConfigError(`--${flag} must be a non-negative integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new ConfigError(`--${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function registerDoctorCommand(program: Command): Command {
  const doctor = addStartOptions(
    program
      .command('doctor')
      .description('check the health of a deployment from its metadata and object stores (works with every agent down); exit 0 healthy, 1 degraded, 2 critical'),
    STORE_OPTION_FLAGS,
  );
  for (const spec of Object.values(LIMITS)) {
    doctor.addOption(new Option(`--${spec.flag} <n>`, spec.help).default(spec.default).argParser(integer(spec.flag, spec.min, spec.max)));
  }
  doctor.option('--write-probe', 'also put, read back and delete a small object under streamhouse-doctor-probe/');
  doctor.option('--json', 'print {status, checks: [{name, status, value, message}]}');
  doctor.action(async (_options: unknown, command: Command) => {
    const { settings, stores, json } = doctorSetup(command);
    const report = await runDoctor(settings, stores);
    const text = json ? `${toJson(report)}\n` : `${formatReport(report).join('\n')}\n`;
    // stores that did not answer in time may still hold sockets: end here, once stdout is written
    process.stdout.write(text, () => process.exit(exitCodeOf(report.status)));
  });
  return doctor;
}

function doctorSetup(command: Command): { settings: DoctorSettings; stores: DoctorStores; json: boolean } {
  const stores = storeConfig(command);
  const o = command.opts<Record<LimitKey, number> & { writeProbe?: boolean; json?: boolean }>();
  if (o.lagCritical < o.lagWarn) throw new ConfigError(`--lag-critical (${o.lagCritical}) must not be below --lag-warn (${o.lagWarn})`);
  if (o.agentGoneAfterMs < stores.leaseTtlMs) throw new ConfigError(`--agent-gone-after-ms (${o.agentGoneAfterMs}) must not be below --lease-ttl-ms (${stores.leaseTtlMs})`);
  const settings: DoctorSettings = {
    metadataTarget: redactUrl(stores.metadataUrl),
    storageTarget: redactUrl(stores.storageUrl),
    clustered: stores.clustered,
    heartbeatIntervalMs: stores.heartbeatIntervalMs,
    leaseTtlMs: stores.leaseTtlMs,
    timeoutMs: o.timeoutMs,
    metadataLatencyWarnMs: o.metadataLatencyWarnMs,
    objectLatencyWarnMs: o.objectLatencyWarnMs,
    writeProbe: o.writeProbe === true,
    lagWarn: o.lagWarn,
    lagCritical: o.lagCritical,
    flowMaxAgeMs: o.flowMaxAgeMs,
    agentGoneAfterMs: o.agentGoneAfterMs,
  };
  return {
    settings,
    stores: { openMetadata: () => openExistingMetadataStore(stores.metadataUrl), openObjects: () => openExistingObjectStore(stores.storageUrl) },
    json: o.json === true,
  };
}

/**
 * Opens the metadata store as an agent does, but never makes a new one: a SQLite file that is
 * not there is a wrong path (or data lost), not an empty deployment.
 */
export async function openExistingMetadataStore(url: string): Promise<MetadataStore> {
  const location = parseMetadataStoreUrl(url);
  if (location.kind === 'sqlite') {
    if (location.path === SQLITE_MEMORY_PATH) throw new Error('an in-memory SQLite database lives inside one process; there is nothing to check');
    if (!existsSync(location.path)) throw new Error(`no metadata database at ${location.path}`);
  }
  return openMetadataStore(url);
}

/** Opens the object store as an agent does, but never creates a file:// root no agent has opened. */
export async function openExistingObjectStore(url: string, env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  if (url.toLowerCase().startsWith('file://')) {
    const dir = localPathFromUrl(url);
    if (!existsSync(dir)) throw new Error(`storage directory ${dir} does not exist`);
    if (!statSync(dir).isDirectory()) throw new Error(`storage path ${dir} is not a directory`);
    // every agent's local store makes it at open; without it no agent ever used this directory
    if (!existsSync(join(dir, LOCAL_TEMP_DIR))) throw new Error(`${dir} is not a StreamHouse storage directory (no ${LOCAL_TEMP_DIR} in it)`);
  }
  return openObjectStore(url, env);
}

/** A check's value for the table, with its unit. */
function valueText(c: CheckResult): string {
  if (c.value === null) return '-';
  switch (c.name) {
    case 'metadata':
    case 'objects':
      return `${c.value} ms`;
    case 'agents':
      return `${c.value} live`;
    case 'partitions':
      return `${c.value} leaderless`;
    case 'consumer-lag':
      return `${c.value} lag`;
    case 'data-flow':
      return humanDuration(c.value);
  }
}

/** The text report: one row per check, then the overall status. */
export function formatReport(report: DoctorReport): string[] {
  const rows = report.checks.map((c) => [c.name, c.status.toUpperCase(), valueText(c), c.message]);
  return [...table(['CHECK', 'STATUS', 'VALUE', 'MESSAGE'], rows, ['left', 'left', 'right', 'left']), `status: ${report.status.toUpperCase()}`];
}
