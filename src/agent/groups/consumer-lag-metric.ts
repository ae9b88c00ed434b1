import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { LogService } from '../log-service.js';
import type { GroupOffsetStore } from '../../metadata/metadata-store.js';
import type { GroupCoordinator } from './group-coordinator.js';

export const CONSUMER_LAG_METRIC = 'streamhouse_consumer_group_lag_records';

export interface ConsumerLagMetricOptions {
  readonly registry: Registry;
  readonly coordinator: GroupCoordinator;
  readonly store: GroupOffsetStore;
  readonly log: LogService;
  readonly logger: Logger;
  /** Upper bound on exported (group, topic, partition) series per scrape. */
  readonly maxSeries?: number;
}

export const DEFAULT_MAX_LAG_SERIES = 10_000;

/**
 * Consumer lag per group and partition, computed at scrape time: the partition's high
 * watermark minus the group's committed offset (never below 0), for the groups this
 * coordinator knows. Groups are visited in name order until `maxSeries` is reached, so a
 * huge number of groups cannot blow up the scrape.
 */
export function registerConsumerLagMetric(opts: ConsumerLagMetricOptions): Gauge<'group' | 'topic' | 'partition'> {
  const maxSeries = opts.maxSeries ?? DEFAULT_MAX_LAG_SERIES;
  return new Gauge({
    name: CONSUMER_LAG_METRIC,
    help: 'Records between the high watermark and the committed offset, per consumer group and partition',
    labelNames: ['group', 'topic', 'partition'],
    registers: [opts.registry],
    async collect() {
      this.reset();
      const hwms = new Map<string, bigint | null>();
      let series = 0;
      try {
        for (const group of opts.coordinator.groupIds()) {
          for (const o of await opts.store.fetch(group)) {
            if (series >= maxSeries) return;
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
            const lag = hwm > o.offset ? hwm - o.offset : 0n;
            this.set({ group, topic: o.topic, partition: String(o.partition) }, Number(lag));
            series++;
          }
        }
      } catch (err) {
        opts.logger.warn({ err }, 'computing consumer lag failed');
      }
    },
  });
}
