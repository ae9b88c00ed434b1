// `streamhouse doctor` (docs/operations.md, "Health check"): the health of a deployment judged
// from its two stores alone, so that it answers when every agent is down. Each check has a
// status (ok, degraded, critical), a measured value and a one-line message; the report's
// status is the worst of them. Every step that waits on a store has a time limit, so a store
// that hangs is reported as critical instead of a doctor that never answers.

import { DEFAULT_COORDINATOR_SHARDS } from '../../agent/groups/coordinator-shards.js';
import { COORDINATOR_SHARD_PREFIX, PARTITION_PREFIX } from '../../agent/cluster/lease-resources.js';
import { partitionLeaseResource, type AgentRecord, type MetadataStore, type PartitionState, type RecordedObject } from '../../metadata/metadata-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { parseSegmentKey, segmentKeyPrefix } from '../../storage/segment/segment-key.js';

export type CheckStatus = 'ok' | 'degraded' | 'critical';

export interface CheckResult {
  readonly name: CheckName;
  readonly status: CheckStatus;
  /** The measured value, in the unit of the check (see CHECK_UNITS); null when not measured. */
  readonly value: number | null;
  readonly message: string;
}

export interface DoctorReport {
  /** The worst status of the checks. */
  readonly status: CheckStatus;
  readonly checks: readonly CheckResult[];
}

export const CHECK_NAMES = ['metadata', 'objects', 'agents', 'partitions', 'consumer-lag', 'data-flow'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** What each check's value counts. */
export const CHECK_UNITS: Readonly<Record<CheckName, string>> = {
  metadata: 'ms (slowest of three queries)',
  objects: 'ms (slowest store operation)',
  agents: 'live agents',
  partitions: 'partitions and coordinator shards without a leader',
  'consumer-lag': 'records (largest total lag of a group)',
  'data-flow': 'ms since the newest object was recorded',
};

/** The exit code of a status: 0 ok, 1 degraded, 2 critical. */
export function exitCodeOf(status: CheckStatus): number {
  return status === 'ok' ? 0 : status === 'degraded' ? 1 : 2;
}

const RANK: Readonly<Record<CheckStatus, number>> = { ok: 0, degraded: 1, critical: 2 };

export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (RANK[s] > RANK[worst] ? s : worst), 'ok');
}

export interface DoctorSettings {
  /** As shown in messages: already redacted. */
  readonly metadataTarget: string;
  readonly storageTarget: string;
  /** Cluster mode (leases, registered agents) or the embedded single agent. */
  readonly clustered: boolean;
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
  /** Limit of each step that waits on a store. */
  readonly timeoutMs: number;
  readonly metadataLatencyWarnMs: number;
  readonly objectLatencyWarnMs: number;
  /** Also put, read back and delete a small object under PROBE_PREFIX. */
  readonly writeProbe: boolean;
  readonly lagWarn: number;
  readonly lagCritical: number;
  readonly flowMaxAgeMs: number;
  /** A registered agent silent for longer than this is gone (not counted as stale). */
  readonly agentGoneAfterMs: number;
}

export interface DoctorStores {
  openMetadata(): Promise<MetadataStore>;
  openObjects(): Promise<ObjectStore>;
}

/** Where the doctor lists, and with --write-probe writes; no segment key starts with it. */
export const PROBE_PREFIX = 'streamhouse-doctor-probe/';

/**
 * An upload this recent may still be committing; one this much newer than the newest
 * recorded object cannot be that object (agent and database clocks a few seconds apart).
 */
const UPLOAD_SETTLE_MS = 2000;

/** How long closing a store may take once the checks are done. */
const CLOSE_TIMEOUT_MS = 1000;

/** At most this many names in a message. */
const MAX_NAMES = 5;

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** `work`, or a TimeoutError after `ms`; what `work` yields too late goes to `late` (to close it). */
async function within<T>(ms: number, work: Promise<T>, late?: (value: T) => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new TimeoutError(`no answer within ${ms} ms`));
    }, ms);
  });
  work.then(
    (value) => {
      if (timedOut) void Promise.resolve(late?.(value)).catch(() => {});
    },
    () => {},
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One time limit shared by several steps: each waits at most for what is left of it. */
function deadline(totalMs: number): <T>(work: Promise<T>, late?: (value: T) => unknown) => Promise<T> {
  const end = performance.now() + totalMs;
  return (work, late) => within(Math.max(0, Math.round(end - performance.now())), work, late).catch((err: unknown) => {
    throw err instanceof TimeoutError ? new TimeoutError(`no answer within ${totalMs} ms`) : err;
  });
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n')[0] ?? '').trim() || (err instanceof Error ? err.name : 'failed');
}

/** `target: why`, without naming the target twice when the error already does. */
function failure(target: string, err: unknown, step?: string): string {
  const why = reason(err);
  return why.includes(target) ? (step === undefined ? why : `${step}: ${why}`) : `${target}: ${step === undefined ? '' : `${step}: `}${why}`;
}

/** Milliseconds with one decimal. */
function ms(value: number): number {
  return Math.round(value * 10) / 10;
}

/** A duration for a message: 850 ms, 4.2 s, 6.5 min, 3.0 h. */
export function humanDuration(msValue: number): string {
  if (msValue < 1000) return `${Math.round(msValue)} ms`;
  if (msValue < 120_000) return `${(msValue / 1000).toFixed(1)} s`;
  if (msValue < 7_200_000) return `${(msValue / 60_000).toFixed(1)} min`;
  return `${(msValue / 3_600_000).toFixed(1)} h`;
}

function names(items: readonly string[]): string {
  return items.length <= MAX_NAMES ? items.join(', ') : `${items.slice(0, MAX_NAMES).join(', ')} and ${items.length - MAX_NAMES} more`;
}

function result(name: CheckName, status: CheckStatus, value: number | null, message: string): CheckResult {
  return { name, status, value, message };
}

/** Runs every check; never throws, and each store step ends within settings.timeoutMs. */
export async function runDoctor(settings: DoctorSettings, stores: DoctorStores): Promise<DoctorReport> {
  const [meta, objects] = await Promise.all([checkMetadata(settings, stores), checkObjects(settings, stores)]);
  let checks: CheckResult[];
  if (meta.store === undefined || meta.now === undefined) {
    const skipped = (name: CheckName) => result(name, 'critical', null, 'not checked: the metadata store did not answer');
    checks = [meta.check, objects.check, skipped('agents'), skipped('partitions'), skipped('consumer-lag'), skipped('data-flow')];
  } else {
    const store = meta.store;
    const now = meta.now;
    const guarded = async (name: CheckName, run: () => Promise<CheckResult>): Promise<CheckResult> => {
      try {
        return await within(settings.timeoutMs, run());
      } catch (err) {
        return result(name, 'critical', null, `metadata store: ${reason(err)}`);
      }
    };
    const agents = store.agents.list();
    agents.catch(() => {});
    checks = [
      meta.check,
      objects.check,
      ...(await Promise.all([
        guarded('agents', async () => checkAgents(settings, await agents, now)),
        guarded('partitions', () => checkPartitions(settings, store)),
        guarded('consumer-lag', () => checkConsumerLag(settings, store)),
        guarded('data-flow', async () => checkDataFlow(settings, store, objects.store, settings.clustered ? await agents : [], now)),
      ])),
    ];
  }
  await Promise.all([meta.store, objects.store].map((s) => (s === undefined ? undefined : within(CLOSE_TIMEOUT_MS, s.close()).catch(() => {}))));
  return { status: worstStatus(checks.map((c) => c.status)), checks };
}

interface MetadataProbe {
  readonly check: CheckResult;
  readonly store?: MetadataStore;
  /** The store's clock when the probe ran, ms since the epoch. */
  readonly now?: number;
}

/** Opens the store (connect, schema check) and times three trivial queries (the store's clock). */
async function checkMetadata(settings: DoctorSettings, stores: DoctorStores): Promise<MetadataProbe> {
  const target = settings.metadataTarget;
  const limit = deadline(settings.timeoutMs);
  let store: MetadataStore;
  const openedAt = performance.now();
  try {
    store = await limit(stores.openMetadata(), (late) => late.close());
  } catch (err) {
    return { check: result('metadata', 'critical', null, failure(target, err)) };
  }
  const openMs = performance.now() - openedAt;
  try {
    let slowest = 0;
    let now = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      now = await limit(store.leases.now());
      slowest = Math.max(slowest, performance.now() - t0);
    }
    await limit(store.cluster.getClusterId());
    const latency = ms(slowest);
    const opened = `opened in ${Math.round(openMs)} ms`;
    if (latency > settings.metadataLatencyWarnMs) {
      return { store, now, check: result('metadata', 'degraded', latency, `${target} answered in ${latency} ms, above --metadata-latency-warn-ms ${settings.metadataLatencyWarnMs} (${opened})`) };
    }
    return { store, now, check: result('metadata', 'ok', latency, `${target} answered in ${latency} ms (${opened})`) };
  } catch (err) {
    void within(CLOSE_TIMEOUT_MS, store.close()).catch(() => {});
    return { check: result('metadata', 'critical', null, failure(target, err)) };
  }
}

interface ObjectProbe {
  readonly check: CheckResult;
  readonly store?: ObjectStore;
}

/** Opens the store, lists PROBE_PREFIX and, with --write-probe, puts, reads back and deletes an object. */
async function checkObjects(settings: DoctorSettings, stores: DoctorStores): Promise<ObjectProbe> {
  const target = settings.storageTarget;
  const limit = deadline(settings.timeoutMs);
  let store: ObjectStore;
  try {
    store = await limit(stores.openObjects(), (late) => late.close());
  } catch (err) {
    return { check: result('objects', 'critical', null, failure(target, err)) };
  }
  const timed = async <T>(work: () => Promise<T>): Promise<number> => {
    const t0 = performance.now();
    await limit(work());
    return performance.now() - t0;
  };
  let step = 'list';
  try {
    const listMs = await timed(async () => {
      const listing = store.list(PROBE_PREFIX)[Symbol.asyncIterator]();
      await listing.next();
      await listing.return?.();
    });
    let slowest = listMs;
    let probe = '';
    if (settings.writeProbe) {
      const key = `${PROBE_PREFIX}${Date.now()}-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
      const body = Buffer.from(`streamhouse doctor probe ${key}\n`);
      step = 'put';
      const putMs = await timed(() => store.put(key, body));
      step = 'get';
      let readBack: Buffer | undefined;
      const getMs = await timed(async () => {
        readBack = await store.get(key);
      });
      step = 'delete';
      const deleteMs = await timed(() => store.delete(key));
      if (readBack === undefined || !readBack.equals(body)) {
        return { store, check: result('objects', 'critical', null, `${target}: the probe object read back differs from what was written`) };
      }
      slowest = Math.max(slowest, putMs, getMs, deleteMs);
      probe = `; probe object put in ${Math.round(putMs)} ms, read in ${Math.round(getMs)} ms, deleted in ${Math.round(deleteMs)} ms`;
    }
    const latency = ms(slowest);
    const message = `${target}: listing answered in ${Math.round(listMs)} ms${probe}`;
    if (latency > settings.objectLatencyWarnMs) {
      return { store, check: result('objects', 'degraded', latency, `${message}, above --object-latency-warn-ms ${settings.objectLatencyWarnMs}`) };
    }
    return { store, check: result('objects', 'ok', latency, message) };
  } catch (err) {
    void within(CLOSE_TIMEOUT_MS, store.close()).catch(() => {});
    return { check: result('objects', 'critical', null, failure(target, err, step)) };
  }
}

/**
 * Cluster mode: each registered agent by the age of its last heartbeat (store clock). Live
 * below the lease TTL (late above two heartbeat intervals), stale from the TTL on (stopped,
 * hung or cut off without deregistering), gone after --agent-gone-after-ms. Deregistered
 * agents (a clean stop) are not counted.
 */
export function checkAgents(settings: DoctorSettings, agents: readonly AgentRecord[], now: number): CheckResult {
  if (!settings.clustered) {
    return result('agents', 'ok', null, 'embedded mode (no cluster): the agent does not register in the metadata store; `streamctl health` asks it');
  }
  const live: string[] = [];
  const late: string[] = [];
  const stale: string[] = [];
  let left = 0;
  let gone = 0;
  let newestStale = Infinity;
  for (const a of agents) {
    if (a.lastHeartbeat === 0) {
      left++;
      continue;
    }
    const age = Math.max(0, now - a.lastHeartbeat);
    if (age < settings.leaseTtlMs) {
      live.push(a.agentId);
      if (age > 2 * settings.heartbeatIntervalMs) late.push(`${a.agentId} (${humanDuration(age)} ago)`);
    } else if (age >= settings.agentGoneAfterMs) {
      gone++;
    } else {
      stale.push(`${a.agentId} (${humanDuration(age)} ago)`);
      newestStale = Math.min(newestStale, age);
    }
  }
  const others = [...(left > 0 ? [`${left} deregistered`] : []), ...(gone > 0 ? [`${gone} silent for over ${humanDuration(settings.agentGoneAfterMs)}`] : [])];
  const tail = others.length > 0 ? `; ${others.join(', ')}` : '';
  if (live.length === 0) {
    const registered = agents.length === 0 ? 'no agent has registered (agents started with --cluster false do not: run the doctor with --cluster false too)' : stale.length > 0 ? `last heartbeats: ${names(stale)}` : `${agents.length} registered`;
    return result('agents', 'critical', 0, `no live agent (heartbeat within the lease TTL ${settings.leaseTtlMs} ms): ${registered}${tail}`);
  }
  if (stale.length > 0) {
    return result('agents', 'degraded', live.length, `${stale.length} agent(s) stopped heartbeating: ${names(stale)} (lease TTL ${settings.leaseTtlMs} ms); ${live.length} live: ${names(live)}${tail}`);
  }
  if (late.length > 0) {
    return result('agents', 'degraded', live.length, `heartbeat late (interval ${settings.heartbeatIntervalMs} ms): ${names(late)}; ${live.length} live: ${names(live)}${tail}`);
  }
  return result('agents', 'ok', live.length, `${live.length} live: ${names(live)}${tail}`);
}

/** Cluster mode: every partition of every topic and every coordinator shard has a lease holder. */
async function checkPartitions(settings: DoctorSettings, store: MetadataStore): Promise<CheckResult> {
  const topics = await store.topics.list();
  const total = topics.reduce((n, t) => n + t.partitionCount, 0);
  const ofTopics = `${total} partition(s) of ${topics.length} topic(s)`;
  if (!settings.clustered) {
    return result('partitions', 'ok', 0, `embedded mode (no leases): the one agent leads all ${ofTopics}`);
  }
  const [partitionLeases, shardLeases] = await Promise.all([store.leases.list(PARTITION_PREFIX), store.leases.list(COORDINATOR_SHARD_PREFIX)]);
  const held = new Set(partitionLeases.map((l) => l.resource));
  const orphaned: string[] = [];
  for (const t of topics) {
    for (let p = 0; p < t.partitionCount; p++) if (!held.has(partitionLeaseResource(t.name, p))) orphaned.push(`${t.name}-${p}`);
  }
  const shards = new Set(shardLeases.map((l) => l.resource));
  let missingShards = 0;
  for (let s = 0; s < DEFAULT_COORDINATOR_SHARDS; s++) if (!shards.has(`${COORDINATOR_SHARD_PREFIX}${s}`)) missingShards++;
  const value = orphaned.length + missingShards;
  if (value === 0) {
    return result('partitions', 'ok', 0, `all ${ofTopics} and ${DEFAULT_COORDINATOR_SHARDS} coordinator shards have a leader`);
  }
  const parts = [
    ...(orphaned.length > 0 ? [`${orphaned.length} of ${total} partition(s) without a leader: ${names(orphaned)}`] : []),
    ...(missingShards > 0 ? [`${missingShards} of ${DEFAULT_COORDINATOR_SHARDS} coordinator shards without a leader`] : []),
  ];
  return result('partitions', 'critical', value, parts.join('; '));
}

/** Each group's total lag (high watermark minus committed offset, over its committed partitions). */
async function checkConsumerLag(settings: DoctorSettings, store: MetadataStore): Promise<CheckResult> {
  const groups = await store.groupOffsets.listGroups();
  if (groups.length === 0) return result('consumer-lag', 'ok', 0, 'no consumer group has committed offsets');
  const watermarks = new Map<string, Promise<PartitionState[]>>();
  const partitionsOf = (topic: string): Promise<PartitionState[]> => {
    let p = watermarks.get(topic);
    if (p === undefined) watermarks.set(topic, (p = store.partitions.list(topic)));
    return p;
  };
  const lags = await Promise.all(
    groups.map(async (group) => {
      let lag = 0n;
      for (const c of await store.groupOffsets.fetch(group)) {
        const state = (await partitionsOf(c.topic)).find((s) => s.partition === c.partition);
        if (state !== undefined && state.highWatermark > c.offset) lag += state.highWatermark - c.offset;
      }
      return { group, lag: Number(lag) };
    }),
  );
  lags.sort((a, b) => b.lag - a.lag || (a.group < b.group ? -1 : 1));
  const largest = lags[0]!;
  const critical = lags.filter((g) => g.lag > settings.lagCritical);
  const warn = lags.filter((g) => g.lag > settings.lagWarn && g.lag <= settings.lagCritical);
  const list = (gs: typeof lags) => names(gs.map((g) => `${g.group} ${g.lag}`));
  const count = `${groups.length} group(s)`;
  if (critical.length > 0) {
    const more = warn.length > 0 ? `; above --lag-warn ${settings.lagWarn}: ${list(warn)}` : '';
    return result('consumer-lag', 'critical', largest.lag, `lag above --lag-critical ${settings.lagCritical}: ${list(critical)}${more} (${count})`);
  }
  if (warn.length > 0) return result('consumer-lag', 'degraded', largest.lag, `lag above --lag-warn ${settings.lagWarn}: ${list(warn)} (${count})`);
  return result('consumer-lag', 'ok', largest.lag, `${count}, largest lag ${largest.lag} (${largest.group})`);
}

/**
 * Whether data still becomes durable. An object recorded within --flow-max-age-ms is flow.
 * Silence is idle, not unhealthy, unless the object store shows writes being attempted: a
 * flush uploads its segment object first and then records it in the metadata commit, so
 * segment objects uploaded (by their key's time) since the newest recorded one, and not
 * recorded, are produce that does not become durable.
 */
async function checkDataFlow(settings: DoctorSettings, store: MetadataStore, objects: ObjectStore | undefined, agents: readonly AgentRecord[], now: number): Promise<CheckResult> {
  const newest = await store.objects.newest();
  const age = newest === undefined ? null : Math.max(0, now - newest.createdAt);
  const maxAge = settings.flowMaxAgeMs;
  if (newest !== undefined && age! <= maxAge) return result('data-flow', 'ok', age, `newest object recorded ${humanDuration(age!)} ago`);
  const recorded = newest === undefined ? 'no object recorded yet' : `no object recorded for ${humanDuration(age!)} (--flow-max-age-ms ${maxAge})`;
  if (objects === undefined) return result('data-flow', 'ok', age, `idle as far as the metadata store shows: ${recorded} (uploads not checked: the object store did not answer)`);
  const from = Math.max(now - maxAge, newest === undefined ? 0 : newest.createdAt + UPLOAD_SETTLE_MS);
  const to = now - UPLOAD_SETTLE_MS;
  const uploads = await uploadsBetween(objects, uploaderIds(agents, newest, now - maxAge - settings.leaseTtlMs), from, to);
  if (uploads.count > 0) {
    return result('data-flow', 'degraded', age, `${recorded}, yet ${uploads.count} segment object(s) uploaded since were not recorded (newest ${humanDuration(Math.max(0, now - uploads.newest))} ago): flushes upload but do not commit`);
  }
  return result('data-flow', 'ok', age, `idle: ${recorded} and nothing uploaded since`);
}

/**
 * The agent ids whose flush keys to look at: registered agents that heartbeated since
 * `since`, and the writer of the newest recorded object (the embedded agent does not
 * register; compaction writes under `<agent>.compactor`, src/agent/compactor.ts).
 */
function uploaderIds(agents: readonly AgentRecord[], newest: RecordedObject | undefined, since: number): string[] {
  const ids = new Set(agents.filter((a) => a.lastHeartbeat >= since).map((a) => a.agentId));
  const writer = newest === undefined ? undefined : parseSegmentKey(newest.key)?.agentId;
  if (writer !== undefined) ids.add(writer.endsWith('.compactor') ? writer.slice(0, -'.compactor'.length) : writer);
  return [...ids].sort();
}

const STAMP_DIGITS = 15;

/**
 * Segment keys `<hash>/<agent>/<ms, 15 digits>-...` of these agents stamped within [from, to].
 * Lists at most two key prefixes per agent: the aligned blocks of 10^d ms (10^d >= to - from)
 * that cover the range, not everything the agent ever wrote.
 */
export async function uploadsBetween(objects: ObjectStore, agentIds: readonly string[], from: number, to: number): Promise<{ count: number; newest: number }> {
  let count = 0;
  let newest = 0;
  if (to < from) return { count, newest };
  let digits = 0;
  while (digits < STAMP_DIGITS && 10 ** digits < to - from + 1) digits++;
  const block = 10 ** digits;
  const prefixes: string[] = [];
  for (let b = Math.floor(from / block); b <= Math.floor(to / block); b++) prefixes.push(digits >= STAMP_DIGITS ? '' : String(b).padStart(STAMP_DIGITS - digits, '0'));
  for (const agentId of agentIds) {
    let keyPrefix: string;
    try {
      keyPrefix = segmentKeyPrefix(agentId);
    } catch {
      continue; // an id no key can be made of
    }
    for (const stamp of prefixes) {
      for await (const info of objects.list(keyPrefix + stamp)) {
        const parts = parseSegmentKey(info.key);
        if (parts === undefined || parts.timestampMs < from || parts.timestampMs > to) continue;
        count++;
        newest = Math.max(newest, parts.timestampMs);
      }
    }
  }
  return { count, newest };
}
