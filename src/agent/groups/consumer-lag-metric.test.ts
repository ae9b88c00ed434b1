import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogError, type LogService, type PartitionOffsets } from '../log-service.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { registerConsumerLagMetric } from './consumer-lag-metric.js';
import { coordinatorHarness, type CoordinatorHarness } from './test-support/coordinator-harness.js';

/** Only `offsets` is used by the metric. */
function logWithHighWatermarks(hwms: Record<string, bigint>): LogService {
  return {
    async offsets(topic: string, partition: number): Promise<PartitionOffsets> {
      const hwm = hwms[`${topic}-${partition}`];
      if (hwm === undefined) throw new LogError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no such partition');
      return { highWatermark: hwm, logStartOffset: 0n };
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
    registerConsumerLagMetric({ registry, coordinator: h.coordinator, store: h.store.groupOffsets, log: logWithHighWatermarks({ 'orders-0': 50n, 'orders-1': 90n }), logger: pino({ level: 'silent' }) });
    const text = await registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('streamhouse_consumer_group_lag_records{'))).toEqual([
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="1"} 0',
      'streamhouse_consumer_group_lag_records{group="b",topic="orders",partition="0"} 40',
    ]);
  });

  it('caps the number of series', async () => {
    const registry = new Registry();
    registerConsumerLagMetric({ registry, coordinator: h.coordinator, store: h.store.groupOffsets, log: logWithHighWatermarks({ 'orders-0': 50n, 'orders-1': 90n }), logger: pino({ level: 'silent' }), maxSeries: 2 });
    const lines = (await registry.metrics()).split('\n').filter((l) => l.startsWith('streamhouse_consumer_group_lag_records{'));
    expect(lines).toEqual([
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="0"} 10',
      'streamhouse_consumer_group_lag_records{group="a",topic="orders",partition="1"} 0',
    ]);
  });
});
