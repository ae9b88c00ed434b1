// The behaviour every MetadataStore implementation must show, as one vitest suite.
// Each backend's test file calls runMetadataStoreContract with a factory for fresh
// databases; nothing here knows which backend it is talking to.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FencedError,
  MetadataStoreError,
  type AbortedTransaction,
  type FlushChunk,
  type FlushCommit,
  type FlushPartitionUpdate,
  type MetadataErrorCode,
  type MetadataStore,
  type ProducerPartitionState,
  type TransactionRecordInput,
} from '../metadata-store.js';
import { runAgentAndLeaseContract } from './lease-contract.js';

/** One fresh, empty database for one test. */
export interface ContractDatabase {
  /** Opens a new, independent store (connection) over this same database; callable repeatedly. */
  open(): Promise<MetadataStore>;
  /** Drops the database. Every store opened from it is already closed when this runs. */
  destroy(): Promise<void>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INT64_MAX = 2n ** 63n - 1n;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (err: unknown) => err,
  );
}

async function expectCode(promise: Promise<unknown>, code: MetadataErrorCode): Promise<MetadataStoreError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(MetadataStoreError);
  expect((err as MetadataStoreError).code).toBe(code);
  return err as MetadataStoreError;
}

function chunk(
  topic: string,
  partition: number,
  baseOffset: bigint,
  lastOffset: bigint,
  maxTimestamp: bigint,
  byteOffset: number,
  byteLength: number,
): FlushChunk {
  return {
    topic,
    partition,
    baseOffset,
    lastOffset,
    maxTimestamp,
    recordCount: Number(lastOffset - baseOffset + 1n),
    byteOffset,
    byteLength,
  };
}

function update(topic: string, partition: number, expected: bigint, next: bigint): FlushPartitionUpdate {
  return { topic, partition, expectedHighWatermark: expected, newHighWatermark: next };
}

/** A flush of one chunk of `count` records for one partition, filling an object of 100 bytes. */
function singleChunkFlush(
  objectKey: string,
  topic: string,
  partition: number,
  from: bigint,
  count: bigint,
  maxTimestamp: bigint,
): FlushCommit {
  return {
    objectKey,
    objectSize: 100,
    chunks: [chunk(topic, partition, from, from + count - 1n, maxTimestamp, 0, 100)],
    partitions: [update(topic, partition, from, from + count)],
    producerStates: [],
  };
}

export function runMetadataStoreContract(name: string, createDatabase: () => Promise<ContractDatabase>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let database: ContractDatabase;
    let opened: MetadataStore[];
    let store: MetadataStore;

    const openStore = async (): Promise<MetadataStore> => {
      const s = await database.open();
      opened.push(s);
      return s;
    };
    const reopen = async (): Promise<MetadataStore> => {
      await store.close();
      store = await openStore();
      return store;
    };

    beforeEach(async () => {
      opened = [];
      database = await createDatabase();
      store = await openStore();
    });

    afterEach(async () => {
      for (const s of opened) await s.close();
      await database.destroy();
    });

    runAgentAndLeaseContract(() => store, openStore);

    describe('group offsets', () => {
      const at = (topic: string, partition: number, offset: bigint, commitTimestamp = 1000, metadata: string | null = null) => ({
        topic,
        partition,
        offset,
        leaderEpoch: 3,
        metadata,
        commitTimestamp,
      });

      it('commits, overwrites and fetches offsets per group, durably', async () => {
        await store.groupOffsets.commit('g1', [at('b', 1, 10n, 1000, 'meta'), at('a', 0, 5n)]);
        await store.groupOffsets.commit('g1', [at('a', 0, 7n, 2000)]);
        await store.groupOffsets.commit('g2', [at('a', 0, 99n)]);
        const again = await reopen();
        expect(await again.groupOffsets.fetch('g1')).toEqual([at('a', 0, 7n, 2000), at('b', 1, 10n, 1000, 'meta')]);
        expect(await again.groupOffsets.fetch('g1', [{ topic: 'b', partition: 1 }, { topic: 'zz', partition: 0 }])).toEqual([at('b', 1, 10n, 1000, 'meta')]);
        expect(await again.groupOffsets.fetch('nobody')).toEqual([]);
        expect(await again.groupOffsets.listGroups()).toEqual(['g1', 'g2']);
      });

      it('deletes a group, single partitions, and offsets of a deleted topic', async () => {
        await store.topics.create({ name: 'gone', partitionCount: 1, configs: {} });
        await store.groupOffsets.commit('g', [at('gone', 0, 1n), at('kept', 0, 2n), at('kept', 1, 3n)]);
        await store.topics.delete('gone');
        expect((await store.groupOffsets.fetch('g')).map((o) => o.topic)).toEqual(['kept', 'kept']);
        await store.groupOffsets.deleteOffsets('g', [{ topic: 'kept', partition: 1 }]);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('kept', 0, 2n)]);
        expect(await store.groupOffsets.deleteGroup('g')).toBe(1);
        expect(await store.groupOffsets.listGroups()).toEqual([]);
      });

      it('keeps any Kafka string exactly: NUL and other control characters in group ids and commit metadata', async () => {
        const group = 'grp\u0000with\u0001nul\u00ff\u{1F600}';
        const meta = 'Hello\u0000world!\u0001\u0002';
        await store.groupOffsets.commit(group, [at('t', 0, 4n, 1000, meta), at('t', 1, 5n, 1000, '')]);
        const again = await reopen();
        expect(await again.groupOffsets.fetch(group)).toEqual([at('t', 0, 4n, 1000, meta), at('t', 1, 5n, 1000, '')]);
        expect(await again.groupOffsets.fetch(group, [{ topic: 't', partition: 0 }])).toEqual([at('t', 0, 4n, 1000, meta)]);
        expect(await again.groupOffsets.fetch('grp')).toEqual([]);
        expect(await again.groupOffsets.listGroups()).toEqual([group]);
        await again.groupOffsets.deleteOffsets(group, [{ topic: 't', partition: 1 }]);
        expect(await again.groupOffsets.expire([group], 2000)).toBe(1);
        expect(await again.groupOffsets.listGroups()).toEqual([]);
      });

      it('expires only old offsets of the listed groups', async () => {
        await store.groupOffsets.commit('old', [at('t', 0, 1n, 100), at('t', 1, 2n, 5000)]);
        await store.groupOffsets.commit('other', [at('t', 0, 1n, 100)]);
        expect(await store.groupOffsets.expire(['old'], 1000)).toBe(1);
        expect(await store.groupOffsets.fetch('old')).toEqual([at('t', 1, 2n, 5000)]);
        expect(await store.groupOffsets.fetch('other')).toHaveLength(1);
      });
    });

    describe('cluster', () => {
      it('keeps dynamic broker configs per scope: set, overwrite, remove, durably', async () => {
        expect(await store.cluster.listBrokerConfigs()).toEqual([]);
        await store.cluster.alterBrokerConfigs('', { 'log.retention.ms': '1000', 'num.partitions': '3' });
        await store.cluster.alterBrokerConfigs('2', { 'log.retention.ms': '2000' });
        await store.cluster.alterBrokerConfigs('', { 'num.partitions': null, 'message.max.bytes': '5000', 'log.retention.ms': '1500' });
        await store.cluster.alterBrokerConfigs('3', { 'never.set': null });
        const again = await reopen();
        expect(await again.cluster.listBrokerConfigs()).toEqual([
          { scope: '', name: 'log.retention.ms', value: '1500' },
          { scope: '', name: 'message.max.bytes', value: '5000' },
          { scope: '2', name: 'log.retention.ms', value: '2000' },
        ]);
      });

      it('has a 22-character base64url id that never changes, even across reopen', async () => {
        const id = await store.cluster.getClusterId();
        expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(await store.cluster.getClusterId()).toBe(id);
        const again = await reopen();
        expect(await again.cluster.getClusterId()).toBe(id);
      });

      it('gives every new database its own id', async () => {
        const other = await createDatabase();
        const otherStore = await other.open();
        try {
          expect(await otherStore.cluster.getClusterId()).not.toBe(await store.cluster.getClusterId());
        } finally {
          await otherStore.close();
          await other.destroy();
        }
      });
    });

    describe('topics', () => {
      it('creates a topic with a v4 UUID, its configs and zeroed partitions', async () => {
        const before = Date.now();
        const topic = await store.topics.create({ name: 'orders', partitionCount: 3, configs: { 'retention.ms': '1000' } });
        const after = Date.now();
        expect(topic.id).toMatch(UUID_V4);
        expect(topic).toEqual({
          id: topic.id,
          name: 'orders',
          partitionCount: 3,
          configs: { 'retention.ms': '1000' },
          createdAt: topic.createdAt,
        });
        // Wide margin: a server-side clock may differ slightly from the test's.
        expect(topic.createdAt).toBeGreaterThanOrEqual(before - 60_000);
        expect(topic.createdAt).toBeLessThanOrEqual(after + 60_000);
        expect(await store.topics.get('orders')).toEqual(topic);
        expect(await store.partitions.list('orders')).toEqual([0, 1, 2].map((partition) => ({
          topic: 'orders',
          partition,
          highWatermark: 0n,
          logStartOffset: 0n,
        })));
      });

      it('gives each topic its own id', async () => {
        const a = await store.topics.create({ name: 'a', partitionCount: 1, configs: {} });
        const b = await store.topics.create({ name: 'b', partitionCount: 1, configs: {} });
        expect(a.id).not.toBe(b.id);
      });

      it('refuses a second topic with the same name and keeps the first', async () => {
        const first = await store.topics.create({ name: 'orders', partitionCount: 2, configs: { a: '1' } });
        const err = await expectCode(
          store.topics.create({ name: 'orders', partitionCount: 5, configs: {} }),
          'TOPIC_ALREADY_EXISTS',
        );
        expect(err.message).toContain('orders');
        expect(await store.topics.get('orders')).toEqual(first);
        expect(await store.partitions.list('orders')).toHaveLength(2);
      });

      it('refuses partition counts that are not positive integers', async () => {
        await expectCode(store.topics.create({ name: 'zero', partitionCount: 0, configs: {} }), 'INVALID_PARTITIONS');
        await expectCode(store.topics.create({ name: 'half', partitionCount: 1.5, configs: {} }), 'INVALID_PARTITIONS');
        await expectCode(store.topics.create({ name: 'neg', partitionCount: -1, configs: {} }), 'INVALID_PARTITIONS');
        expect(await store.topics.list()).toEqual([]);
      });

      it('refuses an empty name', async () => {
        await expectCode(store.topics.create({ name: '', partitionCount: 1, configs: {} }), 'INVALID_ARGUMENT');
      });

      it('gets by name and by id, and answers undefined for unknown ones', async () => {
        const topic = await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
        expect(await store.topics.getById(topic.id)).toEqual(topic);
        expect(await store.topics.get('missing')).toBeUndefined();
        expect(await store.topics.getById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
      });

      it('lists topics ordered by name with their configs', async () => {
        const b = await store.topics.create({ name: 'beta', partitionCount: 2, configs: { x: '1', y: '2' } });
        const a = await store.topics.create({ name: 'alpha', partitionCount: 1, configs: {} });
        const c = await store.topics.create({ name: 'gamma', partitionCount: 4, configs: { z: '3' } });
        expect(await store.topics.list()).toEqual([a, b, c]);
      });

      it('sets, overwrites and deletes configs', async () => {
        await store.topics.create({ name: 'orders', partitionCount: 1, configs: { a: '1', b: '2' } });
        expect(await store.topics.setConfigs('orders', { a: '10', c: '3', b: null, missing: null })).toEqual({
          a: '10',
          c: '3',
        });
        expect((await store.topics.get('orders'))?.configs).toEqual({ a: '10', c: '3' });
        expect(await store.topics.setConfigs('orders', {})).toEqual({ a: '10', c: '3' });
        await expectCode(store.topics.setConfigs('missing', { a: '1' }), 'UNKNOWN_TOPIC_OR_PARTITION');
      });

      it('adds partitions starting empty and leaves existing ones alone', async () => {
        const created = await store.topics.create({ name: 'orders', partitionCount: 2, configs: { a: '1' } });
        await store.partitions.commitFlush(singleChunkFlush('o1', 'orders', 1, 0n, 5n, 10n));
        const grown = await store.topics.addPartitions('orders', 4);
        expect(grown).toEqual({ ...created, partitionCount: 4 });
        expect(await store.topics.get('orders')).toEqual(grown);
        expect(await store.partitions.list('orders')).toEqual([
          { topic: 'orders', partition: 0, highWatermark: 0n, logStartOffset: 0n },
          { topic: 'orders', partition: 1, highWatermark: 5n, logStartOffset: 0n },
          { topic: 'orders', partition: 2, highWatermark: 0n, logStartOffset: 0n },
          { topic: 'orders', partition: 3, highWatermark: 0n, logStartOffset: 0n },
        ]);
      });

      it('refuses to add partitions unless the count grows', async () => {
        await store.topics.create({ name: 'orders', partitionCount: 3, configs: {} });
        await expectCode(store.topics.addPartitions('orders', 3), 'INVALID_PARTITIONS');
        await expectCode(store.topics.addPartitions('orders', 2), 'INVALID_PARTITIONS');
        await expectCode(store.topics.addPartitions('missing', 5), 'UNKNOWN_TOPIC_OR_PARTITION');
        expect((await store.topics.get('orders'))?.partitionCount).toBe(3);
        expect(await store.partitions.list('orders')).toHaveLength(3);
      });

      it('deletes a topic with its partitions, chunks and producer states, returning orphaned objects', async () => {
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: { a: '1' } });
        await store.topics.create({ name: 'audit', partitionCount: 1, configs: {} });
        // 'only-orders' holds chunks of orders alone; 'shared' also holds a chunk of audit.
        await store.partitions.commitFlush({
          objectKey: 'only-orders',
          objectSize: 200,
          chunks: [chunk('orders', 0, 0n, 2n, 10n, 0, 100), chunk('orders', 1, 0n, 0n, 10n, 100, 100)],
          partitions: [update('orders', 0, 0n, 3n), update('orders', 1, 0n, 1n)],
          producerStates: [
            { topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 0, batches: [], txnFirstOffset: null },
          ],
        });
        await store.partitions.commitFlush({
          objectKey: 'shared',
          objectSize: 200,
          chunks: [chunk('orders', 0, 3n, 3n, 20n, 0, 100), chunk('audit', 0, 0n, 0n, 20n, 100, 100)],
          partitions: [update('orders', 0, 3n, 4n), update('audit', 0, 0n, 1n)],
          producerStates: [],
        });
        const id = (await store.topics.get('orders'))?.id ?? '';

        expect(await store.topics.delete('orders')).toEqual(['only-orders']);

        expect(await store.topics.get('orders')).toBeUndefined();
        expect(await store.topics.getById(id)).toBeUndefined();
        expect(await store.partitions.list('orders')).toEqual([]);
        expect(await store.chunks.findChunks('orders', 0, 0n, 10)).toEqual([]);
        expect(await store.producers.getStates('orders', 0)).toEqual([]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['shared']));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual(['only-orders']);
        expect((await store.topics.list()).map((t) => t.name)).toEqual(['audit']);
        expect(await store.partitions.get('audit', 0)).toEqual({
          topic: 'audit',
          partition: 0,
          highWatermark: 1n,
          logStartOffset: 0n,
        });
      });

      it('refuses to delete an unknown topic', async () => {
        await expectCode(store.topics.delete('missing'), 'UNKNOWN_TOPIC_OR_PARTITION');
      });

      it('re-creates a deleted topic name as a new, empty topic', async () => {
        const old = await store.topics.create({ name: 'orders', partitionCount: 1, configs: { a: '1' } });
        await store.partitions.commitFlush(singleChunkFlush('o1', 'orders', 0, 0n, 5n, 10n));
        expect(await store.topics.delete('orders')).toEqual(['o1']);
        const fresh = await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
        expect(fresh.id).not.toBe(old.id);
        expect(fresh.configs).toEqual({});
        expect(await store.partitions.get('orders', 0)).toEqual({
          topic: 'orders',
          partition: 0,
          highWatermark: 0n,
          logStartOffset: 0n,
        });
        expect(await store.chunks.findChunks('orders', 0, 0n, 10)).toEqual([]);
      });
    });

    describe('partitions and the flush commit', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
        await store.topics.create({ name: 'audit', partitionCount: 1, configs: {} });
      });

      it('answers undefined or empty for unknown partitions', async () => {
        expect(await store.partitions.get('orders', 2)).toBeUndefined();
        expect(await store.partitions.get('missing', 0)).toBeUndefined();
        expect(await store.partitions.list('missing')).toEqual([]);
      });

      it('commits chunks of several partitions and topics in one object', async () => {
        await store.partitions.commitFlush({
          objectKey: 'obj-1',
          objectSize: 300,
          chunks: [
            chunk('orders', 0, 0n, 4n, 1_700_000_000_005n, 0, 120),
            chunk('orders', 1, 0n, 1n, 1_700_000_000_001n, 120, 80),
            chunk('audit', 0, 0n, 9n, 1_700_000_000_009n, 200, 100),
          ],
          partitions: [update('orders', 0, 0n, 5n), update('orders', 1, 0n, 2n), update('audit', 0, 0n, 10n)],
          producerStates: [],
        });
        expect(await store.partitions.list('orders')).toEqual([
          { topic: 'orders', partition: 0, highWatermark: 5n, logStartOffset: 0n },
          { topic: 'orders', partition: 1, highWatermark: 2n, logStartOffset: 0n },
        ]);
        expect(await store.partitions.get('audit', 0)).toEqual({
          topic: 'audit',
          partition: 0,
          highWatermark: 10n,
          logStartOffset: 0n,
        });
        expect(await store.chunks.findChunks('orders', 1, 0n, 10)).toEqual([
          {
            objectKey: 'obj-1',
            byteOffset: 120,
            byteLength: 80,
            baseOffset: 0n,
            lastOffset: 1n,
            maxTimestamp: 1_700_000_000_001n,
            recordCount: 2,
          },
        ]);
        expect(await store.chunks.findChunks('audit', 0, 0n, 10)).toEqual([
          {
            objectKey: 'obj-1',
            byteOffset: 200,
            byteLength: 100,
            baseOffset: 0n,
            lastOffset: 9n,
            maxTimestamp: 1_700_000_000_009n,
            recordCount: 10,
          },
        ]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['obj-1']));
      });

      it('accepts several chunks of one partition when they are contiguous', async () => {
        await store.partitions.commitFlush({
          objectKey: 'obj',
          objectSize: 100,
          // Given out of order on purpose: the store orders them itself.
          chunks: [chunk('orders', 0, 3n, 5n, 30n, 50, 50), chunk('orders', 0, 0n, 2n, 20n, 0, 50)],
          partitions: [update('orders', 0, 0n, 6n)],
          producerStates: [],
        });
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => [c.baseOffset, c.lastOffset])).toEqual([
          [0n, 2n],
          [3n, 5n],
        ]);
      });

      it('fences a commit whose expected HWM is stale and writes nothing of it', async () => {
        await store.partitions.commitFlush(singleChunkFlush('first', 'orders', 1, 0n, 3n, 10n));
        const stale: FlushCommit = {
          objectKey: 'stale',
          objectSize: 200,
          chunks: [chunk('orders', 0, 0n, 0n, 10n, 0, 100), chunk('orders', 1, 0n, 1n, 10n, 100, 100)],
          partitions: [update('orders', 0, 0n, 1n), update('orders', 1, 0n, 2n)],
          producerStates: [{ topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 0, batches: [], txnFirstOffset: null }],
        };
        const err = await expectCode(store.partitions.commitFlush(stale), 'FENCED');
        expect(err).toBeInstanceOf(FencedError);
        expect((err as FencedError).partitions).toEqual([
          { topic: 'orders', partition: 1, expectedHighWatermark: 0n, actualHighWatermark: 3n },
        ]);
        expect(err.message).toContain('orders-1');
        // The healthy partition in the same commit was not touched either.
        expect(await store.partitions.get('orders', 0)).toEqual({
          topic: 'orders',
          partition: 0,
          highWatermark: 0n,
          logStartOffset: 0n,
        });
        expect(await store.chunks.findChunks('orders', 0, 0n, 10)).toEqual([]);
        expect((await store.chunks.findChunks('orders', 1, 0n, 10)).map((c) => c.objectKey)).toEqual(['first']);
        expect(await store.producers.getStates('orders', 0)).toEqual([]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['first']));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
      });

      it('names every fenced partition, including ones that no longer exist', async () => {
        await store.partitions.commitFlush(singleChunkFlush('first', 'orders', 0, 0n, 2n, 10n));
        await store.topics.create({ name: 'gone', partitionCount: 1, configs: {} });
        await store.topics.delete('gone');
        const err = await expectCode(
          store.partitions.commitFlush({
            objectKey: 'stale',
            objectSize: 0,
            chunks: [],
            partitions: [update('orders', 0, 1n, 1n), update('audit', 0, 0n, 0n), update('gone', 0, 0n, 0n), update('orders', 7, 0n, 0n)],
            producerStates: [],
          }),
          'FENCED',
        );
        expect((err as FencedError).partitions).toEqual([
          { topic: 'orders', partition: 0, expectedHighWatermark: 1n, actualHighWatermark: 2n },
          { topic: 'gone', partition: 0, expectedHighWatermark: 0n, actualHighWatermark: undefined },
          { topic: 'orders', partition: 7, expectedHighWatermark: 0n, actualHighWatermark: undefined },
        ]);
        expect(await store.partitions.get('orders', 0)).toEqual({
          topic: 'orders',
          partition: 0,
          highWatermark: 2n,
          logStartOffset: 0n,
        });
      });

      it('lets exactly one of two racing commits with the same expected HWM win (one connection)', async () => {
        const results = await Promise.allSettled([
          store.partitions.commitFlush(singleChunkFlush('racer-a', 'orders', 0, 0n, 3n, 10n)),
          store.partitions.commitFlush(singleChunkFlush('racer-b', 'orders', 0, 0n, 5n, 10n)),
        ]);
        await expectOneWinner(results, ['racer-a', 'racer-b'], [3n, 5n]);
      });

      it('lets exactly one of two racing commits with the same expected HWM win (two connections)', async () => {
        const second = await openStore();
        const results = await Promise.allSettled([
          store.partitions.commitFlush(singleChunkFlush('racer-a', 'orders', 0, 0n, 3n, 10n)),
          second.partitions.commitFlush(singleChunkFlush('racer-b', 'orders', 0, 0n, 5n, 10n)),
        ]);
        await expectOneWinner(results, ['racer-a', 'racer-b'], [3n, 5n]);
        expect(await second.partitions.get('orders', 0)).toEqual(await store.partitions.get('orders', 0));
      });

      async function expectOneWinner(
        results: PromiseSettledResult<void>[],
        keys: readonly string[],
        hwms: readonly bigint[],
      ): Promise<void> {
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        const winner = results.findIndex((r) => r.status === 'fulfilled');
        const loser = results[1 - winner];
        expect(loser?.status === 'rejected' ? loser.reason : undefined).toBeInstanceOf(FencedError);
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(hwms[winner]);
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.objectKey)).toEqual([keys[winner]]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set([keys[winner]]));
      }

      it('appends after earlier commits and fences a writer replaying an old HWM', async () => {
        await store.partitions.commitFlush(singleChunkFlush('o1', 'orders', 0, 0n, 3n, 10n));
        await store.partitions.commitFlush(singleChunkFlush('o2', 'orders', 0, 3n, 2n, 20n));
        await expectCode(store.partitions.commitFlush(singleChunkFlush('o3', 'orders', 0, 3n, 2n, 20n)), 'FENCED');
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(5n);
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['o1', 'o2']);
      });

      it('accepts and ignores a lease epoch on partition updates', async () => {
        const commit = singleChunkFlush('o1', 'orders', 0, 0n, 1n, 10n);
        await store.partitions.commitFlush({
          ...commit,
          partitions: commit.partitions.map((p) => ({ ...p, leaseEpoch: 7 })),
        });
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(1n);
      });

      it('refuses a second commit with an object key already recorded, writing nothing', async () => {
        await store.partitions.commitFlush(singleChunkFlush('dup', 'orders', 0, 0n, 1n, 10n));
        await expectCode(store.partitions.commitFlush(singleChunkFlush('dup', 'orders', 1, 0n, 1n, 10n)), 'OBJECT_ALREADY_EXISTS');
        expect((await store.partitions.get('orders', 1))?.highWatermark).toBe(0n);
        expect(await store.chunks.findChunks('orders', 1, 0n, 10)).toEqual([]);
      });

      it('refuses malformed commits without writing anything', async () => {
        const base = singleChunkFlush('bad', 'orders', 0, 0n, 3n, 10n);
        const malformed: FlushCommit[] = [
          { ...base, objectKey: '' },
          { ...base, objectSize: -1 },
          // chunk without a partition update
          { ...base, partitions: [] },
          // the same partition twice
          { ...base, partitions: [update('orders', 0, 0n, 3n), update('orders', 0, 0n, 3n)] },
          // HWM moving backwards
          { ...base, chunks: [], partitions: [update('orders', 0, 3n, 2n)] },
          // gap between the expected HWM and the first chunk
          { ...base, partitions: [update('orders', 0, 0n, 4n)], chunks: [chunk('orders', 0, 1n, 3n, 10n, 0, 100)] },
          // chunks ending before the new HWM
          { ...base, partitions: [update('orders', 0, 0n, 5n)] },
          // overlapping chunks
          {
            ...base,
            chunks: [chunk('orders', 0, 0n, 2n, 10n, 0, 50), chunk('orders', 0, 2n, 2n, 10n, 50, 50)],
            partitions: [update('orders', 0, 0n, 3n)],
          },
          // last offset before base offset
          { ...base, chunks: [chunk('orders', 0, 0n, -1n, 10n, 0, 100)], partitions: [update('orders', 0, 0n, 0n)] },
          // chunk outside the object
          { ...base, chunks: [chunk('orders', 0, 0n, 2n, 10n, 50, 51)] },
          // producer state for a partition not in the commit
          { ...base, producerStates: [{ topic: 'orders', partition: 1, producerId: 1000n, producerEpoch: 0, batches: [], txnFirstOffset: null }] },
          // the same producer twice for one partition
          {
            ...base,
            producerStates: [
              { topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 0, batches: [], txnFirstOffset: null },
              { topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 1, batches: [], txnFirstOffset: null },
            ],
          },
        ];
        for (const commit of malformed) {
          await expectCode(store.partitions.commitFlush(commit), 'INVALID_ARGUMENT');
        }
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(0n);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set());
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
      });

      it('commits 1,000 partitions in one transaction', async () => {
        await store.topics.create({ name: 'wide', partitionCount: 1000, configs: {} });
        const partitions = Array.from({ length: 1000 }, (_, p) => p);
        await store.partitions.commitFlush({
          objectKey: 'wide-1',
          objectSize: 10_000,
          chunks: partitions.map((p) => chunk('wide', p, 0n, BigInt(p), 5n, p * 10, 10)),
          partitions: partitions.map((p) => update('wide', p, 0n, BigInt(p) + 1n)),
          producerStates: partitions.map((p) => ({
            topic: 'wide',
            partition: p,
            producerId: 1000n + BigInt(p),
            producerEpoch: 0,
            batches: [{ firstSequence: 0, lastSequence: p, baseOffset: 0n, lastOffset: BigInt(p) }],
            txnFirstOffset: p % 2 === 0 ? null : 0n,
          })),
        });
        const states = await store.partitions.list('wide');
        expect(states.map((s) => s.highWatermark)).toEqual(partitions.map((p) => BigInt(p) + 1n));
        expect(await store.chunks.findChunks('wide', 999, 0n, 10)).toEqual([
          {
            objectKey: 'wide-1',
            byteOffset: 9990,
            byteLength: 10,
            baseOffset: 0n,
            lastOffset: 999n,
            maxTimestamp: 5n,
            recordCount: 1000,
          },
        ]);
        expect((await store.producers.getStates('wide', 500))[0]?.producerId).toBe(1500n);
        expect((await store.producers.getStates('wide', 500))[0]?.txnFirstOffset).toBe(null);
        expect((await store.producers.getStates('wide', 501))[0]?.txnFirstOffset).toBe(0n);
      });
    });

    describe('concurrency', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 10, configs: {} });
        await store.topics.create({ name: 'audit', partitionCount: 1, configs: {} });
      });

      it('lets exactly one of two overlapping multi-partition commits win, whatever order they list partitions in', async () => {
        const second = await openStore();
        const targets: Array<[string, number]> = [
          ['orders', 0],
          ['orders', 1],
          ['audit', 0],
        ];
        let hwm = 0n;
        for (let round = 0; round < 5; round++) {
          const commitFor = (key: string, order: ReadonlyArray<[string, number]>, count: bigint): FlushCommit => ({
            objectKey: key,
            objectSize: 300,
            chunks: order.map(([t, p], i) => chunk(t, p, hwm, hwm + count - 1n, 10n, i * 100, 100)),
            partitions: order.map(([t, p]) => update(t, p, hwm, hwm + count)),
            producerStates: [],
          });
          const results = await Promise.allSettled([
            store.partitions.commitFlush(commitFor(`a${round}`, targets, 2n)),
            second.partitions.commitFlush(commitFor(`b${round}`, [...targets].reverse(), 3n)),
          ]);
          expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
          const winner = results[0]?.status === 'fulfilled' ? 0 : 1;
          const loser = results[1 - winner];
          const reason: unknown = loser?.status === 'rejected' ? loser.reason : undefined;
          expect(reason).toBeInstanceOf(FencedError);
          // The loser names every partition of its commit: all of them moved.
          expect((reason as FencedError).partitions).toHaveLength(3);
          hwm += winner === 0 ? 2n : 3n;
          for (const [t, p] of targets) expect((await second.partitions.get(t, p))?.highWatermark).toBe(hwm);
        }
        const winners = (await store.chunks.findChunks('audit', 0, 0n, 100)).map((c) => c.objectKey);
        expect(winners).toHaveLength(5);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(winners));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
      });

      it('keeps the log contiguous when several writers race on one partition, retrying when fenced', async () => {
        const writers = [store, await openStore(), await openStore()];
        const write = async (w: MetadataStore, id: number): Promise<void> => {
          for (let n = 0; n < 5; ) {
            const hwm = (await w.partitions.get('orders', 0))?.highWatermark ?? -1n;
            try {
              await w.partitions.commitFlush(singleChunkFlush(`w${id}-${n}`, 'orders', 0, hwm, BigInt(id + 1), 10n));
              n++;
            } catch (err) {
              if (!(err instanceof FencedError)) throw err;
            }
          }
        };
        await Promise.all(writers.map((w, id) => write(w, id)));
        // 5 commits of 1, 2 and 3 records.
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(30n);
        const chunks = await store.chunks.findChunks('orders', 0, 0n, 100);
        expect(chunks).toHaveLength(15);
        let next = 0n;
        for (const c of chunks) {
          expect(c.baseOffset).toBe(next);
          next = c.lastOffset + 1n;
        }
        expect(next).toBe(30n);
      });

      it('commits to different partitions in parallel without fencing each other', async () => {
        const second = await openStore();
        await Promise.all(
          Array.from({ length: 10 }, (_, p) =>
            (p % 2 === 0 ? store : second).partitions.commitFlush(singleChunkFlush(`p${p}`, 'orders', p, 0n, BigInt(p + 1), 10n)),
          ),
        );
        expect((await store.partitions.list('orders')).map((s) => s.highWatermark)).toEqual(
          Array.from({ length: 10 }, (_, p) => BigInt(p + 1)),
        );
      });

      it('either commits before a racing topic delete or is fenced by it, never leaving index rows behind', async () => {
        const second = await openStore();
        for (let round = 0; round < 3; round++) {
          if (round > 0) await store.topics.create({ name: 'orders', partitionCount: 10, configs: {} });
          const [commit, deleted] = await Promise.allSettled([
            second.partitions.commitFlush({
              objectKey: `race-${round}`,
              objectSize: 200,
              chunks: [chunk('orders', 3, 0n, 0n, 10n, 0, 100), chunk('orders', 7, 0n, 0n, 10n, 100, 100)],
              partitions: [update('orders', 3, 0n, 1n), update('orders', 7, 0n, 1n)],
              producerStates: [],
            }),
            store.topics.delete('orders'),
          ]);
          expect(deleted.status).toBe('fulfilled');
          if (commit.status === 'fulfilled') {
            expect(deleted.status === 'fulfilled' ? deleted.value : undefined).toEqual([`race-${round}`]);
          } else {
            expect(commit.reason).toBeInstanceOf(FencedError);
            expect((commit.reason as FencedError).partitions.map((p) => p.actualHighWatermark)).toEqual([undefined, undefined]);
          }
          expect(await store.partitions.list('orders')).toEqual([]);
          expect(await store.objects.listReferencedKeys()).toEqual(new Set());
        }
      });

      it('migrates a fresh database exactly once when several stores open it at once', async () => {
        const fresh = await createDatabase();
        const stores = await Promise.all(Array.from({ length: 4 }, () => fresh.open()));
        try {
          const ids = await Promise.all(stores.map((s) => s.cluster.getClusterId()));
          expect(new Set(ids).size).toBe(1);
          await stores[0]?.topics.create({ name: 'shared', partitionCount: 2, configs: {} });
          expect((await stores[3]?.topics.get('shared'))?.partitionCount).toBe(2);
          const producerIds = await Promise.all(stores.map((s) => s.producers.allocateProducerId()));
          expect([...producerIds].sort((a, b) => (a < b ? -1 : 1))).toEqual([1000n, 1001n, 1002n, 1003n]);
        } finally {
          for (const s of stores) await s.close();
          await fresh.destroy();
        }
      });
    });

    describe('ordering', () => {
      // Byte order (what SQLite and COLLATE "C" give), not a locale's order, in which
      // "_z" < "a" < "A_" < "b" < "B".
      it('orders topic names, group ids, topics in groups and object keys by bytes', async () => {
        for (const name of ['b', 'B', 'a', 'A_', '_z']) await store.topics.create({ name, partitionCount: 1, configs: {} });
        expect((await store.topics.list()).map((t) => t.name)).toEqual(['A_', 'B', '_z', 'a', 'b']);

        const at = (topic: string) => ({ topic, partition: 0, offset: 1n, leaderEpoch: -1, metadata: null, commitTimestamp: 1 });
        for (const group of ['g-b', 'G-a', 'g-A']) await store.groupOffsets.commit(group, [at('b'), at('B'), at('_z')]);
        expect(await store.groupOffsets.listGroups()).toEqual(['G-a', 'g-A', 'g-b']);
        expect((await store.groupOffsets.fetch('g-b')).map((o) => o.topic)).toEqual(['B', '_z', 'b']);

        for (const [i, key] of ['k-b', 'k-B', 'k-_'].entries()) {
          await store.partitions.commitFlush(singleChunkFlush(key, 'a', 0, BigInt(i), 1n, 10n));
        }
        await store.partitions.advanceLogStart('a', 0, 3n);
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual(['k-B', 'k-_', 'k-b']);
      });
    });

    describe('log start', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
        // Chunks [0..4] [5..9] [10..14], HWM 15.
        for (const [i, from] of [0n, 5n, 10n].entries()) {
          await store.partitions.commitFlush(singleChunkFlush(`o${i}`, 'orders', 0, from, 5n, 100n + from));
        }
      });

      it('moves forward, drops chunks wholly below it and keeps the chunk it falls inside', async () => {
        expect(await store.partitions.advanceLogStart('orders', 0, 7n)).toBe(7n);
        expect(await store.partitions.get('orders', 0)).toEqual({
          topic: 'orders',
          partition: 0,
          highWatermark: 15n,
          logStartOffset: 7n,
        });
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.baseOffset)).toEqual([5n, 10n]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['o1', 'o2']));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual(['o0']);
      });

      it('never moves backwards', async () => {
        await store.partitions.advanceLogStart('orders', 0, 10n);
        expect(await store.partitions.advanceLogStart('orders', 0, 3n)).toBe(10n);
        expect(await store.partitions.advanceLogStart('orders', 0, 10n)).toBe(10n);
        expect((await store.partitions.get('orders', 0))?.logStartOffset).toBe(10n);
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.baseOffset)).toEqual([10n]);
      });

      it('may reach the HWM but never pass it', async () => {
        const err = await expectCode(store.partitions.advanceLogStart('orders', 0, 16n), 'OFFSET_OUT_OF_RANGE');
        expect(err.message).toContain('orders-0');
        expect((await store.partitions.get('orders', 0))?.logStartOffset).toBe(0n);
        expect(await store.partitions.advanceLogStart('orders', 0, 15n)).toBe(15n);
        expect(await store.chunks.findChunks('orders', 0, 0n, 10)).toEqual([]);
        expect(await store.chunks.findChunkByTimestamp('orders', 0, 0n)).toBeUndefined();
        // Appending continues at the HWM.
        await store.partitions.commitFlush(singleChunkFlush('o3', 'orders', 0, 15n, 1n, 200n));
        expect((await store.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['o3']);
      });

      it('refuses unknown partitions', async () => {
        await expectCode(store.partitions.advanceLogStart('orders', 1, 0n), 'UNKNOWN_TOPIC_OR_PARTITION');
        await expectCode(store.partitions.advanceLogStart('missing', 0, 0n), 'UNKNOWN_TOPIC_OR_PARTITION');
      });
    });

    describe('chunk replacement (compaction)', () => {
      const flushThree = async () => {
        await store.topics.create({ name: 'cmp', partitionCount: 1, configs: {} });
        await store.partitions.commitFlush(singleChunkFlush('o1', 'cmp', 0, 0n, 2n, 10n));
        await store.partitions.commitFlush(singleChunkFlush('o2', 'cmp', 0, 2n, 3n, 30n));
        await store.partitions.commitFlush(singleChunkFlush('o3', 'cmp', 0, 5n, 1n, 20n));
      };
      const replacement = (replaced: Array<[string, bigint, bigint]>, key = 'merged') => ({
        topic: 'cmp',
        partition: 0,
        replaced: replaced.map(([objectKey, baseOffset, lastOffset]) => ({ objectKey, baseOffset, lastOffset })),
        objectKey: key,
        objectSize: 500,
        chunk: { baseOffset: replaced[0]![1], lastOffset: replaced[replaced.length - 1]![2], maxTimestamp: 30n, recordCount: 5, byteOffset: 8, byteLength: 400 },
      });

      it('swaps consecutive chunks for one, and the old objects become unreferenced', async () => {
        await flushThree();
        await store.chunks.replace(replacement([['o1', 0n, 1n], ['o2', 2n, 4n]]));
        const rows = await store.chunks.findChunks('cmp', 0, 0n, 10);
        expect(rows.map((c) => [c.objectKey, c.baseOffset, c.lastOffset, c.byteOffset, c.byteLength])).toEqual([
          ['merged', 0n, 4n, 8, 400],
          ['o3', 5n, 5n, 0, 100],
        ]);
        expect((await store.chunks.findChunks('cmp', 0, 3n, 1))[0]!.objectKey).toBe('merged');
        const referenced = await store.objects.listReferencedKeys();
        expect([...referenced].sort()).toEqual(['merged', 'o3']);
        expect(await store.objects.listUnreferenced(Number.MAX_SAFE_INTEGER)).toEqual(['o1', 'o2']);
        expect((await store.partitions.get('cmp', 0))?.highWatermark).toBe(6n);
      });

      it('refuses, writing nothing, when a replaced chunk is gone or different', async () => {
        await flushThree();
        await store.partitions.advanceLogStart('cmp', 0, 2n);
        await expectCode(store.chunks.replace(replacement([['o1', 0n, 1n], ['o2', 2n, 4n]])), 'CHUNKS_CHANGED');
        await expectCode(store.chunks.replace(replacement([['wrong', 2n, 4n], ['o3', 5n, 5n]])), 'CHUNKS_CHANGED');
        expect((await store.chunks.findChunks('cmp', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['o2', 'o3']);
        expect([...(await store.objects.listReferencedKeys())].sort()).toEqual(['o2', 'o3']);
      });

      it('rejects replacements that do not cover the chunks exactly', async () => {
        await flushThree();
        await expectCode(store.chunks.replace({ ...replacement([['o1', 0n, 1n], ['o2', 2n, 4n]]), chunk: { baseOffset: 0n, lastOffset: 3n, maxTimestamp: 1n, recordCount: 1, byteOffset: 0, byteLength: 10 } }), 'INVALID_ARGUMENT');
        await expectCode(store.chunks.replace(replacement([['o1', 0n, 1n], ['o3', 5n, 5n]])), 'INVALID_ARGUMENT');
      });
    });

    describe('chunk index', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
        // Chunks [0..9] ts 500, [10..19] ts 300, [20..29] ts 900, [30..39] ts 700; HWM 40.
        const timestamps = [500n, 300n, 900n, 700n];
        for (const [i, ts] of timestamps.entries()) {
          const from = BigInt(i * 10);
          await store.partitions.commitFlush({
            objectKey: `o${i}`,
            objectSize: 1000,
            chunks: [chunk('orders', 0, from, from + 9n, ts, 100 * i, 100)],
            partitions: [update('orders', 0, from, from + 10n)],
            producerStates: [],
          });
        }
      });

      const bases = (chunks: readonly { baseOffset: bigint }[]): bigint[] => chunks.map((c) => c.baseOffset);

      it('finds chunks from an offset inside a chunk, in order, up to maxChunks', async () => {
        expect(await store.chunks.findChunks('orders', 0, 15n, 2)).toEqual([
          {
            objectKey: 'o1',
            byteOffset: 100,
            byteLength: 100,
            baseOffset: 10n,
            lastOffset: 19n,
            maxTimestamp: 300n,
            recordCount: 10,
          },
          {
            objectKey: 'o2',
            byteOffset: 200,
            byteLength: 100,
            baseOffset: 20n,
            lastOffset: 29n,
            maxTimestamp: 900n,
            recordCount: 10,
          },
        ]);
        expect(bases(await store.chunks.findChunks('orders', 0, 0n, 100))).toEqual([0n, 10n, 20n, 30n]);
        expect(bases(await store.chunks.findChunks('orders', 0, 9n, 100))).toEqual([0n, 10n, 20n, 30n]);
        expect(bases(await store.chunks.findChunks('orders', 0, 10n, 100))).toEqual([10n, 20n, 30n]);
        expect(bases(await store.chunks.findChunks('orders', 0, 39n, 100))).toEqual([30n]);
      });

      it('finds nothing at or past the HWM, nor for unknown partitions', async () => {
        expect(await store.chunks.findChunks('orders', 0, 40n, 10)).toEqual([]);
        expect(await store.chunks.findChunks('orders', 0, 1000n, 10)).toEqual([]);
        expect(await store.chunks.findChunks('orders', 1, 0n, 10)).toEqual([]);
        expect(await store.chunks.findChunks('missing', 0, 0n, 10)).toEqual([]);
      });

      it('refuses a maxChunks below one', async () => {
        await expectCode(store.chunks.findChunks('orders', 0, 0n, 0), 'INVALID_ARGUMENT');
      });

      it('finds the first chunk whose max timestamp reaches the target', async () => {
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 0n))?.baseOffset).toBe(0n);
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 500n))?.baseOffset).toBe(0n);
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 501n))?.baseOffset).toBe(20n);
        expect(await store.chunks.findChunkByTimestamp('orders', 0, 800n)).toEqual({
          objectKey: 'o2',
          byteOffset: 200,
          byteLength: 100,
          baseOffset: 20n,
          lastOffset: 29n,
          maxTimestamp: 900n,
          recordCount: 10,
        });
        expect(await store.chunks.findChunkByTimestamp('orders', 0, 901n)).toBeUndefined();
        expect(await store.chunks.findChunkByTimestamp('orders', 1, 0n)).toBeUndefined();
        expect(await store.chunks.findChunkByTimestamp('missing', 0, 0n)).toBeUndefined();
      });

      it('ignores chunks wholly below the log start in timestamp lookups', async () => {
        await store.partitions.advanceLogStart('orders', 0, 25n);
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 0n))?.baseOffset).toBe(20n);
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 800n))?.baseOffset).toBe(20n);
        await store.partitions.advanceLogStart('orders', 0, 30n);
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 800n))).toBeUndefined();
        expect((await store.chunks.findChunkByTimestamp('orders', 0, 0n))?.baseOffset).toBe(30n);
      });

      it('keeps int64 timestamps exact', async () => {
        await store.partitions.commitFlush(singleChunkFlush('big', 'orders', 1, 0n, 1n, INT64_MAX));
        expect((await store.chunks.findChunks('orders', 1, 0n, 1))[0]?.maxTimestamp).toBe(INT64_MAX);
        expect((await store.chunks.findChunkByTimestamp('orders', 1, INT64_MAX))?.objectKey).toBe('big');
        expect(await store.chunks.findChunkByTimestamp('orders', 1, INT64_MAX - 1n)).toBeDefined();
      });
    });

    describe('producers', () => {
      it('allocates monotonic ids from 1000 that survive reopen', async () => {
        expect(await store.producers.allocateProducerId()).toBe(1000n);
        expect(await store.producers.allocateProducerId()).toBe(1001n);
        const again = await reopen();
        expect(await again.producers.allocateProducerId()).toBe(1002n);
      });

      it('never hands the same id to two connections', async () => {
        const second = await openStore();
        const ids = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : second).producers.allocateProducerId()),
        );
        expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: 20 }, (_, i) => 1000n + BigInt(i)));
      });

      it('stores producer states with each commit, upserting and keeping the last 5 batches', async () => {
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
        const batch = (n: number) => ({
          firstSequence: n * 10,
          lastSequence: n * 10 + 9,
          baseOffset: BigInt(n * 10),
          lastOffset: BigInt(n * 10 + 9),
        });
        const big: ProducerPartitionState = {
          topic: 'orders',
          partition: 0,
          producerId: INT64_MAX,
          producerEpoch: 32767,
          batches: [batch(0)],
          txnFirstOffset: 3n,
        };
        await store.partitions.commitFlush({
          ...singleChunkFlush('o1', 'orders', 0, 0n, 10n, 10n),
          producerStates: [{ topic: 'orders', partition: 0, producerId: 1001n, producerEpoch: 0, batches: [batch(0)], txnFirstOffset: null }, big],
        });
        await store.partitions.commitFlush({
          ...singleChunkFlush('o2', 'orders', 0, 10n, 10n, 10n),
          producerStates: [
            {
              topic: 'orders',
              partition: 0,
              producerId: 1001n,
              producerEpoch: 3,
              batches: [batch(0), batch(1), batch(2), batch(3), batch(4), batch(5), batch(6)],
              txnFirstOffset: 12n,
            },
          ],
        });
        expect(await store.producers.getStates('orders', 0)).toEqual([
          {
            topic: 'orders',
            partition: 0,
            producerId: 1001n,
            producerEpoch: 3,
            batches: [batch(2), batch(3), batch(4), batch(5), batch(6)],
            txnFirstOffset: 12n,
          },
          big,
        ]);
        expect(await store.producers.getStates('orders', 1)).toEqual([]);
        expect(await store.producers.getStates('missing', 0)).toEqual([]);
      });
    });

    describe('objects', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
      });

      it('lists referenced keys and unreferenced objects older than a cutoff', async () => {
        expect(await store.objects.listReferencedKeys()).toEqual(new Set());
        const before = Date.now();
        await store.partitions.commitFlush(singleChunkFlush('b', 'orders', 0, 0n, 1n, 10n));
        await store.partitions.commitFlush(singleChunkFlush('a', 'orders', 0, 1n, 1n, 10n));
        await store.partitions.commitFlush(singleChunkFlush('c', 'orders', 0, 2n, 1n, 10n));
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['a', 'b', 'c']));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
        await store.partitions.advanceLogStart('orders', 0, 2n);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['c']));
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual(['a', 'b']);
        // Objects created after the cutoff are still inside their grace period.
        expect(await store.objects.listUnreferenced(before - 60_000)).toEqual([]);
      });

      it('forgets unreferenced objects only', async () => {
        await store.partitions.commitFlush(singleChunkFlush('a', 'orders', 0, 0n, 1n, 10n));
        await store.partitions.commitFlush(singleChunkFlush('b', 'orders', 0, 1n, 1n, 10n));
        const err = await expectCode(store.objects.forget('a'), 'OBJECT_STILL_REFERENCED');
        expect(err.message).toContain('"a"');
        await store.partitions.advanceLogStart('orders', 0, 1n);
        await store.objects.forget('a');
        await store.objects.forget('never-recorded');
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set(['b']));
      });

      it('names the newest recorded object, referenced or not, by creation time', async () => {
        expect(await store.objects.newest()).toBeUndefined();
        const clock = () => store.leases.now();
        const before = await clock();
        await store.partitions.commitFlush(singleChunkFlush('k1', 'orders', 0, 0n, 1n, 10n));
        const first = await store.objects.newest();
        expect(first?.key).toBe('k1');
        expect(first!.createdAt).toBeGreaterThanOrEqual(before);
        expect(first!.createdAt).toBeLessThanOrEqual(await clock());
        // keys grow with time here, so a tie in createdAt (same millisecond) names the same one
        await store.partitions.commitFlush(singleChunkFlush('k2', 'orders', 0, 1n, 1n, 10n));
        expect((await store.objects.newest())?.key).toBe('k2');
        // compaction records its object too
        await store.chunks.replace({
          topic: 'orders',
          partition: 0,
          replaced: [
            { objectKey: 'k1', baseOffset: 0n, lastOffset: 0n },
            { objectKey: 'k2', baseOffset: 1n, lastOffset: 1n },
          ],
          objectKey: 'k3',
          objectSize: 100,
          chunk: { baseOffset: 0n, lastOffset: 1n, maxTimestamp: 10n, recordCount: 2, byteOffset: 0, byteLength: 100 },
        });
        const compacted = await store.objects.newest();
        expect(compacted?.key).toBe('k3');
        expect(compacted!.createdAt).toBeGreaterThanOrEqual(first!.createdAt);
        // unreferenced objects still count until the collector forgets them
        await store.partitions.advanceLogStart('orders', 0, 2n);
        expect((await store.objects.newest())?.key).toBe('k3');
        await store.objects.forget('k3');
        expect((await store.objects.newest())?.key).toBe('k2');
        await store.objects.forget('k2');
        await store.objects.forget('k1');
        expect(await store.objects.newest()).toBeUndefined();
      });
    });

    describe('storage usage', () => {
      const usage = (topic: string, partition: number, chunks: number, objects: number, bytes: number, records: number) => ({
        topic,
        partition,
        chunks,
        objects,
        bytes,
        records,
      });

      it('answers empty lists and zeros for an empty store', async () => {
        expect(await store.chunks.usage()).toEqual([]);
        expect(await store.chunks.usage('missing')).toEqual([]);
        expect(await store.chunks.topicObjects()).toEqual([]);
        expect(await store.objects.totals()).toEqual({ objects: 0, bytes: 0, unreferencedObjects: 0 });
        await store.topics.create({ name: 'idle', partitionCount: 3, configs: {} });
        expect(await store.chunks.usage()).toEqual([]);
        expect(await store.chunks.usage('idle')).toEqual([]);
        expect(await store.chunks.topicObjects()).toEqual([]);
      });

      it('sums chunks per partition and counts distinct objects per partition, per topic and in total', async () => {
        await store.topics.create({ name: 'orders', partitionCount: 11, configs: {} });
        await store.topics.create({ name: 'audit', partitionCount: 1, configs: {} });
        await store.topics.create({ name: 'Zed', partitionCount: 1, configs: {} });
        await store.topics.create({ name: 'idle', partitionCount: 2, configs: {} });
        // f1 and f2 are flush objects shared by several partitions of two topics.
        await store.partitions.commitFlush({
          objectKey: 'f1',
          objectSize: 1000,
          chunks: [chunk('orders', 0, 0n, 4n, 10n, 0, 100), chunk('orders', 1, 0n, 1n, 10n, 100, 50), chunk('audit', 0, 0n, 9n, 10n, 150, 200)],
          partitions: [update('orders', 0, 0n, 5n), update('orders', 1, 0n, 2n), update('audit', 0, 0n, 10n)],
          producerStates: [],
        });
        await store.partitions.commitFlush({
          objectKey: 'f2',
          objectSize: 300,
          chunks: [chunk('orders', 0, 5n, 7n, 20n, 0, 120), chunk('orders', 10, 0n, 0n, 20n, 120, 40), chunk('audit', 0, 10n, 10n, 20n, 160, 30)],
          partitions: [update('orders', 0, 5n, 8n), update('orders', 10, 0n, 1n), update('audit', 0, 10n, 11n)],
          producerStates: [],
        });
        await store.partitions.commitFlush(singleChunkFlush('f3', 'orders', 0, 8n, 2n, 30n));
        await store.partitions.commitFlush(singleChunkFlush('z1', 'Zed', 0, 0n, 4n, 30n));

        // Topic names in byte order ('Z' < 'a'), partitions numerically (10 after 1).
        const ordersRows = [usage('orders', 0, 3, 3, 320, 10), usage('orders', 1, 1, 1, 50, 2), usage('orders', 10, 1, 1, 40, 1)];
        expect(await store.chunks.usage()).toEqual([usage('Zed', 0, 1, 1, 100, 4), usage('audit', 0, 2, 2, 230, 11), ...ordersRows]);
        expect(await store.chunks.usage('orders')).toEqual(ordersRows);
        expect(await store.chunks.usage('idle')).toEqual([]);
        expect(await store.chunks.usage('missing')).toEqual([]);
        // orders' partitions point into 3 + 1 + 1 objects, but only 3 distinct ones
        expect(await store.chunks.topicObjects()).toEqual([
          { topic: 'Zed', objects: 1 },
          { topic: 'audit', objects: 2 },
          { topic: 'orders', objects: 3 },
        ]);
        expect(await store.objects.totals()).toEqual({ objects: 4, bytes: 1500, unreferencedObjects: 0 });

        // Compaction merges orders-0's chunks in f2 and f3: f3 is left unreferenced, f2 is
        // still read by orders-10 and audit-0.
        await store.chunks.replace({
          topic: 'orders',
          partition: 0,
          replaced: [
            { objectKey: 'f2', baseOffset: 5n, lastOffset: 7n },
            { objectKey: 'f3', baseOffset: 8n, lastOffset: 9n },
          ],
          objectKey: 'm1',
          objectSize: 250,
          chunk: { baseOffset: 5n, lastOffset: 9n, maxTimestamp: 30n, recordCount: 5, byteOffset: 10, byteLength: 200 },
        });
        expect(await store.chunks.usage('orders')).toEqual([usage('orders', 0, 2, 2, 300, 10), usage('orders', 1, 1, 1, 50, 2), usage('orders', 10, 1, 1, 40, 1)]);
        expect(await store.chunks.topicObjects()).toEqual([
          { topic: 'Zed', objects: 1 },
          { topic: 'audit', objects: 2 },
          { topic: 'orders', objects: 3 },
        ]);
        expect(await store.objects.totals()).toEqual({ objects: 5, bytes: 1750, unreferencedObjects: 1 });

        // Retention drops orders-0's chunk in f1; f1 is still read by orders-1 and audit-0.
        await store.partitions.advanceLogStart('orders', 0, 5n);
        expect(await store.chunks.usage('orders')).toEqual([usage('orders', 0, 1, 1, 200, 5), usage('orders', 1, 1, 1, 50, 2), usage('orders', 10, 1, 1, 40, 1)]);
        expect(await store.objects.totals()).toEqual({ objects: 5, bytes: 1750, unreferencedObjects: 1 });

        // A deleted topic disappears; objects only it read become unreferenced.
        expect(await store.topics.delete('audit')).toEqual([]);
        expect(await store.topics.delete('Zed')).toEqual(['z1']);
        expect(await store.chunks.usage()).toEqual([usage('orders', 0, 1, 1, 200, 5), usage('orders', 1, 1, 1, 50, 2), usage('orders', 10, 1, 1, 40, 1)]);
        expect(await store.chunks.usage('audit')).toEqual([]);
        expect(await store.chunks.topicObjects()).toEqual([{ topic: 'orders', objects: 3 }]);
        expect(await store.objects.totals()).toEqual({ objects: 5, bytes: 1750, unreferencedObjects: 2 });

        // The collector's forget removes the record itself.
        await store.objects.forget('f3');
        await store.objects.forget('z1');
        expect(await store.objects.totals()).toEqual({ objects: 3, bytes: 1550, unreferencedObjects: 0 });
      });
    });

    describe('SCRAM credentials', () => {
      const credential = (user: string, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', seed: number, iterations = 4096) => ({
        user,
        mechanism,
        salt: Buffer.alloc(16, seed),
        iterations,
        storedKey: Buffer.alloc(mechanism === 'SCRAM-SHA-256' ? 32 : 64, seed + 1),
        serverKey: Buffer.alloc(mechanism === 'SCRAM-SHA-256' ? 32 : 64, seed + 2),
      });

      it('stores the salted credential per user and mechanism and returns it byte for byte', async () => {
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-256', 1));
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-512', 2, 8192));
        await store.scramCredentials.upsert(credential('bob', 'SCRAM-SHA-512', 3));
        expect(await store.scramCredentials.get('alice', 'SCRAM-SHA-256')).toEqual(credential('alice', 'SCRAM-SHA-256', 1));
        expect(await store.scramCredentials.get('alice', 'SCRAM-SHA-512')).toEqual(credential('alice', 'SCRAM-SHA-512', 2, 8192));
        expect(await store.scramCredentials.get('bob', 'SCRAM-SHA-256')).toBeUndefined();
        expect(await store.scramCredentials.get('carol', 'SCRAM-SHA-512')).toBeUndefined();
        const again = await reopen();
        expect(await again.scramCredentials.get('bob', 'SCRAM-SHA-512')).toEqual(credential('bob', 'SCRAM-SHA-512', 3));
      });

      it('replaces on upsert, keeps the first on insertIfAbsent', async () => {
        expect(await store.scramCredentials.insertIfAbsent(credential('alice', 'SCRAM-SHA-256', 1))).toBe(true);
        expect(await store.scramCredentials.insertIfAbsent(credential('alice', 'SCRAM-SHA-256', 9))).toBe(false);
        expect((await store.scramCredentials.get('alice', 'SCRAM-SHA-256'))?.salt).toEqual(Buffer.alloc(16, 1));
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-256', 5, 10000));
        expect(await store.scramCredentials.get('alice', 'SCRAM-SHA-256')).toEqual(credential('alice', 'SCRAM-SHA-256', 5, 10000));
      });

      it('lists users, mechanisms and iterations only, all or for the users asked, ordered', async () => {
        await store.scramCredentials.upsert(credential('zoe', 'SCRAM-SHA-256', 1));
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-512', 2, 8192));
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-256', 3));
        expect(await store.scramCredentials.list()).toEqual([
          { user: 'alice', mechanism: 'SCRAM-SHA-256', iterations: 4096 },
          { user: 'alice', mechanism: 'SCRAM-SHA-512', iterations: 8192 },
          { user: 'zoe', mechanism: 'SCRAM-SHA-256', iterations: 4096 },
        ]);
        expect(await store.scramCredentials.list(['zoe', 'nobody'])).toEqual([{ user: 'zoe', mechanism: 'SCRAM-SHA-256', iterations: 4096 }]);
        expect(await store.scramCredentials.list([])).toEqual([]);
      });

      it('deletes one mechanism of a user and says whether there was one', async () => {
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-256', 1));
        await store.scramCredentials.upsert(credential('alice', 'SCRAM-SHA-512', 2));
        expect(await store.scramCredentials.delete('alice', 'SCRAM-SHA-256')).toBe(true);
        expect(await store.scramCredentials.delete('alice', 'SCRAM-SHA-256')).toBe(false);
        expect(await store.scramCredentials.delete('bob', 'SCRAM-SHA-512')).toBe(false);
        expect((await store.scramCredentials.list()).map((c) => c.mechanism)).toEqual(['SCRAM-SHA-512']);
      });
    });

    describe('ACL bindings', () => {
      const binding = (resourceName: string, principal = 'User:alice', operation = 3, permission = 3, patternType = 3) => ({ resourceType: 2, resourceName, patternType, principal, host: '*', operation, permission });

      it('stores bindings once, lists them ordered, and moves the version only on a change', async () => {
        const v0 = await store.acls.version();
        await store.acls.create([binding('orders'), binding('app-', 'User:bob', 4, 3, 4), binding('orders', 'User:alice', 3, 2)]);
        const v1 = await store.acls.version();
        expect(v1).toBeGreaterThan(v0);
        await store.acls.create([binding('orders')]);
        expect(await store.acls.version()).toBe(v1);
        await store.acls.create([{ resourceType: 4, resourceName: 'kafka-cluster', patternType: 3, principal: 'User:ops', host: '10.0.0.1', operation: 7, permission: 3 }]);
        const again = await reopen();
        expect(await again.acls.list()).toEqual([
          binding('app-', 'User:bob', 4, 3, 4),
          binding('orders', 'User:alice', 3, 2),
          binding('orders'),
          { resourceType: 4, resourceName: 'kafka-cluster', patternType: 3, principal: 'User:ops', host: '10.0.0.1', operation: 7, permission: 3 },
        ]);
        expect(await again.acls.version()).toBeGreaterThan(v1);
      });

      it('deletes the given bindings, returns those that were there, and is seen by another connection at once', async () => {
        const second = await openStore();
        await store.acls.create([binding('a'), binding('b'), binding('c')]);
        const before = await second.acls.version();
        expect(await store.acls.delete([binding('b'), binding('zzz'), binding('a', 'User:bob')])).toEqual([binding('b')]);
        expect(await second.acls.list()).toEqual([binding('a'), binding('c')]);
        expect(await second.acls.version()).toBeGreaterThan(before);
        const after = await second.acls.version();
        expect(await store.acls.delete([binding('zzz')])).toEqual([]);
        expect(await second.acls.version()).toBe(after);
      });
    });

    describe('aborted transactions', () => {
      beforeEach(async () => {
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
        await store.topics.create({ name: 'audit', partitionCount: 1, configs: {} });
      });

      const aborted = (topic: string, partition: number, producerId: bigint, firstOffset: bigint, lastOffset: bigint): AbortedTransaction => ({
        topic,
        partition,
        producerId,
        firstOffset,
        lastOffset,
      });

      /** Orders-0: flushes [0..9] and [10..19] with markers at 4, 9 and 15; orders-1 gets a marker at 2. */
      const flushWithMarkers = async (): Promise<void> => {
        await store.partitions.commitFlush({
          objectKey: 'o1',
          objectSize: 200,
          chunks: [chunk('orders', 0, 0n, 9n, 10n, 0, 100), chunk('orders', 1, 0n, 2n, 10n, 100, 100)],
          partitions: [update('orders', 0, 0n, 10n), update('orders', 1, 0n, 3n)],
          producerStates: [],
          // given out of order on purpose: the store orders by lastOffset
          abortedTransactions: [aborted('orders', 0, 1001n, 5n, 9n), aborted('orders', 1, 1000n, 0n, 2n), aborted('orders', 0, 1000n, 0n, 4n)],
        });
        await store.partitions.commitFlush({
          ...singleChunkFlush('o2', 'orders', 0, 10n, 10n, 20n),
          abortedTransactions: [aborted('orders', 0, INT64_MAX, 3n, 15n)],
        });
      };

      it('records them with the flush and lists those ending at or after an offset, ordered by last offset, durably', async () => {
        await flushWithMarkers();
        const again = await reopen();
        expect(await again.partitions.abortedTransactions('orders', 0, 0n)).toEqual([
          aborted('orders', 0, 1000n, 0n, 4n),
          aborted('orders', 0, 1001n, 5n, 9n),
          aborted('orders', 0, INT64_MAX, 3n, 15n),
        ]);
        expect(await again.partitions.abortedTransactions('orders', 0, 9n)).toEqual([
          aborted('orders', 0, 1001n, 5n, 9n),
          aborted('orders', 0, INT64_MAX, 3n, 15n),
        ]);
        expect(await again.partitions.abortedTransactions('orders', 0, 10n)).toEqual([aborted('orders', 0, INT64_MAX, 3n, 15n)]);
        expect(await again.partitions.abortedTransactions('orders', 0, 16n)).toEqual([]);
        expect(await again.partitions.abortedTransactions('orders', 1, 0n)).toEqual([aborted('orders', 1, 1000n, 0n, 2n)]);
        expect(await again.partitions.abortedTransactions('audit', 0, 0n)).toEqual([]);
        expect(await again.partitions.abortedTransactions('orders', 2, 0n)).toEqual([]);
        expect(await again.partitions.abortedTransactions('missing', 0, 0n)).toEqual([]);
      });

      it('rejects the whole commit, writing nothing, when an aborted transaction is invalid', async () => {
        const base: FlushCommit = {
          objectKey: 'bad',
          objectSize: 100,
          chunks: [chunk('orders', 0, 0n, 9n, 10n, 0, 100)],
          partitions: [update('orders', 0, 0n, 10n)],
          producerStates: [{ topic: 'orders', partition: 0, producerId: 1000n, producerEpoch: 0, batches: [], txnFirstOffset: 2n }],
        };
        const valid = aborted('orders', 0, 1000n, 0n, 4n);
        const invalid: Array<[AbortedTransaction, string]> = [
          // a partition not in the commit
          [aborted('orders', 1, 1000n, 0n, 0n), 'aborted transaction of orders-1 has no partition update'],
          [aborted('audit', 0, 1000n, 0n, 0n), 'aborted transaction of audit-0 has no partition update'],
          // ends before it starts
          [aborted('orders', 0, 1000n, 6n, 5n), 'aborted transaction of orders-0 ends before it starts'],
          // the marker outside [expectedHighWatermark, newHighWatermark)
          [aborted('orders', 0, 1000n, 0n, 10n), 'aborted transaction of orders-0 has its marker at 10, outside this flush'],
          [aborted('orders', 0, 1000n, -5n, -1n), 'aborted transaction of orders-0 has its marker at -1, outside this flush'],
          // two markers at one offset
          [aborted('orders', 0, 1001n, 1n, 4n), 'aborted transaction of orders-0 shares its marker offset 4 with another'],
        ];
        for (const [entry, message] of invalid) {
          const err = await expectCode(store.partitions.commitFlush({ ...base, abortedTransactions: [valid, entry] }), 'INVALID_ARGUMENT');
          expect(err.message).toBe(`Invalid flush commit: ${message}`);
        }
        expect(await store.partitions.get('orders', 0)).toEqual({ topic: 'orders', partition: 0, highWatermark: 0n, logStartOffset: 0n });
        expect(await store.chunks.findChunks('orders', 0, 0n, 10)).toEqual([]);
        expect(await store.producers.getStates('orders', 0)).toEqual([]);
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
        expect(await store.objects.listReferencedKeys()).toEqual(new Set());
        expect(await store.objects.listUnreferenced(Date.now() + 60_000)).toEqual([]);
        // The same commit without the bad entry goes through whole.
        await store.partitions.commitFlush({ ...base, abortedTransactions: [valid] });
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([valid]);
        expect((await store.producers.getStates('orders', 0))[0]?.txnFirstOffset).toBe(2n);
      });

      it('writes no aborted transaction of a fenced commit, nor of one whose object is already recorded', async () => {
        await store.partitions.commitFlush(singleChunkFlush('first', 'orders', 1, 0n, 3n, 10n));
        const fenced: FlushCommit = {
          objectKey: 'stale',
          objectSize: 200,
          chunks: [chunk('orders', 0, 0n, 0n, 10n, 0, 100), chunk('orders', 1, 0n, 1n, 10n, 100, 100)],
          partitions: [update('orders', 0, 0n, 1n), update('orders', 1, 0n, 2n)],
          producerStates: [],
          abortedTransactions: [aborted('orders', 0, 1000n, 0n, 0n), aborted('orders', 1, 1000n, 0n, 1n)],
        };
        await expectCode(store.partitions.commitFlush(fenced), 'FENCED');
        await expectCode(
          store.partitions.commitFlush({ ...singleChunkFlush('first', 'orders', 0, 0n, 1n, 10n), abortedTransactions: [aborted('orders', 0, 1000n, 0n, 0n)] }),
          'OBJECT_ALREADY_EXISTS',
        );
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
        expect(await store.partitions.abortedTransactions('orders', 1, 0n)).toEqual([]);
        expect((await store.partitions.get('orders', 0))?.highWatermark).toBe(0n);
      });

      it('drops those whose marker lies below a new log start, keeping the ones at or spanning it', async () => {
        await flushWithMarkers();
        expect(await store.partitions.advanceLogStart('orders', 0, 9n)).toBe(9n);
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([
          aborted('orders', 0, 1001n, 5n, 9n),
          aborted('orders', 0, INT64_MAX, 3n, 15n),
        ]);
        expect(await store.partitions.advanceLogStart('orders', 0, 10n)).toBe(10n);
        // [3, 15] spans the log start and stays
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([aborted('orders', 0, INT64_MAX, 3n, 15n)]);
        // a smaller offset is a no-op and drops nothing
        expect(await store.partitions.advanceLogStart('orders', 0, 2n)).toBe(10n);
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([aborted('orders', 0, INT64_MAX, 3n, 15n)]);
        // other partitions are untouched
        expect(await store.partitions.abortedTransactions('orders', 1, 0n)).toEqual([aborted('orders', 1, 1000n, 0n, 2n)]);
        expect(await store.partitions.advanceLogStart('orders', 0, 20n)).toBe(20n);
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
      });

      it('drops all of a deleted topic, and a re-created topic starts with none', async () => {
        await flushWithMarkers();
        await store.partitions.commitFlush({
          ...singleChunkFlush('a1', 'audit', 0, 0n, 2n, 10n),
          abortedTransactions: [aborted('audit', 0, 1002n, 0n, 1n)],
        });
        await store.topics.delete('orders');
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
        expect(await store.partitions.abortedTransactions('orders', 1, 0n)).toEqual([]);
        await store.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([]);
        expect(await store.partitions.abortedTransactions('audit', 0, 0n)).toEqual([aborted('audit', 0, 1002n, 0n, 1n)]);
        // The new topic's offsets start at 0 again, and so can its markers.
        await store.partitions.commitFlush({
          ...singleChunkFlush('o3', 'orders', 0, 0n, 5n, 10n),
          abortedTransactions: [aborted('orders', 0, 1000n, 0n, 4n)],
        });
        expect(await store.partitions.abortedTransactions('orders', 0, 0n)).toEqual([aborted('orders', 0, 1000n, 0n, 4n)]);
      });

      it('keeps a producer state open transaction offset per commit: set, cleared, set again', async () => {
        const state = (txnFirstOffset: bigint | null): ProducerPartitionState => ({
          topic: 'orders',
          partition: 0,
          producerId: 1000n,
          producerEpoch: 1,
          batches: [],
          txnFirstOffset,
        });
        await store.partitions.commitFlush({ ...singleChunkFlush('o1', 'orders', 0, 0n, 5n, 10n), producerStates: [state(0n)] });
        expect(await store.producers.getStates('orders', 0)).toEqual([state(0n)]);
        await store.partitions.commitFlush({
          ...singleChunkFlush('o2', 'orders', 0, 5n, 1n, 10n),
          producerStates: [state(null)],
          abortedTransactions: [aborted('orders', 0, 1000n, 0n, 5n)],
        });
        expect(await store.producers.getStates('orders', 0)).toEqual([state(null)]);
        await store.partitions.commitFlush({ ...singleChunkFlush('o3', 'orders', 0, 6n, 3n, 10n), producerStates: [state(INT64_MAX)] });
        const again = await reopen();
        expect(await again.producers.getStates('orders', 0)).toEqual([state(INT64_MAX)]);
      });
    });

    describe('transactional group offsets', () => {
      const at = (topic: string, partition: number, offset: bigint, commitTimestamp = 1000, metadata: string | null = null) => ({
        topic,
        partition,
        offset,
        leaderEpoch: 3,
        metadata,
        commitTimestamp,
      });

      it('stages offsets out of sight of fetch; a commit upserts the last staged ones, and a retry changes nothing', async () => {
        await store.groupOffsets.commit('g', [at('t', 0, 1n), at('t', 1, 2n)]);
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('t', 0, 10n, 2000, 'first'), at('u', 0, 5n, 2000)] });
        // a later stage of the same partition replaces the earlier one
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('t', 0, 11n, 3000, 'second')] });
        await store.groupOffsets.stageTransactional({ group: 'staged-only', producerId: 1000n, offsets: [at('t', 0, 7n)] });
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 1n), at('t', 1, 2n)]);
        expect(await store.groupOffsets.fetch('staged-only')).toEqual([]);
        expect(await store.groupOffsets.listGroups()).toEqual(['g']);

        await store.groupOffsets.completeTransactional(1000n, ['g', 'staged-only'], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 11n, 3000, 'second'), at('t', 1, 2n), at('u', 0, 5n, 2000)]);
        expect(await store.groupOffsets.fetch('staged-only')).toEqual([at('t', 0, 7n)]);
        expect(await store.groupOffsets.listGroups()).toEqual(['g', 'staged-only']);

        // A plain commit after the transaction, then a retried completion: nothing is staged any more.
        await store.groupOffsets.commit('g', [at('t', 0, 20n, 4000)]);
        await store.groupOffsets.completeTransactional(1000n, ['g', 'staged-only'], true);
        await store.groupOffsets.completeTransactional(1000n, ['g'], false);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 20n, 4000), at('t', 1, 2n), at('u', 0, 5n, 2000)]);
        expect(await store.groupOffsets.fetch('staged-only')).toEqual([at('t', 0, 7n)]);
      });

      it('drops staged offsets on abort, leaving committed ones alone; a later commit finds nothing', async () => {
        await store.groupOffsets.commit('g', [at('t', 0, 1n)]);
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('t', 0, 10n), at('t', 1, 10n)] });
        await store.groupOffsets.completeTransactional(1000n, ['g'], false);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 1n)]);
        await store.groupOffsets.completeTransactional(1000n, ['g'], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 1n)]);
        expect(await store.groupOffsets.listGroups()).toEqual(['g']);
      });

      it('lists the partitions with staged offsets of any producer until their transactions end', async () => {
        expect(await store.groupOffsets.pendingPartitions('g')).toEqual([]);
        await store.groupOffsets.commit('g', [at('t', 3, 1n)]);
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1001n, offsets: [at('u', 0, 10n), at('t', 1, 10n)] });
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('t', 1, 12n), at('t', 0, 12n)] });
        await store.groupOffsets.stageTransactional({ group: 'h', producerId: 1000n, offsets: [at('t', 2, 30n)] });
        expect(await store.groupOffsets.pendingPartitions('g')).toEqual([
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
          { topic: 'u', partition: 0 },
        ]);
        await store.groupOffsets.completeTransactional(1001n, ['g'], true);
        expect(await store.groupOffsets.pendingPartitions('g')).toEqual([
          { topic: 't', partition: 0 },
          { topic: 't', partition: 1 },
        ]);
        await store.groupOffsets.completeTransactional(1000n, ['g'], false);
        expect(await store.groupOffsets.pendingPartitions('g')).toEqual([]);
        expect(await store.groupOffsets.pendingPartitions('h')).toEqual([{ topic: 't', partition: 2 }]);
      });

      it('completes only the given producer and groups', async () => {
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('t', 0, 10n)] });
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1001n, offsets: [at('t', 0, 20n), at('t', 1, 21n)] });
        await store.groupOffsets.stageTransactional({ group: 'h', producerId: 1000n, offsets: [at('t', 0, 30n)] });
        await store.groupOffsets.completeTransactional(1000n, ['g'], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 10n)]);
        expect(await store.groupOffsets.fetch('h')).toEqual([]);
        // nothing to do for no groups
        await store.groupOffsets.completeTransactional(1001n, [], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 10n)]);
        await store.groupOffsets.completeTransactional(1001n, ['g'], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('t', 0, 20n), at('t', 1, 21n)]);
        await store.groupOffsets.completeTransactional(1000n, ['h'], true);
        expect(await store.groupOffsets.fetch('h')).toEqual([at('t', 0, 30n)]);
      });

      it('keeps staged offsets across reopen and any Kafka string exactly', async () => {
        const group = 'grp\u0000txn\u0001\u{1F600}';
        const meta = 'm\u0000eta\u0002';
        await store.groupOffsets.stageTransactional({ group, producerId: INT64_MAX, offsets: [at('t', 0, INT64_MAX, 1000, meta), at('t', 1, 0n, 1000, '')] });
        await store.groupOffsets.stageTransactional({ group: 'grp', producerId: INT64_MAX, offsets: [at('t', 0, 1n)] });
        const again = await reopen();
        await again.groupOffsets.completeTransactional(INT64_MAX, [group], true);
        expect(await again.groupOffsets.fetch(group)).toEqual([at('t', 0, INT64_MAX, 1000, meta), at('t', 1, 0n, 1000, '')]);
        expect(await again.groupOffsets.fetch('grp')).toEqual([]);
        await again.groupOffsets.completeTransactional(INT64_MAX, ['grp'], true);
        expect(await again.groupOffsets.fetch('grp')).toEqual([at('t', 0, 1n)]);
      });

      it("drops a deleted topic's staged offsets", async () => {
        await store.topics.create({ name: 'gone', partitionCount: 1, configs: {} });
        await store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [at('gone', 0, 1n), at('kept', 0, 2n)] });
        await store.topics.delete('gone');
        await store.groupOffsets.completeTransactional(1000n, ['g'], true);
        expect(await store.groupOffsets.fetch('g')).toEqual([at('kept', 0, 2n)]);
      });
    });

    describe('transaction state', () => {
      const record = (transactionalId: string, overrides: Partial<TransactionRecordInput> = {}): TransactionRecordInput => ({
        transactionalId,
        producerId: 1000n,
        producerEpoch: 0,
        lastProducerEpoch: -1,
        state: 'Empty',
        timeoutMs: 60_000,
        partitions: [],
        groups: [],
        startedAtMs: -1,
        updatedAtMs: 1_700_000_000_000,
        ...overrides,
      });
      const ongoing = (transactionalId: string): TransactionRecordInput =>
        record(transactionalId, {
          producerId: INT64_MAX,
          producerEpoch: 32767,
          lastProducerEpoch: 32766,
          state: 'Ongoing',
          timeoutMs: 900_000,
          partitions: [
            { topic: 'audit', partition: 0 },
            { topic: 'orders', partition: 3 },
            { topic: 'orders', partition: 11 },
          ],
          groups: ['billing', 'g\u0000nul'],
          startedAtMs: 1_700_000_000_500,
          updatedAtMs: 1_700_000_000_900,
        });

      it('inserts only when absent, then writes only at the expected version, bumping it by one', async () => {
        expect(await store.transactions.get('tx')).toBeUndefined();
        expect(await store.transactions.put(record('tx'), 0)).toEqual({ ...record('tx'), version: 1 });
        expect(await store.transactions.get('tx')).toEqual({ ...record('tx'), version: 1 });
        // the id exists: an insert loses
        expect(await store.transactions.put(record('tx', { producerEpoch: 9 }), 0)).toBeUndefined();
        expect(await store.transactions.put(ongoing('tx'), 1)).toEqual({ ...ongoing('tx'), version: 2 });
        // a writer that read version 1 lost the race
        expect(await store.transactions.put(record('tx', { state: 'PrepareAbort' }), 1)).toBeUndefined();
        expect(await store.transactions.put(record('tx', { state: 'PrepareAbort' }), 3)).toBeUndefined();
        expect(await store.transactions.get('tx')).toEqual({ ...ongoing('tx'), version: 2 });
        // no record to update
        expect(await store.transactions.put(record('other'), 1)).toBeUndefined();
        expect(await store.transactions.get('other')).toBeUndefined();
        expect(await store.transactions.put(record('tx', { state: 'CompleteCommit', producerEpoch: 1 }), 2)).toEqual({
          ...record('tx', { state: 'CompleteCommit', producerEpoch: 1 }),
          version: 3,
        });
        const again = await reopen();
        expect(await again.transactions.get('tx')).toEqual({ ...record('tx', { state: 'CompleteCommit', producerEpoch: 1 }), version: 3 });
      });

      it('keeps every field exactly across reopen and lists ids ordered by bytes', async () => {
        const ids = ['b', 'B', 'a', '_z', 'tx\u0000nul', 'tx'];
        for (const id of ids) expect((await store.transactions.put(ongoing(id), 0))?.version).toBe(1);
        await store.transactions.put(record('a', { state: 'PrepareCommit' }), 1);
        const again = await reopen();
        expect(await again.transactions.get('tx\u0000nul')).toEqual({ ...ongoing('tx\u0000nul'), version: 1 });
        expect(await again.transactions.get('tx\u0000')).toBeUndefined();
        expect(await again.transactions.list()).toEqual([
          { ...ongoing('B'), version: 1 },
          { ...ongoing('_z'), version: 1 },
          { ...record('a', { state: 'PrepareCommit' }), version: 2 },
          { ...ongoing('b'), version: 1 },
          { ...ongoing('tx'), version: 1 },
          { ...ongoing('tx\u0000nul'), version: 1 },
        ]);
      });

      it('deletes only at the expected version, after which the id can be created afresh', async () => {
        await store.transactions.put(record('tx'), 0);
        await store.transactions.put(record('tx', { state: 'Ongoing' }), 1);
        expect(await store.transactions.delete('tx', 1)).toBe(false);
        expect(await store.transactions.delete('tx', 0)).toBe(false);
        expect(await store.transactions.get('tx')).toEqual({ ...record('tx', { state: 'Ongoing' }), version: 2 });
        expect(await store.transactions.delete('tx', 2)).toBe(true);
        expect(await store.transactions.delete('tx', 2)).toBe(false);
        expect(await store.transactions.delete('never', 1)).toBe(false);
        expect(await store.transactions.get('tx')).toBeUndefined();
        expect(await store.transactions.list()).toEqual([]);
        expect(await store.transactions.put(record('tx', { producerId: 1005n }), 0)).toEqual({ ...record('tx', { producerId: 1005n }), version: 1 });
      });

      it('refuses a negative or fractional expected version', async () => {
        await expectCode(store.transactions.put(record('tx'), -1), 'INVALID_ARGUMENT');
        await expectCode(store.transactions.put(record('tx'), 0.5), 'INVALID_ARGUMENT');
        await expectCode(store.transactions.delete('tx', -1), 'INVALID_ARGUMENT');
        expect(await store.transactions.list()).toEqual([]);
      });

      it('lets exactly one of several connections racing to create, or to update, one id win', async () => {
        const stores = [store, await openStore(), await openStore(), await openStore()];
        const created = await Promise.all(stores.map((s, i) => s.transactions.put(record('tx', { producerEpoch: i }), 0)));
        const creators = created.filter((r) => r !== undefined);
        expect(creators).toHaveLength(1);
        expect(await store.transactions.get('tx')).toEqual(creators[0]);
        expect(creators[0]?.version).toBe(1);
        const updated = await Promise.all(stores.map((s, i) => s.transactions.put(record('tx', { producerEpoch: 10 + i, state: 'Ongoing' }), 1)));
        const winners = updated.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.version).toBe(2);
        expect(await stores[3]?.transactions.get('tx')).toEqual(winners[0]);
      });
    });

    describe('durability and lifecycle', () => {
      it('keeps everything across close and reopen', async () => {
        const clusterId = await store.cluster.getClusterId();
        const topic = await store.topics.create({ name: 'orders', partitionCount: 2, configs: { 'cleanup.policy': 'delete' } });
        await store.topics.setConfigs('orders', { 'retention.ms': '60000' });
        const producerId = await store.producers.allocateProducerId();
        const state: ProducerPartitionState = {
          topic: 'orders',
          partition: 1,
          producerId,
          producerEpoch: 2,
          batches: [{ firstSequence: 0, lastSequence: 4, baseOffset: 5n, lastOffset: 9n }],
          txnFirstOffset: 7n,
        };
        await store.partitions.commitFlush(singleChunkFlush('o1', 'orders', 1, 0n, 5n, 1_000n));
        await store.partitions.commitFlush({ ...singleChunkFlush('o2', 'orders', 1, 5n, 5n, 2_000n), producerStates: [state] });
        await store.partitions.advanceLogStart('orders', 1, 5n);
        const topicBefore = await store.topics.get('orders');
        const chunksBefore = await store.chunks.findChunks('orders', 1, 0n, 10);

        const again = await reopen();
        expect(await again.cluster.getClusterId()).toBe(clusterId);
        expect(await again.topics.get('orders')).toEqual(topicBefore);
        expect(await again.topics.getById(topic.id)).toEqual(topicBefore);
        expect(topicBefore?.configs).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '60000' });
        expect(await again.partitions.list('orders')).toEqual([
          { topic: 'orders', partition: 0, highWatermark: 0n, logStartOffset: 0n },
          { topic: 'orders', partition: 1, highWatermark: 10n, logStartOffset: 5n },
        ]);
        expect(await again.chunks.findChunks('orders', 1, 0n, 10)).toEqual(chunksBefore);
        expect(chunksBefore.map((c) => c.objectKey)).toEqual(['o2']);
        expect(await again.producers.getStates('orders', 1)).toEqual([state]);
        expect(await again.producers.allocateProducerId()).toBe(producerId + 1n);
        expect(await again.objects.listUnreferenced(Date.now() + 60_000)).toEqual(['o1']);
        // The guard still holds against the persisted HWM.
        await expectCode(again.partitions.commitFlush(singleChunkFlush('o3', 'orders', 1, 5n, 1n, 1n)), 'FENCED');
      });

      it('makes a commit visible to another connection at once', async () => {
        const second = await openStore();
        await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
        await store.partitions.commitFlush(singleChunkFlush('o1', 'orders', 0, 0n, 4n, 10n));
        expect((await second.partitions.get('orders', 0))?.highWatermark).toBe(4n);
        expect((await second.chunks.findChunks('orders', 0, 0n, 10)).map((c) => c.objectKey)).toEqual(['o1']);
      });

      it('closes idempotently and rejects every call afterwards', async () => {
        await store.close();
        await store.close();
        const calls: Promise<unknown>[] = [
          store.cluster.getClusterId(),
          store.topics.create({ name: 'x', partitionCount: 1, configs: {} }),
          store.topics.get('x'),
          store.topics.getById('x'),
          store.topics.list(),
          store.topics.delete('x'),
          store.topics.addPartitions('x', 2),
          store.topics.setConfigs('x', {}),
          store.partitions.get('x', 0),
          store.partitions.list('x'),
          store.partitions.advanceLogStart('x', 0, 0n),
          store.partitions.commitFlush(singleChunkFlush('k', 'x', 0, 0n, 1n, 1n)),
          store.chunks.findChunks('x', 0, 0n, 1),
          store.chunks.findChunkByTimestamp('x', 0, 0n),
          store.producers.allocateProducerId(),
          store.producers.getStates('x', 0),
          store.objects.listReferencedKeys(),
          store.objects.listUnreferenced(0),
          store.objects.forget('k'),
          store.objects.totals(),
          store.objects.newest(),
          store.chunks.usage(),
          store.chunks.usage('x'),
          store.chunks.topicObjects(),
          store.groupOffsets.commit('g', []),
          store.groupOffsets.fetch('g'),
          store.groupOffsets.listGroups(),
          store.groupOffsets.deleteGroup('g'),
          store.scramCredentials.get('u', 'SCRAM-SHA-256'),
          store.scramCredentials.list(),
          store.scramCredentials.upsert({ user: 'u', mechanism: 'SCRAM-SHA-256', salt: Buffer.alloc(1), iterations: 4096, storedKey: Buffer.alloc(1), serverKey: Buffer.alloc(1) }),
          store.scramCredentials.delete('u', 'SCRAM-SHA-256'),
          store.acls.list(),
          store.acls.version(),
          store.acls.create([]),
          store.acls.delete([]),
          store.partitions.abortedTransactions('x', 0, 0n),
          store.groupOffsets.stageTransactional({ group: 'g', producerId: 1000n, offsets: [] }),
          store.groupOffsets.completeTransactional(1000n, ['g'], true),
          store.transactions.get('t'),
          store.transactions.list(),
          store.transactions.put({ transactionalId: 't', producerId: 1000n, producerEpoch: 0, lastProducerEpoch: -1, state: 'Empty', timeoutMs: 1, partitions: [], groups: [], startedAtMs: -1, updatedAtMs: 0 }, 0),
          store.transactions.delete('t', 1),
        ];
        for (const call of calls) await expectCode(call, 'STORE_CLOSED');
      });
    });
  });
}
