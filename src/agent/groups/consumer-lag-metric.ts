// Consumer group metrics of the groups this coordinator knows, computed at scrape time:
// lag in records and in seconds per group and partition, members and rebalances per group,
// groups per state. Every series is bounded: groups are visited in name order until
// `maxSeries` (group, partition) pairs are exported.

import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LogService } from '../log-service.js';
import type { ChunkIndexStore, GroupOffsetStore } from '../../metadata/metadata-store.js';
import type { GroupCoordinator } from './group-coordinator.js';
import { GROUP_STATES } from './group-state.js';

export const CONSUMER_LAG_METRIC = 'streamhouse_consumer_group_lag_records';
export const CONSUMER_LAG_SECONDS_METRIC = 'streamhouse_consumer_group_lag_seconds';

export interface ConsumerGroupMetricsOptions {
  readonly registry: Registry;
  readonly coordinator: GroupCoordinator;
  readonly store: GroupOffsetStore;
  readonly log: LogService;
  readonly logger: Logger;
  /**
   * The chunk index, for lag in seconds (the largest timestamp of the chunk holding the
   * committed offset); without it that metric has no series.
   */
  readonly chunks?: ChunkIndexStore;
  /** Upper bound on exported (group, topic, partition) series per scrape. */
  readonly maxSeries?: number;
  /** Upper bound on chunk-index look-ups per scrape for lag in seconds (answers are cached). */
  readonly maxTimestampLookups?: number;
  /** Clock (ms since the epoch); Date.now by default. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_LAG_SERIES = 10_000;
export const DEFAULT_MAX_TIMESTAMP_LOOKUPS = 1000;
/** Cached timestamps of (topic, partition, offset); an offset's chunk never changes its timestamp. */
const TIMESTAMP_CACHE_ENTRIES = 20_000;
/** Collections within this long share one reading (the metrics of one scrape). */
const SNAPSHOT_REUSE_MS = 250;

interface LagRow {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
  /** undefined: not known this scrape (look-up budget spent, or no chunk index). */
  readonly seconds: number | undefined;
}

interface Snapshot {
  readonly lag: readonly LagRow[];
  readonly groups: ReadonlyArray<{ readonly group: string; readonly state: string; readonly members: number; readonly generation: number }>;
  /** Every known group counted by state (not bounded by maxSeries: one series per state). */
  readonly states: ReadonlyMap<string, number>;
}

export interface ConsumerGroupMetrics {
  readonly lagRecords: Gauge<'group' | 'topic' | 'partition'>;
  readonly lagSeconds: Gauge<'group' | 'topic' | 'partition'>;
  readonly members: Gauge<'group'>;
  readonly rebalances: Counter<'group'>;
  readonly groups: Gauge<'state'>;
}

/**
 * Lag in records is the partition's high watermark minus the group's committed offset (never
 * below 0). Lag in seconds is how old the record at the committed offset is, taken from the
 * chunk index: now minus the largest timestamp of the chunk holding that offset (0 when the
 * group is caught up), so it errs low by at most the time span of one chunk. Rebalances per
 * group are its generation (each completed join phase), so the counter restarts when the
 * group moves to another coordinator.
 */
export function registerConsumerGroupMetrics(opts: ConsumerGroupMetricsOptions): ConsumerGroupMetrics {
  const maxSeries = opts.maxSeries ?? DEFAULT_MAX_LAG_SERIES;
  const maxLookups = opts.maxTimestampLookups ?? DEFAULT_MAX_TIMESTAMP_LOOKUPS;
  const now = opts.now ?? Date.now;
  const timestamps = new Map<string, bigint | null>();
  let reading: { at: number; snapshot: Promise<Snapshot> } | undefined;

  const timestampAt = async (topic: string, partition: number, offset: bigint): Promise<bigint | null> => {
    const [chunk] = await opts.chunks!.findChunks(topic, partition, offset, 1);
    return chunk ? chunk.maxTimestamp : null;
  };

  const read = async (): Promise<Snapshot> => {
    const lag: LagRow[] = [];
    const groups: Array<Snapshot['groups'][number]> = [];
    const states = new Map<string, number>(GROUP_STATES.map((state) => [state, 0]));
    const hwms = new Map<string, bigint | null>();
    let lookups = 0;
    try {
      for (const group of opts.coordinator.groupIds()) {
        const g = opts.coordinator.group(group);
        if (g) {
          states.set(g.state, (states.get(g.state) ?? 0) + 1);
          if (groups.length < maxSeries) groups.push({ group, state: g.state, members: g.size, generation: g.generationId });
        }
        if (lag.length >= maxSeries) continue;
        for (const o of await opts.store.fetch(group)) {
          if (lag.length >= maxSeries) break;
          const key = `${o.topic}\0${o.partition}`;
          let hwm = hwms.get(key);
          if (hwm === undefined) {
            hwm = await opts.log.offsets(o.topic, o.partition).then(
              (r) => r.highWatermark,
              () => null,
            );
            hwms.set(key, hwm);
          }
          if (hwm === null) continue;
          const records = hwm > o.offset ? Number(hwm - o.offset) : 0;
          let seconds: number | undefined;
          if (records === 0) seconds = 0;
          else if (opts.chunks) {
            const at = `${key}\0${o.offset}`;
            let ts = timestamps.get(at);
            if (ts === undefined && lookups < maxLookups) {
              lookups++;
              ts = await timestampAt(o.topic, o.partition, o.offset);
              if (timestamps.size >= TIMESTAMP_CACHE_ENTRIES) timestamps.clear();
              timestamps.set(at, ts);
            }
            if (ts !== undefined && ts !== null) seconds = Math.max(0, (now() - Number(ts)) / 1000);
          }
          lag.push({ group, topic: o.topic, partition: o.partition, records, seconds });
        }
      }
    } catch (err) {
      opts.logger.warn({ err }, 'computing consumer group metrics failed');
    }
    return { lag, groups, states };
  };

  const snapshot = (): Promise<Snapshot> => {
    const t = performance.now();
    if (!reading || t - reading.at > SNAPSHOT_REUSE_MS) reading = { at: t, snapshot: read() };
    return reading.snapshot;
  };

  const registers = [opts.registry];
  const lagRecords = new Gauge({
    name: CONSUMER_LAG_METRIC,
    help: 'Records between the high watermark and the committed offset, per consumer group and partition',
    labelNames: ['group', 'topic', 'partition'],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const r of s.lag) this.set({ group: r.group, topic: r.topic, partition: String(r.partition) }, r.records);
    },
  });
  const lagSeconds = new Gauge({
    name: CONSUMER_LAG_SECONDS_METRIC,
    help: 'Age of the record at the committed offset (now minus the largest timestamp of its chunk; 0 when caught up), per consumer group and partition',
    labelNames: ['group', 'topic', 'partition'],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const r of s.lag) if (r.seconds !== undefined) this.set({ group: r.group, topic: r.topic, partition: String(r.partition) }, r.seconds);
    },
  });
  const members = new Gauge({
    name: 'streamhouse_consumer_group_members',
    help: 'Members of each consumer group this agent coordinates',
    labelNames: ['group'],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const g of s.groups) this.set({ group: g.group }, g.members);
    },
  });
  const rebalances = new Counter({
    name: 'streamhouse_consumer_group_rebalances_total',
    help: 'Rebalances (completed join phases, i.e. the generation) of each consumer group since this agent became its coordinator',
    labelNames: ['group'],
    registers,
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const g of s.groups) this.inc({ group: g.group }, g.generation);
    },
  });
  const groups = new Gauge({
    name: 'streamhouse_consumer_groups',
    help: 'Consumer groups this agent coordinates, by state',
    labelNames: ['state'],
    registers,
    async collect() {
      const s = await snapshot();
      for (const [state, n] of s.states) this.set({ state }, n);
    },
  });
  return { lagRecords, lagSeconds, members, rebalances, groups };
}
