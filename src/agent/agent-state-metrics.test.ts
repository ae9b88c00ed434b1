import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore, ObjectTotals } from '../metadata/metadata-store.js';
import { openSqliteMetadataStore } from '../metadata/sqlite/sqlite-metadata-store.js';
import { CachedReading, diskSpace, localDiskPaths, registerAgentStateMetrics, type AgentStateMetricsOptions } from './agent-state-metrics.js';
import { ClusterRuntime } from './cluster/cluster-runtime.js';
import { coordinatorShardResource, partitionLeaseResource } from './cluster/lease-resources.js';
import { rendezvousOwner } from './cluster/rendezvous.js';
import { ReadinessProbe, type ReadinessCheck } from './readiness.js';

const logger = pino({ level: 'silent' });
const TTL_MS = 15_000;
const SHARDS = 4;

let dir: string;
let store: MetadataStore;
let runtimes: ClusterRuntime[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-state-metrics-'));
  store = await openSqliteMetadataStore({ path: join(dir, 'm.db') });
  runtimes = [];
});

afterEach(async () => {
  for (const r of runtimes) await r.stop();
  await store.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

function runtime(agentId: string): ClusterRuntime {
  const r = new ClusterRuntime({
    metadata: store,
    agentId,
    host: '127.0.0.1',
    port: 9000 + runtimes.length,
    rack: null,
    heartbeatIntervalMs: 5_000,
    leaseTtlMs: TTL_MS,
    coordinatorShards: SHARDS,
    logger,
    drain: async () => {},
    partitionChanged: () => {},
    listTopics: () => store.topics.list(),
  });
  runtimes.push(r);
  return r;
}

/** Every sample of the registry's exposition text: `name{labels}` -> value. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const TOTALS: ObjectTotals = { objects: 0, bytes: 0, unreferencedObjects: 0 };

function gauges(overrides: Partial<AgentStateMetricsOptions>): Registry {
  const registry = new Registry();
  registerAgentStateMetrics({
    registry,
    ready: async () => true,
    leaderless: () => ({ partitions: 0, coordinatorShards: 0 }),
    diskPaths: [],
    storedObjects: async () => TOTALS,
    ...overrides,
  });
  return registry;
}

describe('streamhouse_leaderless_partitions and _coordinator_shards', () => {
  it('count partitions with no lease holder, then 0 once their owner took them', async () => {
    await store.topics.create({ name: 't', partitionCount: 12, configs: {} });
    // agent-b is registered (live for the TTL) but not running: its share has no lease
    await store.agents.register({ agentId: 'agent-b', host: '127.0.0.1', port: 9100, rack: null });
    const a = runtime('agent-a');
    await a.start();
    const partitionsOfB = Array.from({ length: 12 }, (_, p) => partitionLeaseResource('t', p)).filter((r) => rendezvousOwner(r, ['agent-a', 'agent-b']) === 'agent-b').length;
    const shardsOfB = Array.from({ length: SHARDS }, (_, s) => coordinatorShardResource(s)).filter((r) => rendezvousOwner(r, ['agent-a', 'agent-b']) === 'agent-b').length;
    expect(partitionsOfB).toBeGreaterThan(0);
    expect(partitionsOfB).toBeLessThan(12);

    const registry = gauges({ leaderless: async () => a.leaderlessCounts(await store.topics.list()) });
    let s = await samples(registry);
    expect(s.get('streamhouse_leaderless_partitions')).toBe(partitionsOfB);
    expect(s.get('streamhouse_leaderless_coordinator_shards')).toBe(shardsOfB);
    // partitions of a topic the caller does not list are not counted
    expect(a.leaderlessCounts([])).toEqual({ partitions: 0, coordinatorShards: shardsOfB });

    await runtime('agent-b').start();
    // a's next view refresh sees b's leases (one may be under way from before b took them)
    for (let i = 0; i < 100 && a.leaderlessCounts(await store.topics.list()).partitions > 0; i++) await a.refreshSoon(0).then(() => sleep(10));
    s = await samples(registry);
    expect(s.get('streamhouse_leaderless_partitions')).toBe(0);
    expect(s.get('streamhouse_leaderless_coordinator_shards')).toBe(0);
  });

  it('count one partition with no lease as 1, and 0 after it is acquired; a lease whose holder is not a live agent counts as none', async () => {
    await store.topics.create({ name: 'one', partitionCount: 1, configs: {} });
    const resource = partitionLeaseResource('one', 0);
    // a holder that never registered (gone): its lease is unexpired but nobody serves it
    const ghost = await store.leases.acquire(resource, 'ghost', TTL_MS);
    expect(ghost).toBeDefined();
    const a = runtime('agent-a');
    await a.start();
    const topics = await store.topics.list();
    expect(a.leaseOf(resource)?.owner).toBe('ghost');
    expect(a.leaderlessCounts(topics)).toEqual({ partitions: 1, coordinatorShards: 0 });
    // the ghost's lease is released; agent-a (the only live agent) takes it at its next heartbeat
    await store.leases.release(resource, 'ghost', ghost!.epoch);
    a.poke();
    for (let i = 0; i < 200 && !a.heldPartition('one', 0); i++) await sleep(10);
    expect(a.heldPartition('one', 0)).toBeDefined();
    expect(a.leaderlessCounts(topics)).toEqual({ partitions: 0, coordinatorShards: 0 });
    // every partition of a topic created since counts until a lease is taken
    expect(a.leaderlessCounts([...topics, { name: 'unleased', partitionCount: 3 }])).toEqual({ partitions: 3, coordinatorShards: 0 });
  });
});

describe('streamhouse_agent_ready', () => {
  it('is 1 while GET /ready would answer 200 and 0 once the metadata store does not answer', async () => {
    const probe = new ReadinessProbe(
      new Map<string, ReadinessCheck>([
        ['metadata', async () => {
          await store.cluster.getClusterId();
          return undefined;
        }],
        ['listeners', () => undefined],
      ]),
    );
    const registry = gauges({ ready: async () => (await probe.report()).ready });
    expect((await samples(registry)).get('streamhouse_agent_ready')).toBe(1);
    await store.close();
    expect((await probe.report()).notReady).toEqual(['metadata']);
    expect((await samples(registry)).get('streamhouse_agent_ready')).toBe(0);
  });

  it('may reuse a verdict at most maxAgeMs old, so a scrape right after GET /ready probes nothing', async () => {
    let probes = 0;
    let up = true;
    const probe = new ReadinessProbe(new Map<string, ReadinessCheck>([['metadata', () => (probes++, up ? undefined : 'down')]]));
    expect((await probe.report(60_000)).ready).toBe(true);
    up = false;
    expect((await probe.report(60_000)).ready).toBe(true);
    expect(probes).toBe(1);
    // GET /ready always probes; its verdict is the one reused next
    expect((await probe.report()).ready).toBe(false);
    expect((await probe.report(60_000)).ready).toBe(false);
    expect(probes).toBe(2);
    await sleep(30);
    expect((await probe.report(10)).ready).toBe(false);
    expect(probes).toBe(3);
  });
});

describe('streamhouse_disk_free_bytes and _size_bytes', () => {
  it('are the local directories behind file:// and sqlite:// URLs, never a remote store or its URL', () => {
    expect(localDiskPaths(`file://${dir}/objects`, `sqlite://${dir}/meta/metadata.db`)).toEqual([
      { store: 'objects', path: `${dir}/objects` },
      { store: 'metadata', path: `${dir}/meta` },
    ]);
    expect(localDiskPaths('s3://bucket/prefix', 'postgres://user:secret@db:5432/streamhouse')).toEqual([]);
    expect(localDiskPaths('memory://', 'sqlite::memory:')).toEqual([]);
  });

  it('report statfs of each path by store and path, and drop a path that cannot be read', async () => {
    const space = new Map([
      ['/data/objects', { freeBytes: 1000, sizeBytes: 4000 }],
      ['/data', { freeBytes: 1000, sizeBytes: 4000 }],
    ]);
    const registry = gauges({
      diskPaths: [
        { store: 'objects', path: '/data/objects' },
        { store: 'metadata', path: '/data' },
      ],
      diskSpace: async (path) => {
        const s = space.get(path);
        if (!s) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        return s;
      },
    });
    let s = await samples(registry);
    expect([...s].filter(([k]) => k.startsWith('streamhouse_disk_'))).toEqual([
      ['streamhouse_disk_free_bytes{store="objects",path="/data/objects"}', 1000],
      ['streamhouse_disk_free_bytes{store="metadata",path="/data"}', 1000],
      ['streamhouse_disk_size_bytes{store="objects",path="/data/objects"}', 4000],
      ['streamhouse_disk_size_bytes{store="metadata",path="/data"}', 4000],
    ]);
    space.delete('/data/objects');
    space.set('/data', { freeBytes: 10, sizeBytes: 4000 });
    s = await samples(registry);
    expect([...s].filter(([k]) => k.startsWith('streamhouse_disk_'))).toEqual([
      ['streamhouse_disk_free_bytes{store="metadata",path="/data"}', 10],
      ['streamhouse_disk_size_bytes{store="metadata",path="/data"}', 4000],
    ]);
  });

  it('diskSpace is statfs: blocks available to the process and all blocks, in bytes', async () => {
    const s = await diskSpace(dir);
    const fs = statfsSync(dir);
    expect(s.sizeBytes).toBe(fs.blocks * fs.bsize);
    expect(s.freeBytes % fs.bsize).toBe(0);
    expect(s.freeBytes).toBeLessThanOrEqual(s.sizeBytes);
    await expect(diskSpace(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('streamhouse_stored_object_bytes and streamhouse_stored_objects', () => {
  it('are the metadata store’s object totals, read at most once per maxAgeMs', async () => {
    let totals: ObjectTotals = { objects: 3, bytes: 12_345, unreferencedObjects: 1 };
    let reads = 0;
    const registry = gauges({
      storedObjects: async () => {
        reads++;
        return totals;
      },
      storedMaxAgeMs: 50,
    });
    let s = await samples(registry);
    expect([s.get('streamhouse_stored_object_bytes'), s.get('streamhouse_stored_objects'), reads]).toEqual([12_345, 3, 1]);
    totals = { objects: 4, bytes: 20_000, unreferencedObjects: 0 };
    s = await samples(registry);
    expect([s.get('streamhouse_stored_object_bytes'), s.get('streamhouse_stored_objects'), reads]).toEqual([12_345, 3, 1]);
    await sleep(60);
    s = await samples(registry);
    expect([s.get('streamhouse_stored_object_bytes'), s.get('streamhouse_stored_objects'), reads]).toEqual([20_000, 4, 2]);
  });

  it('match ObjectMetadataStore.totals of a real store', async () => {
    const registry = gauges({ storedObjects: () => store.objects.totals() });
    const totals = await store.objects.totals();
    const s = await samples(registry);
    expect(s.get('streamhouse_stored_object_bytes')).toBe(totals.bytes);
    expect(s.get('streamhouse_stored_objects')).toBe(totals.objects);
  });

  it('CachedReading keeps the last value when a read fails or is slower than its timeout', async () => {
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    let n = 0;
    const failures: unknown[] = [];
    const reading = new CachedReading(
      () => {
        n++;
        if (mode === 'fail') return Promise.reject(new Error('store down'));
        if (mode === 'hang') return sleep(200).then(() => n * 100);
        return Promise.resolve(n * 100);
      },
      0,
      30,
      (err) => failures.push(err),
    );
    expect(await reading.get()).toBe(100);
    mode = 'fail';
    await sleep(1);
    expect(await reading.get()).toBe(100);
    expect(failures.map((e) => (e as Error).message)).toEqual(['store down']);
    mode = 'hang';
    expect(await reading.get()).toBe(100);
    // the read still running is joined, not started again
    expect(await reading.get()).toBe(100);
    expect(n).toBe(3);
    await sleep(250);
    expect(await reading.get()).toBe(300);
  });

  it('CachedReading answers undefined before its first read succeeded', async () => {
    const reading = new CachedReading(() => Promise.reject(new Error('no')), 0, 30);
    expect(await reading.get()).toBeUndefined();
  });
});
