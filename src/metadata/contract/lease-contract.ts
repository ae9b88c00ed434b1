// Contract for the agent registry, leases and the lease guard of the flush commit
// (docs/architecture.md §8). Called from runMetadataStoreContract inside its per-test database setup.

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  FencedError,
  MetadataStoreError,
  partitionLeaseResource,
  type FlushCommit,
  type MetadataStore,
} from '../metadata-store.js';


async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (err: unknown) => err,
  );
}

/** One record at `hwm` of t-0, guarded by the given lease (or none). */
function guardedCommit(key: string, hwm: bigint, lease?: { owner: string; epoch: number }, topic = 't'): FlushCommit {
  return {
    objectKey: key,
    objectSize: 10,
    chunks: [{ topic, partition: 0, baseOffset: hwm, lastOffset: hwm, maxTimestamp: 1n, recordCount: 1, byteOffset: 0, byteLength: 10 }],
    partitions: [
      {
        topic,
        partition: 0,
        expectedHighWatermark: hwm,
        newHighWatermark: hwm + 1n,
        ...(lease ? { leaseOwner: lease.owner, leaseEpoch: lease.epoch } : {}),
      },
    ],
    producerStates: [],
  };
}

export function runAgentAndLeaseContract(current: () => MetadataStore, openStore: () => Promise<MetadataStore>): void {
  describe('agents', () => {
    it('assigns the lowest free node id, keeps it for the agent id, and refuses a taken one', async () => {
      const store = current();
      const a = await store.agents.register({ agentId: 'a', host: 'h1', port: 9092, rack: null });
      const b = await store.agents.register({ agentId: 'b', host: 'h2', port: 9093, rack: 'r1' });
      expect([a.nodeId, b.nodeId]).toEqual([0, 1]);
      const c = await store.agents.register({ agentId: 'c', nodeId: 7, host: 'h3', port: 9094, rack: null });
      expect(c.nodeId).toBe(7);
      const err = await rejection(store.agents.register({ agentId: 'd', nodeId: 1, host: 'h4', port: 1, rack: null }));
      expect(err).toBeInstanceOf(MetadataStoreError);
      expect((err as MetadataStoreError).code).toBe('NODE_ID_IN_USE');
      // re-registering (a restart, maybe elsewhere) keeps the node id even if another is asked for
      const again = await (await openStore()).agents.register({ agentId: 'a', nodeId: 5, host: 'h9', port: 19092, rack: 'z' });
      expect(again).toMatchObject({ agentId: 'a', nodeId: 0, host: 'h9', port: 19092, rack: 'z' });
      const d = await store.agents.register({ agentId: 'd', host: 'h4', port: 1, rack: null });
      expect(d.nodeId).toBe(2);
      expect((await store.agents.listLive(60_000)).map((x) => [x.agentId, x.nodeId, x.host, x.port, x.rack])).toEqual([
        ['a', 0, 'h9', 19092, 'z'],
        ['b', 1, 'h2', 9093, 'r1'],
        ['d', 2, 'h4', 1, null],
        ['c', 7, 'h3', 9094, null],
      ]);
    });

    it('keeps every advertised listener of an agent, replaced at each registration', async () => {
      const store = current();
      const listeners = [
        { name: 'INTERNAL', host: 'agent-a.internal', port: 9092 },
        { name: 'SASL_SSL', host: 'kafka.example.com', port: 19094 },
      ];
      const a = await store.agents.register({ agentId: 'a', host: 'agent-a.internal', port: 9092, rack: null, listeners });
      expect(a.listeners).toEqual(listeners);
      const plain = await store.agents.register({ agentId: 'b', host: 'h2', port: 9093, rack: null });
      expect(plain.listeners).toEqual([]);
      expect((await (await openStore()).agents.listLive(60_000)).map((x) => [x.agentId, x.listeners])).toEqual([
        ['a', listeners],
        ['b', []],
      ]);
      const moved = [{ name: 'SASL_SSL', host: 'kafka2.example.com', port: 29094 }];
      expect((await store.agents.register({ agentId: 'a', host: 'h', port: 1, rack: null, listeners: moved })).listeners).toEqual(moved);
      expect((await store.agents.list()).find((x) => x.agentId === 'a')?.listeners).toEqual(moved);
    });

    it('judges liveness by heartbeat age and forgets deregistered agents at once', async () => {
      const store = current();
      await store.agents.register({ agentId: 'a', host: 'h', port: 1, rack: null });
      await store.agents.register({ agentId: 'b', host: 'h', port: 2, rack: null });
      expect(await store.agents.heartbeat('nobody')).toBe(false);
      await sleep(250);
      expect(await store.agents.heartbeat('b')).toBe(true);
      expect((await store.agents.listLive(200)).map((x) => x.agentId)).toEqual(['b']);
      expect((await store.agents.listLive(60_000)).map((x) => x.agentId)).toEqual(['a', 'b']);
      await store.agents.deregister('b');
      expect((await store.agents.listLive(60_000)).map((x) => x.agentId)).toEqual(['a']);
      expect((await store.agents.list()).map((x) => [x.agentId, x.nodeId])).toEqual([
        ['a', 0],
        ['b', 1],
      ]);
      // a deregistered agent coming back keeps its node id
      expect((await store.agents.register({ agentId: 'b', host: 'h', port: 2, rack: null })).nodeId).toBe(1);
      expect((await store.agents.listLive(60_000)).map((x) => x.agentId)).toEqual(['a', 'b']);
    });
  });

  describe('leases', () => {
    it('grants a free lease at epoch 1, renews it for its owner, refuses others and bumps the epoch at each new tenure', async () => {
      const store = current();
      const first = await store.leases.acquire('partition/t/0', 'a', 60_000);
      expect(first).toMatchObject({ resource: 'partition/t/0', owner: 'a', epoch: 1 });
      expect(await store.leases.acquire('partition/t/0', 'b', 60_000)).toBeUndefined();
      // the holder asking again is a restarted incarnation: a new epoch fences the old one
      expect(await store.leases.acquire('partition/t/0', 'a', 60_000)).toMatchObject({ owner: 'a', epoch: 2 });
      expect(await store.leases.renew('partition/t/0', 'a', 1, 60_000)).toBeUndefined();
      const renewed = await store.leases.renew('partition/t/0', 'a', 2, 120_000);
      expect(renewed).toMatchObject({ owner: 'a', epoch: 2 });
      expect(renewed!.expiresAt).toBeGreaterThan(first!.expiresAt);
      expect(await store.leases.renew('partition/t/0', 'a', 3, 60_000)).toBeUndefined();
      expect(await store.leases.renew('partition/t/0', 'b', 2, 60_000)).toBeUndefined();
      expect(await store.leases.release('partition/t/0', 'a', 1)).toBe(false);
      expect(await store.leases.release('partition/t/0', 'b', 2)).toBe(false);
      expect(await store.leases.release('partition/t/0', 'a', 2)).toBe(true);
      expect(await store.leases.get('partition/t/0')).toBeUndefined();
      expect(await store.leases.lastEpoch('partition/t/0')).toBe(2);
      expect(await store.leases.acquire('partition/t/0', 'b', 60_000)).toMatchObject({ owner: 'b', epoch: 3 });
      expect(await store.leases.release('partition/t/0', 'b', 3)).toBe(true);
      // even the same owner taking it back after a release is a new tenure
      expect(await store.leases.acquire('partition/t/0', 'b', 60_000)).toMatchObject({ owner: 'b', epoch: 4 });
      expect(await store.leases.get('partition/t/0')).toMatchObject({ owner: 'b', epoch: 4 });
      expect(await store.leases.lastEpoch('never')).toBe(0);
    });

    it('acquires, renews and releases many leases in one call, each judged on its own', async () => {
      const store = current();
      expect(await store.leases.acquireMany([], 'a', 60_000)).toEqual([]);
      expect(await store.leases.renewMany([], 'a', 60_000)).toEqual([]);
      expect(await store.leases.releaseMany([], 'a')).toBe(0);
      await store.leases.acquire('m/1', 'b', 60_000);
      await store.leases.acquire('m/3', 'a', 150);
      await sleep(300);
      // m/1 is b's, m/3 expired (a new tenure even for its former holder), the rest are free
      const got = await store.leases.acquireMany(['m/4', 'm/3', 'm/1', 'm/0', 'm/4'], 'a', 60_000);
      expect(got.map((l) => [l.resource, l.owner, l.epoch])).toEqual([
        ['m/0', 'a', 1],
        ['m/3', 'a', 2],
        ['m/4', 'a', 1],
      ]);
      const renewed = await store.leases.renewMany(
        [
          { resource: 'm/0', epoch: 1 },
          { resource: 'm/3', epoch: 1 }, // stale epoch
          { resource: 'm/1', epoch: 1 }, // someone else's
          { resource: 'm/4', epoch: 1 },
          { resource: 'm/9', epoch: 1 }, // never leased
        ],
        'a',
        120_000,
      );
      expect(renewed.map((l) => [l.resource, l.epoch])).toEqual([
        ['m/0', 1],
        ['m/4', 1],
      ]);
      for (const l of renewed) expect(l.expiresAt).toBeGreaterThan(got[0]!.expiresAt);
      expect(await store.leases.releaseMany([{ resource: 'm/0', epoch: 1 }, { resource: 'm/3', epoch: 1 }, { resource: 'm/1', epoch: 1 }], 'a')).toBe(1);
      expect((await store.leases.list('m/')).map((l) => [l.resource, l.owner, l.epoch])).toEqual([
        ['m/1', 'b', 1],
        ['m/3', 'a', 2],
        ['m/4', 'a', 1],
      ]);
    });

    it('expires a lease by the store clock: the holder can no longer renew and another takes it with a new epoch', async () => {
      const store = current();
      expect(await store.leases.acquire('shard/1', 'a', 150)).toMatchObject({ epoch: 1 });
      const now = await store.leases.now();
      expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
      await sleep(300);
      expect(await store.leases.get('shard/1')).toBeUndefined();
      expect(await store.leases.renew('shard/1', 'a', 1, 60_000)).toBeUndefined();
      expect(await store.leases.acquire('shard/1', 'b', 60_000)).toMatchObject({ owner: 'b', epoch: 2 });
      expect(await store.leases.release('shard/1', 'a', 1)).toBe(false);
      // an expired lease re-taken by its former owner is a new epoch too
      expect(await store.leases.acquire('shard/2', 'a', 150)).toMatchObject({ epoch: 1 });
      await sleep(300);
      expect(await store.leases.acquire('shard/2', 'a', 60_000)).toMatchObject({ owner: 'a', epoch: 2 });
    });

    it('lists held leases by prefix, in resource order', async () => {
      const store = current();
      await store.leases.acquire('partition/b/0', 'x', 60_000);
      await store.leases.acquire('partition/a/1', 'y', 60_000);
      await store.leases.acquire('partition/a_%/0', 'y', 60_000);
      await store.leases.acquire('group-shard/3', 'x', 60_000);
      await store.leases.acquire('partition/gone/0', 'x', 60_000);
      await store.leases.release('partition/gone/0', 'x', 1);
      expect((await store.leases.list('partition/')).map((l) => [l.resource, l.owner, l.epoch])).toEqual([
        ['partition/a/1', 'y', 1],
        ['partition/a_%/0', 'y', 1],
        ['partition/b/0', 'x', 1],
      ]);
      expect((await store.leases.list('partition/a_')).map((l) => l.resource)).toEqual(['partition/a_%/0']);
      expect((await store.leases.list()).map((l) => l.resource)).toEqual(['group-shard/3', 'partition/a/1', 'partition/a_%/0', 'partition/b/0']);
    });

    it('lets exactly one of several stores racing for free or expired leases win each', async () => {
      const stores = [current(), await openStore(), await openStore(), await openStore()];
      const resources = Array.from({ length: 20 }, (_, i) => `race/${i}`);
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          // the TTL must outlast the whole burst of acquires, or a second winner is legitimate
          stores.flatMap((s, who) => resources.map(async (r) => ({ r, who, lease: await s.leases.acquire(r, `agent-${who}`, 1500) }))),
        );
        for (const r of resources) {
          const winners = results.filter((x) => x.r === r && x.lease !== undefined);
          expect(winners).toHaveLength(1);
          expect(winners[0]!.lease!.epoch).toBe(round + 1);
        }
        await sleep(1600);
      }
    });

    it('lets exactly one of several stores racing acquireMany over overlapping sets, in any order, win each resource', async () => {
      const stores = [current(), await openStore(), await openStore(), await openStore()];
      const resources = Array.from({ length: 30 }, (_, i) => `many/${String(i).padStart(2, '0')}`);
      let seed = 7;
      const random = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      for (let round = 0; round < 3; round++) {
        // each store asks for a random two thirds of the resources, shuffled
        const asks = stores.map(() => resources.filter(() => random() < 0.67).sort(() => random() - 0.5));
        const results = await Promise.all(stores.map((s, who) => s.leases.acquireMany(asks[who]!, `agent-${who}`, 1500)));
        const winners = new Map<string, string[]>();
        results.forEach((leases, who) => {
          for (const l of leases) {
            expect(asks[who]).toContain(l.resource);
            expect(l.owner).toBe(`agent-${who}`);
            winners.set(l.resource, [...(winners.get(l.resource) ?? []), l.owner]);
          }
        });
        // every resource somebody asked for has exactly one winner
        for (const r of new Set(asks.flat())) expect(winners.get(r)).toHaveLength(1);
        const held = await current().leases.list('many/');
        expect(held.map((l) => [l.resource, l.owner])).toEqual([...winners].sort(([a], [b]) => (a < b ? -1 : 1)).map(([r, o]) => [r, o[0]]));
        await sleep(1600);
      }
    });

    it('never has two owners of one epoch, nor lets an epoch go back, over 1,000 randomized rounds with guarded commits', async () => {
      const contenders = [current(), await openStore(), await openStore()];
      await current().topics.create({ name: 't', partitionCount: 1, configs: {} });
      const resource = partitionLeaseResource('t', 0);
      const ownerOfEpoch = new Map<number, string>();
      const ops: Array<{ start: number; end: number; epoch: number }> = [];
      let rounds = 0;
      let commits = 0;
      let seed = 12345;
      const random = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      await Promise.all(
        contenders.map(async (s, who) => {
          const owner = `agent-${who}`;
          let held: number | undefined;
          let lastSeen = 0;
          while (rounds < 1000) {
            rounds++;
            const start = performance.now();
            const roll = random();
            let lease;
            if (held !== undefined && roll < 0.15) {
              await s.leases.release(resource, owner, held);
              held = undefined;
            } else if (held !== undefined && roll < 0.5) {
              lease = await s.leases.renew(resource, owner, held, 2 + Math.floor(random() * 20));
              if (!lease) held = undefined;
            } else {
              lease = await s.leases.acquire(resource, owner, 2 + Math.floor(random() * 20));
              held = lease?.epoch;
            }
            if (lease) {
              expect(lease.owner).toBe(owner);
              const known = ownerOfEpoch.get(lease.epoch);
              if (known === undefined) ownerOfEpoch.set(lease.epoch, owner);
              else expect(known).toBe(owner);
              expect(lease.epoch).toBeGreaterThanOrEqual(lastSeen);
              lastSeen = lease.epoch;
              ops.push({ start, end: performance.now(), epoch: lease.epoch });
              if (random() < 0.5) {
                const hwm = (await s.partitions.get('t', 0))!.highWatermark;
                try {
                  await s.partitions.commitFlush(guardedCommit(`obj/${owner}/${lease.epoch}/${rounds}`, hwm, { owner, epoch: lease.epoch }));
                  commits++;
                } catch (err) {
                  expect(err).toBeInstanceOf(FencedError);
                }
              }
            }
            if (random() < 0.3) await sleep(Math.floor(random() * 4));
          }
        }),
      );
      expect(ownerOfEpoch.size).toBeGreaterThan(10);
      // an operation that finished before another began never sees a larger epoch
      ops.sort((x, y) => x.start - y.start);
      let maxEnded = 0;
      const byEnd = [...ops].sort((x, y) => x.end - y.end);
      let j = 0;
      for (const op of ops) {
        while (j < byEnd.length && byEnd[j]!.end < op.start) maxEnded = Math.max(maxEnded, byEnd[j++]!.epoch);
        expect(op.epoch).toBeGreaterThanOrEqual(maxEnded);
      }
      // every accepted commit came from the owner of its epoch, and epochs only grow along the log
      const chunks = await current().chunks.findChunks('t', 0, 0n, 10_000);
      expect(chunks).toHaveLength(commits);
      let lastEpoch = 0;
      for (const c of chunks) {
        const [, owner, epoch] = c.objectKey.split('/');
        expect(ownerOfEpoch.get(Number(epoch))).toBe(owner);
        expect(Number(epoch)).toBeGreaterThanOrEqual(lastEpoch);
        lastEpoch = Number(epoch);
      }
    }, 120_000);
  });

  describe('the lease guard of the flush commit', () => {
    it('commits only while the lease is held by that owner at that epoch, and writes nothing otherwise', async () => {
      const store = current();
      await store.topics.create({ name: 't', partitionCount: 1, configs: {} });
      const resource = partitionLeaseResource('t', 0);
      expect(resource).toBe('partition/t/0');
      // no lease at all
      let err = await rejection(store.partitions.commitFlush(guardedCommit('o1', 0n, { owner: 'a', epoch: 1 })));
      expect(err).toBeInstanceOf(FencedError);
      expect((err as FencedError).partitions).toEqual([{ topic: 't', partition: 0, expectedHighWatermark: 0n, actualHighWatermark: 0n, leaseLost: true }]);
      const lease = await store.leases.acquire(resource, 'a', 60_000);
      await store.partitions.commitFlush(guardedCommit('o1', 0n, { owner: 'a', epoch: lease!.epoch }));
      // wrong owner, wrong epoch
      err = await rejection(store.partitions.commitFlush(guardedCommit('o2', 1n, { owner: 'b', epoch: lease!.epoch })));
      expect((err as FencedError).partitions[0]?.leaseLost).toBe(true);
      err = await rejection(store.partitions.commitFlush(guardedCommit('o2', 1n, { owner: 'a', epoch: lease!.epoch + 1 })));
      expect((err as FencedError).partitions[0]?.leaseLost).toBe(true);
      // lost to another owner
      await store.leases.release(resource, 'a', lease!.epoch);
      const other = await store.leases.acquire(resource, 'b', 60_000);
      err = await rejection(store.partitions.commitFlush(guardedCommit('o2', 1n, { owner: 'a', epoch: lease!.epoch })));
      expect(err).toBeInstanceOf(FencedError);
      await store.partitions.commitFlush(guardedCommit('o2', 1n, { owner: 'b', epoch: other!.epoch }));
      // expired, even though nobody took it yet
      await store.leases.release(resource, 'b', other!.epoch);
      const short = await store.leases.acquire(resource, 'c', 150);
      await sleep(300);
      err = await rejection(store.partitions.commitFlush(guardedCommit('o3', 2n, { owner: 'c', epoch: short!.epoch })));
      expect((err as FencedError).partitions[0]?.leaseLost).toBe(true);
      // nothing of the fenced commits was written: HWM, index and the object row (o3 is still free)
      expect((await store.partitions.get('t', 0))?.highWatermark).toBe(2n);
      expect((await store.chunks.findChunks('t', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['o1', 'o2']);
      await store.partitions.commitFlush(guardedCommit('o3', 2n));
      expect((await store.partitions.get('t', 0))?.highWatermark).toBe(3n);
    });

    it('fences only the partitions whose lease is gone and names them', async () => {
      const store = current();
      await store.topics.create({ name: 'm', partitionCount: 2, configs: {} });
      const l0 = await store.leases.acquire(partitionLeaseResource('m', 0), 'a', 60_000);
      await store.leases.acquire(partitionLeaseResource('m', 1), 'b', 60_000);
      const commit: FlushCommit = {
        objectKey: 'k',
        objectSize: 20,
        chunks: [0, 1].map((p) => ({ topic: 'm', partition: p, baseOffset: 0n, lastOffset: 0n, maxTimestamp: 1n, recordCount: 1, byteOffset: p * 10, byteLength: 10 })),
        partitions: [0, 1].map((p) => ({ topic: 'm', partition: p, expectedHighWatermark: 0n, newHighWatermark: 1n, leaseOwner: 'a', leaseEpoch: l0!.epoch })),
        producerStates: [],
      };
      const err = await rejection(store.partitions.commitFlush(commit));
      expect((err as FencedError).partitions).toEqual([{ topic: 'm', partition: 1, expectedHighWatermark: 0n, actualHighWatermark: 0n, leaseLost: true }]);
      expect((await store.partitions.list('m')).map((p) => p.highWatermark)).toEqual([0n, 0n]);
    });
  });
}
