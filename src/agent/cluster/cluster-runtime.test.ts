import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease, MetadataStore } from '../../metadata/metadata-store.js';
import { openSqliteMetadataStore } from '../../metadata/sqlite/sqlite-metadata-store.js';
import { ClusterRuntime } from './cluster-runtime.js';
import { partitionLeaseResource } from './lease-resources.js';
import { rendezvousOwner } from './rendezvous.js';

// Several runtimes in one process over one SQLite store: the lease logic is the same as
// with PostgreSQL (the contract suite runs both); multi-process behaviour is in compat-tests/cluster.

const logger = pino({ level: 'silent' });
const SHARDS = 2;
/** Long on purpose: the moves below must not wait for a heartbeat. */
const HEARTBEAT_MS = 5_000;
const TTL_MS = 15_000;

let dir: string;
let store: MetadataStore;
let runtimes: ClusterRuntime[];
let events: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cluster-runtime-'));
  store = await openSqliteMetadataStore({ path: join(dir, 'm.db') });
  runtimes = [];
  events = [];
});

afterEach(async () => {
  for (const r of runtimes) await r.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function runtime(agentId: string, port: number): ClusterRuntime {
  const r = new ClusterRuntime({
    metadata: store,
    agentId,
    host: '127.0.0.1',
    port,
    rack: null,
    heartbeatIntervalMs: HEARTBEAT_MS,
    leaseTtlMs: TTL_MS,
    coordinatorShards: SHARDS,
    logger,
    drain: async () => {
      events.push(`drain ${agentId}`);
    },
    partitionChanged: () => {},
    listTopics: () => store.topics.list(),
  });
  runtimes.push(r);
  return r;
}

function allResources(partitions: number): string[] {
  return [...Array.from({ length: partitions }, (_, p) => partitionLeaseResource('t', p)), 'group-shard/0', 'group-shard/1'];
}

/** resource -> owner, as the store has it. */
async function owners(): Promise<Map<string, Lease>> {
  return new Map((await store.leases.list()).map((l) => [l.resource, l]));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms`);
    await sleep(10);
  }
  return performance.now() - start;
}

async function ownedAsRendezvousSays(agentIds: string[], partitions: number): Promise<boolean> {
  const leases = await owners();
  return allResources(partitions).every((r) => leases.get(r)?.owner === rendezvousOwner(r, agentIds));
}

describe('ClusterRuntime', () => {
  it('divides partitions and coordinator shards among agents by rendezvous hashing, each held once', async () => {
    await store.topics.create({ name: 't', partitionCount: 12, configs: {} });
    const ids = ['agent-a', 'agent-b', 'agent-c'];
    for (const [i, id] of ids.entries()) await runtime(id, 9000 + i).start();
    await until('every lease held by its rendezvous owner', () => ownedAsRendezvousSays(ids, 12), 3000);
    const leases = await owners();
    expect(leases.size).toBe(14);
    expect(new Set([...leases.values()].map((l) => l.owner)).size).toBe(3);
    // each agent trusts exactly the leases the store says it holds
    for (const [i, id] of ids.entries()) {
      for (const r of allResources(12)) expect(runtimes[i]!.heldLease(r) !== undefined).toBe(leases.get(r)!.owner === id);
    }
  });

  it('hands partitions to a joining agent well before the next heartbeat: drain, release, take over', async () => {
    await store.topics.create({ name: 't', partitionCount: 16, configs: {} });
    await runtime('agent-a', 9000).start();
    await runtime('agent-b', 9001).start();
    await until('two agents settled', () => ownedAsRendezvousSays(['agent-a', 'agent-b'], 16), 3000);
    const before = await owners();

    const joinedAt = performance.now();
    await runtime('agent-c', 9002).start();
    const ms = await until('moved to agent-c', () => ownedAsRendezvousSays(['agent-a', 'agent-b', 'agent-c'], 16), 3000);
    const after = await owners();
    const moved = [...after.values()].filter((l) => l.owner === 'agent-c');
    expect(moved.length).toBeGreaterThan(0);
    for (const l of moved) {
      // a new tenure, and only for what agent-c should own
      expect(l.epoch).toBe(before.get(l.resource)!.epoch + 1);
      expect(runtimes[2]!.heldLease(l.resource)).toMatchObject({ epoch: l.epoch });
      expect(runtimes[0]!.heldLease(l.resource)).toBeUndefined();
      expect(runtimes[1]!.heldLease(l.resource)).toBeUndefined();
    }
    // nothing else changed hands
    for (const l of after.values()) if (l.owner !== 'agent-c') expect(l.epoch).toBe(before.get(l.resource)!.epoch);
    expect(events.some((e) => e === 'drain agent-a' || e === 'drain agent-b')).toBe(true);
    expect(ms).toBeLessThan(1500);
    expect(performance.now() - joinedAt).toBeLessThan(HEARTBEAT_MS);
  });

  it('takes over a stopped agent’s leases at once, not after their TTL', async () => {
    await store.topics.create({ name: 't', partitionCount: 8, configs: {} });
    await runtime('agent-a', 9000).start();
    await runtime('agent-b', 9001).start();
    await until('settled', () => ownedAsRendezvousSays(['agent-a', 'agent-b'], 8), 3000);
    const stoppedAt = performance.now();
    await runtimes[1]!.stop();
    await until('agent-a owns everything', () => ownedAsRendezvousSays(['agent-a'], 8), 3000);
    expect(performance.now() - stoppedAt).toBeLessThan(1500);
    expect((await store.agents.listLive(TTL_MS)).map((a) => a.agentId)).toEqual(['agent-a']);
  });

  it('a restarted agent fences its previous run: what it held gets a new epoch at once, the old epochs renew nothing', async () => {
    await store.topics.create({ name: 't', partitionCount: 4, configs: {} });
    // a previous process of agent-a that died holding leases (not expired)
    await store.agents.register({ agentId: 'agent-a', host: '127.0.0.1', port: 9000, rack: null });
    const old = await store.leases.acquireMany(allResources(4), 'agent-a', TTL_MS);
    expect(old).toHaveLength(6);
    const started = performance.now();
    const r = runtime('agent-a', 9000);
    await r.start();
    await until('agent-a holds everything again', async () => allResources(4).every((res) => r.heldLease(res) !== undefined), 1000);
    expect(performance.now() - started).toBeLessThan(1000);
    for (const l of old) {
      expect(r.heldLease(l.resource)!.epoch).toBeGreaterThan(l.epoch);
      expect(await store.leases.renew(l.resource, 'agent-a', l.epoch, TTL_MS)).toBeUndefined();
    }
  });

  it('awaitOwners resolves once the partitions of a new topic have owners, and times out when none can be had', async () => {
    await runtime('agent-a', 9000).start();
    await runtime('agent-b', 9001).start();
    await store.topics.create({ name: 'fresh', partitionCount: 6, configs: {} });
    const fresh = Array.from({ length: 6 }, (_, p) => partitionLeaseResource('fresh', p));
    const started = performance.now();
    expect(await runtimes[0]!.awaitOwners(fresh, 3000)).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
    const leases = await owners();
    for (const r of fresh) expect(runtimes[0]!.leaseOf(r)?.owner).toBe(leases.get(r)!.owner);
    expect(await runtimes[0]!.awaitOwners([partitionLeaseResource('no-such-topic', 0)], 200)).toBe(false);
  });
});
