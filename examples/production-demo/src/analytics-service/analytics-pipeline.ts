import { status } from '@grpc/grpc-js';
import { ANALYTICS_GROUP, ORDERS_TOPIC } from '../shared/topics.js';
import { AdminClient, Consumer, StreamHouseError, type ConsumerRecord, type TopicPartition } from '../shared/streamhouse-client.js';
import type { AnalyticsState } from './analytics-state.js';
import type { GroupConsumerOptions } from './group-consumer-options.js';
import { readPartition } from './partition-reader.js';

export interface PipelineOptions {
  readonly address: string;
  readonly sessionTimeoutMs?: number;
  /** Heartbeat period (default the client's: a third of the session timeout, at most 3 s). */
  readonly heartbeatIntervalMs?: number;
  readonly commitIntervalMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Consumes `orders` in group `analytics-pipeline` into per-partition ledgers.
 *
 * Exactly once: a ledger is a function of a prefix of its partition's log. When the group
 * assigns a partition, its ledger is brought up to the group's committed offset by reading
 * the partition outside the group (from offset 0, or from where this instance's own ledger of
 * it stopped); the group consumer then starts at that committed offset. A record below the
 * ledger's nextOffset is skipped, a record past it first has the gap read. So no commit timing,
 * crash, rebalance or restart can count an order twice or miss one; commits only decide where
 * the rebuild stops and the group consumer starts.
 */
export class AnalyticsPipeline {
  private readonly consumer: Consumer;
  private readonly admin: AdminClient;
  private readonly commitIntervalMs: number;
  private readonly log: (line: string) => void;
  /** Rebuilds, revocations and batches run one at a time. */
  private tail: Promise<void> = Promise.resolve();
  private running: Promise<void> | undefined;
  private stopped = false;
  private nextCommit = 0;
  callbacks = 0;

  constructor(
    private readonly state: AnalyticsState,
    private readonly options: PipelineOptions,
  ) {
    this.commitIntervalMs = options.commitIntervalMs ?? 1000;
    this.log = options.log ?? ((line) => console.log(line));
    this.admin = new AdminClient({ address: options.address });
    const consumerOptions: GroupConsumerOptions = {
      address: options.address,
      topics: [ORDERS_TOPIC],
      groupId: ANALYTICS_GROUP,
      offsetReset: 'earliest',
      autoCommit: false,
      maxPollRecords: 20000,
      maxRecordsPerFetch: 10000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      ...(options.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
      assignor: 'range',
      onPartitionsAssigned: (tps) => {
        this.callbacks++;
        return this.assign(tps);
      },
      onPartitionsRevoked: (tps) => {
        this.callbacks++;
        return this.revoke(tps, true);
      },
    };
    this.consumer = new Consumer(consumerOptions);
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.log(`analytics pipeline failed: ${String(err)}`);
      process.exitCode = 1;
      throw err;
    });
  }

  /** Commits what was applied, leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
    await this.commit();
    await this.consumer.close();
    this.admin.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const records = await this.consumer.poll(500);
      // a client without group callbacks: own what the consumer reads
      await this.reconcile();
      if (records.length > 0) await this.exclusive(() => this.applyBatch(records));
      if (Date.now() >= this.nextCommit) {
        this.nextCommit = Date.now() + this.commitIntervalMs;
        await this.commit();
      }
    }
  }

  private exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async applyBatch(records: readonly ConsumerRecord[]): Promise<void> {
    for (const r of records) {
      if (r.topic !== ORDERS_TOPIC) continue;
      const ledger = this.state.ledger(r.partition);
      if (r.offset > ledger.nextOffset) {
        this.log(`partition ${r.partition}: reading ${ledger.nextOffset}..${r.offset} before offset ${r.offset}`);
        await this.catchUp(r.partition, r.offset);
      }
      if (ledger.apply(r.offset, r.value)) this.state.recordsApplied++;
    }
  }

  private assign(tps: readonly TopicPartition[]): Promise<void> {
    return this.exclusive(async () => {
      const added = tps.filter((tp) => tp.topic === ORDERS_TOPIC && !this.state.owned.has(tp.partition));
      if (added.length === 0) return;
      const committed = await this.committedOffsets();
      for (const { partition } of added) {
        const ledger = this.state.ledger(partition);
        const to = committed === undefined ? undefined : committed.get(partition);
        // no commit: the group consumer starts at the log start, nothing to rebuild
        if (committed === undefined || (to !== undefined && to > ledger.nextOffset)) await this.catchUp(partition, to);
        this.state.owned.add(partition);
      }
      this.log(`assigned ${added.map((tp) => tp.partition).join(',')}; owning ${[...this.state.owned].sort().join(',')}`);
    });
  }

  private async revoke(tps: readonly TopicPartition[], commit: boolean): Promise<void> {
    if (commit) await this.commit();
    await this.exclusive(async () => {
      // the ledger stays: should the partition come back, only what others added since is read
      for (const tp of tps) if (tp.topic === ORDERS_TOPIC) this.state.owned.delete(tp.partition);
      this.log(`revoked ${tps.map((tp) => tp.partition).join(',')}; owning ${[...this.state.owned].sort().join(',')}`);
    });
  }

  /** Owns exactly the consumer's assignment (a no-op when the callbacks keep it so). */
  private async reconcile(): Promise<void> {
    const assigned = (await this.consumer.assignment()).filter((tp) => tp.topic === ORDERS_TOPIC);
    const now = new Set(assigned.map((tp) => tp.partition));
    const gone = [...this.state.owned].filter((p) => !now.has(p)).map((partition) => ({ topic: ORDERS_TOPIC, partition }));
    if (gone.length > 0) await this.revoke(gone, false);
    if (assigned.some((tp) => !this.state.owned.has(tp.partition))) await this.assign(assigned);
  }

  /** Applies the partition's records from the ledger's nextOffset up to `to` (undefined: to the end). */
  private async catchUp(partition: number, to: bigint | undefined): Promise<void> {
    const ledger = this.state.ledger(partition);
    const started = Date.now();
    let applied = 0;
    await readPartition(this.options.address, { topic: ORDERS_TOPIC, partition }, ledger.nextOffset, to, (r) => {
      if (ledger.apply(r.offset, r.value)) applied++;
    });
    if (to !== undefined && ledger.nextOffset < to) ledger.nextOffset = to;
    this.state.recordsApplied += applied;
    this.log(`partition ${partition}: rebuilt ${applied} records up to ${ledger.nextOffset} in ${Date.now() - started} ms`);
  }

  /** The group's committed offsets of `orders`, or undefined when they could not be read. */
  private async committedOffsets(): Promise<Map<number, bigint> | undefined> {
    try {
      const group = await this.admin.describeGroup(ANALYTICS_GROUP);
      return new Map(group.offsets.filter((o) => o.topic === ORDERS_TOPIC && o.committedOffset >= 0n).map((o) => [o.partition, o.committedOffset]));
    } catch (err) {
      if (err instanceof StreamHouseError && err.code === status.NOT_FOUND) return new Map();
      this.log(`committed offsets unavailable (${String(err)}): reading to the end instead`);
      return undefined;
    }
  }

  private async commit(): Promise<void> {
    try {
      await this.consumer.commit();
    } catch (err) {
      // a stale generation: the partitions are someone else's now, and our ledgers need no commit to be right
      if (err instanceof StreamHouseError && err.code === status.FAILED_PRECONDITION) this.log(`commit refused: ${err.details}`);
      else if (err instanceof StreamHouseError && err.retriable) this.log(`commit failed, retried later: ${err.message}`);
      else throw err;
    }
  }
}
