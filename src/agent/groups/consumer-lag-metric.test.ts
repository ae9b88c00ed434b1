import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogError, type LogService, type PartitionOffsets } from '../log-service.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { registerConsumerGroupMetrics } from './consumer-lag-metric.js';
import type { ChunkIndexStore, IndexedChunk } from '../../metadata/metadata-store.js';
import { coordinatorHarness, joinDynamic, type CoordinatorHarness } from './test-support/coordinator-harness.js';

/** Only `offsets` is used by the metric. */
function logWithHighWatermarks(hwms: Record<string, bigint>): LogService {
  return {
    async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
      const hwm = hwms[`${topic}-${partition}`];
      if (hwm === undefined) throw new LogError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no such partition');
      return { highWatermark: hwm, logStartOffset: 0n, lastStableOffset: hwm };
    },
  } as unknown as LogService;
}

describe('consumer lag metric', () => {
  let h: CoordinatorHarness;

  beforeEach(async () => {
    h = await coordinatorHarness();
    const commit = (groupId: string, topic: string, partition: number, offset: bigint) =>
      h.coordinator.commitOffsets({ groupId, generationId: -1, memberId: '', groupInstanceId: null, offsets: [{ topic, partition, offset, leaderEpoch: -1, metadata: null }] });
    await commit('a', 'orders', 0, 40n);
    await commit('a', 'orders', 1, 100n);
    await commit('b', 'orders', 0, 10n);
    await commit('b', 'gone', 0, 1n);
  });
  afterEach(async () => {
    await h.close();
  });

  it('reports HWM minus committed offset per group and partition, never below zero', async () => {
    const registry = new Registry();
    registerConsumerGroupMetrics({ registry, coordinator: h.coordinator, store: h.store.groupOffsets, log: logWithHighWatermarks({ 'orders-0': 50n, 'orders-1': 90n }), logger: pino({ level: 'silent' }) });
    const text = await registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('streamhouse_consumer_group_lag_records{'))).toEqual([
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="1"} 0',
      'streamhouse_consumer_group_lag_records{group="b",topic="orders",partition="0"} 40',
    ]);
  });

  it('caps the number of series', async () => {
    const registry = new Registry();
    registerConsumerGroupMetrics({ registry, coordinator: h.coordinator, store: h.store.groupOffsets, log: logWithHighWatermarks({ 'orders-0': 50n, 'orders-1': 90n }), logger: pino({ level: 'silent' }), maxSeries: 2 });
    const lines = (await registry.metrics()).split('\n').filter((l) => l.startsWith('streamhouse_consumer_group_lag_records{'));
    expect(lines).toEqual([
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="1"} 0',
    ]);
  });

  it('reports lag in seconds from the chunk holding the committed offset, 0 when caught up, within a look-up budget', async () => {
    const registry = new Registry();
    const now = 1_700_000_100_000;
    const looked: string[] = [];
    // orders-0: offsets 0..29 in a chunk whose newest record is from now-70s, 30..49 from now-10s
    const chunks = {
      async findChunks(topic: string, partition: number, from: bigint): Promise<IndexedChunk[]> {
        looked.push(`${topic}-${partition}@${from}`);
        const chunk = (baseOffset: bigint, lastOffset: bigint, maxTimestamp: number): IndexedChunk => ({ baseOffset, lastOffset, maxTimestamp: BigInt(maxTimestamp), recordCount: Number(lastOffset - baseOffset) + 1, byteOffset: 0, byteLength: 1, objectKey: 'k' });
        if (topic !== 'orders' || partition !== 0) return [];
        return from <= 29n ? [chunk(0n, 29n, now - 70_000)] : [chunk(30n, 49n, now - 10_000)];
      },
    } as unknown as ChunkIndexStore;
    const opts = { registry, coordinator: h.coordinator, store: h.store.groupOffsets, chunks, now: () => now, log: logWithHighWatermarks({ 'orders-0': 50n, 'orders-1': 90n }), logger: pino({ level: 'silent' }) };
    registerConsumerGroupMetrics(opts);
    const lines = async (r: Registry) => (await r.metrics()).split('\n').filter((l) => l.startsWith('streamhouse_consumer_group_lag_seconds{'));
    // a at 40 (chunk 30..49: 10 s), a on orders-1 caught up (0), b at 10 (chunk 0..29: 70 s)
    expect(await lines(registry)).toEqual([
      'streamhouse_consumer_group_lag_seconds{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_seconds{group="a",topic="orders",partition="1"} 0',
      'streamhouse_consumer_group_lag_seconds{group="b",topic="orders",partition="0"} 70',
    ]);
    expect(looked).toEqual(['orders-0@40', 'orders-0@10']);
    await new Promise((r) => setTimeout(r, 300));
    await lines(registry);
    // the timestamp of an offset never changes: a second scrape looks nothing up again
    expect(looked).toHaveLength(2);

    // with a budget of one look-up per scrape, the second lagging partition has no series yet
    const limited = new Registry();
    looked.length = 0;
    registerConsumerGroupMetrics({ ...opts, registry: limited, maxTimestampLookups: 1 });
    expect(await lines(limited)).toEqual([
      'streamhouse_consumer_group_lag_seconds{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_seconds{group="a",topic="orders",partition="1"} 0',
    ]);
  });

  it('reports members and rebalances per group and groups per state', async () => {
    const registry = new Registry();
    registerConsumerGroupMetrics({ registry, coordinator: h.coordinator, store: h.store.groupOffsets, log: logWithHighWatermarks({}), logger: pino({ level: 'silent' }) });
    const { join } = await joinDynamic(h.coordinator, { groupId: 'live' });
    expect((await join).errorCode).toBe(0);
    const text = await registry.metrics();
    const pick = (prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));
    expect(pick('streamhouse_consumer_group_members{')).toEqual(['streamhouse_consumer_group_members{group="a"} 0', 'streamhouse_consumer_group_members{group="b"} 0', 'streamhouse_consumer_group_members{group="live"} 1']);
    expect(pick('streamhouse_consumer_group_rebalances_total{')).toEqual([
      'streamhouse_consumer_group_rebalances_total{group="a"} 0',
      'streamhouse_consumer_group_rebalances_total{group="b"} 0',
      'streamhouse_consumer_group_rebalances_total{group="live"} 1',
    ]);
    expect(pick('streamhouse_consumer_groups{')).toEqual([
      'streamhouse_consumer_groups{state="Empty"} 2',
      'streamhouse_consumer_groups{state="PreparingRebalance"} 0',
      'streamhouse_consumer_groups{state="CompletingRebalance"} 1',
      'streamhouse_consumer_groups{state="Stable"} 0',
      'streamhouse_consumer_groups{state="Dead"} 0',
    ]);
  });
});
