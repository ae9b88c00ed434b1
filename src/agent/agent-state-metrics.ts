// Gauges of the agent's state that alerts and the dashboard read (docs/operations.md
// "Metrics"): readiness (the verdict of GET /ready), partitions and coordinator shards without
// a leader as this agent sees the cluster, free space where the agent writes locally, and the
// bytes the object store holds. Each is read at scrape time from what the agent already keeps,
// except the stored bytes: one aggregate query of the metadata store, at most once a minute.

import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { parseMetadataStoreUrl } from '../metadata/open-metadata-store.js';
import { SQLITE_MEMORY_PATH } from '../metadata/sqlite/sqlite-metadata-store.js';
import type { ObjectTotals } from '../metadata/metadata-store.js';
import { localPathFromUrl } from '../storage/open-object-store.js';

/** A local directory the agent writes into, and which store writes there. */
export interface LocalDiskPath {
  readonly store: 'objects' | 'metadata';
  readonly path: string;
}

/**
 * The local directories behind the store URLs: a `file://` object store's root and the
 * directory of a SQLite file. S3, PostgreSQL and in-memory stores have none (their disks are
 * not the agent's to see). Only paths, never a URL, so no credential can reach a label.
 */
export function localDiskPaths(storageUrl: string, metadataUrl: string): LocalDiskPath[] {
  const out: LocalDiskPath[] = [];
  if (storageUrl.toLowerCase().startsWith('file://')) out.push({ store: 'objects', path: localPathFromUrl(storageUrl) });
  try {
    const location = parseMetadataStoreUrl(metadataUrl);
    if (location.kind === 'sqlite' && location.path !== SQLITE_MEMORY_PATH) out.push({ store: 'metadata', path: dirname(location.path) });
  } catch {
    // the store opened with this URL, so it parses; nothing to measure otherwise
  }
  return out;
}

/** Free and total bytes of the file system holding `path` (free: what an unprivileged process may still use). */
export async function diskSpace(path: string): Promise<{ freeBytes: number; sizeBytes: number }> {
  const s = await statfs(path);
  return { freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
}

/**
 * A value read from somewhere slow, kept for `maxAgeMs`: a read older than that is replaced
 * at the next `get()`, which waits for it at most `timeoutMs` and otherwise answers with the
 * last value (undefined before the first read succeeded). Reads never overlap.
 */
export class CachedReading<T> {
  private value: T | undefined;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly timeoutMs: number,
    private readonly failed: (err: unknown) => void = () => {},
  ) {}

  async get(): Promise<T | undefined> {
    if (performance.now() - this.readAt <= this.maxAgeMs) return this.value;
    this.reading ??= this.read().then(
      (v) => {
        this.value = v;
        this.readAt = performance.now();
        this.reading = undefined;
      },
      (err: unknown) => {
        this.reading = undefined;
        this.failed(err);
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs);
      timer.unref();
    });
    await Promise.race([this.reading, timeout]).finally(() => clearTimeout(timer));
    return this.value;
  }
}

export interface AgentStateMetricsOptions {
  readonly registry: Registry;
  /** The verdict of GET /ready (a recent one may be reused; see ReadinessProbe.report). */
  readonly ready: () => Promise<boolean>;
  /** Partitions of existing topics and coordinator shards without a live lease holder, as this agent sees them. */
  readonly leaderless: () => Promise<{ partitions: number; coordinatorShards: number }> | { partitions: number; coordinatorShards: number };
  readonly diskPaths: readonly LocalDiskPath[];
  /** Reads a path's file system; default diskSpace (statfs). */
  readonly diskSpace?: (path: string) => Promise<{ freeBytes: number; sizeBytes: number }>;
  /** Totals of the objects the metadata store records (ObjectMetadataStore.totals). */
  readonly storedObjects: () => Promise<ObjectTotals>;
  /** How long a stored-objects reading is used; default 60 s. */
  readonly storedMaxAgeMs?: number;
  /** How long a scrape waits for a stored-objects reading; default 2 s. */
  readonly storedTimeoutMs?: number;
  readonly failed?: (what: string, err: unknown) => void;
}

/** Registers the gauges; returns nothing to call: they are read when the registry is scraped. */
export function registerAgentStateMetrics(opts: AgentStateMetricsOptions): void {
  const registers = [opts.registry];
  new Gauge({
    name: 'streamhouse_agent_ready',
    help: 'Whether this agent can serve: 1 when GET /ready answers 200, 0 when it answers 503 (a check failed or did not answer within 2 s)',
    registers,
    async collect() {
      this.set((await opts.ready()) ? 1 : 0);
    },
  });

  let leaderless: Promise<{ partitions: number; coordinatorShards: number }> | undefined;
  const readLeaderless = () => (leaderless ??= Promise.resolve(opts.leaderless()).finally(() => (leaderless = undefined)));
  new Gauge({
    name: 'streamhouse_leaderless_partitions',
    help: 'Partitions of existing topics with no live lease holder in this agent’s view of the cluster (always 0 for an agent running alone)',
    registers,
    async collect() {
      this.set((await readLeaderless()).partitions);
    },
  });
  new Gauge({
    name: 'streamhouse_leaderless_coordinator_shards',
    help: 'Group-coordinator shards with no live lease holder in this agent’s view of the cluster (always 0 for an agent running alone)',
    registers,
    async collect() {
      this.set((await readLeaderless()).coordinatorShards);
    },
  });

  // one statfs per path and scrape, shared by both gauges
  const spaceOf = opts.diskSpace ?? diskSpace;
  let space: Promise<Array<{ disk: LocalDiskPath; freeBytes: number; sizeBytes: number } | undefined>> | undefined;
  const readSpace = () =>
    (space ??= Promise.all(
      opts.diskPaths.map(async (disk) => {
        try {
          return { disk, ...(await spaceOf(disk.path)) };
        } catch (err) {
          opts.failed?.(`disk space of ${disk.path}`, err);
          return undefined;
        }
      }),
    ).finally(() => (space = undefined)));
  const diskGauge = (name: string, help: string, value: (s: { freeBytes: number; sizeBytes: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['store', 'path'],
      registers,
      async collect() {
        this.reset();
        for (const s of await readSpace()) if (s) this.set({ store: s.disk.store, path: s.disk.path }, value(s));
      },
    });
  diskGauge('streamhouse_disk_free_bytes', 'Bytes still free for the agent on the file system of a local directory it writes (a file:// object store, the SQLite file’s directory)', (s) => s.freeBytes);
  diskGauge('streamhouse_disk_size_bytes', 'Size of the file system of a local directory the agent writes', (s) => s.sizeBytes);

  const stored = new CachedReading(opts.storedObjects, opts.storedMaxAgeMs ?? 60_000, opts.storedTimeoutMs ?? 2000, (err) => opts.failed?.('stored object totals', err));
  new Gauge({
    name: 'streamhouse_stored_object_bytes',
    help: 'Recorded size of every object in the object store, the whole cluster (what the bucket holds and bills: live chunks, chunks retention or compaction dropped from objects still in use, objects awaiting garbage collection); read from the metadata store at most once a minute',
    registers,
    async collect() {
      this.set((await stored.get())?.bytes ?? 0);
    },
  });
  new Gauge({
    name: 'streamhouse_stored_objects',
    help: 'Objects the metadata store records, the whole cluster (read with streamhouse_stored_object_bytes)',
    registers,
    async collect() {
      this.set((await stored.get())?.objects ?? 0);
    },
  });
}
