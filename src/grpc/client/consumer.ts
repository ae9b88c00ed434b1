import { status } from '@grpc/grpc-js';
import type { ConsumedRecordMsg, OffsetReset } from '../messages.js';
import { RpcChannel, type ChannelOptions } from './rpc-channel.js';
import { backoffMs, isRetriable, withRetries, type RetryPolicy } from './retry.js';
import { StreamHouseError } from './streamhouse-error.js';
import { ConsumerMetrics, type ClientMetricsOptions } from './client-metrics.js';
import { GroupSession, isFenced, isRebalanceRefusal } from './group-session.js';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
}

export interface ConsumerOptions extends ChannelOptions, ClientMetricsOptions {
  /** Every partition of these topics (ignored when `assignment` is given). */
  readonly topics?: readonly string[];
  /** Exactly these partitions instead of whole topics. */
  readonly assignment?: readonly TopicPartition[];
  /**
   * The consumer group. With `topics`, the consumer joins it: the group's members share the
   * partitions (assigned by the agents, rebalanced on join, leave and session expiry) and
   * resume from its committed offsets. With `assignment`, it only keeps offsets there.
   */
  readonly groupId?: string;
  /** The group drops a member it has not heard from for this long (default 10000 ms). */
  readonly sessionTimeoutMs?: number;
  /** How long a rebalance waits for every member to rejoin (default 30000 ms). */
  readonly rebalanceTimeoutMs?: number;
  /** Heartbeat period (default a third of the session timeout, at most 3000 ms). */
  readonly heartbeatIntervalMs?: number;
  /** How the group spreads partitions: 'range' (default, Kafka's RangeAssignor) or 'sticky'. */
  readonly assignor?: 'range' | 'sticky';
  /** Called (inside poll) with the partitions this member got, after each rebalance. */
  readonly onPartitionsAssigned?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Called (inside poll) before this member gives its partitions up in a rebalance; auto-commit runs after it. */
  readonly onPartitionsRevoked?: (partitions: TopicPartition[]) => void | Promise<void>;
  /** Where to start without a committed offset, or when it left the log (default 'latest', as Kafka). */
  readonly offsetReset?: 'earliest' | 'latest';
  /** Commit positions from poll() every autoCommitIntervalMs and on close (default: on when there is a group). */
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  /** Most records one poll() returns (default 500). */
  readonly maxPollRecords?: number;
  /** Most records one fetch of one partition returns (default 500). */
  readonly maxRecordsPerFetch?: number;
}

interface PartitionState {
  readonly tp: TopicPartition;
  /** Offset of the next record poll() hands out; unknown until the first answer. */
  position: bigint | undefined;
  buffer: ConsumerRecord[];
  /** Where the position goes once the buffer is drained. */
  bufferEnd: bigint | undefined;
  inflight: Promise<void> | undefined;
  /** Bumped by seek(), so an answer to an older fetch is dropped. */
  epoch: number;
  highWatermark: bigint | undefined;
  committed: bigint | undefined;
  retryAt: number;
  failures: number;
  /** Timestamp of the last record handed out (lag in seconds once the buffer is empty). */
  lastTimestamp: number | undefined;
}

const RETRY: RetryPolicy = { retries: 5, initialBackoffMs: 100, maxBackoffMs: 5000 };

/**
 * Reads whole topics (or chosen partitions) with one long-poll per partition in flight and
 * resumes from the group's committed offsets. With a group and topics it is a member of the
 * group: the members share the partitions, and a rebalance moves them (eager: every member
 * gives its partitions up, commits, and gets a new assignment).
 */
export class Consumer {
  private readonly channel: RpcChannel;
  private readonly options: ConsumerOptions;
  private readonly offsetReset: OffsetReset;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly maxPollRecords: number;
  private readonly maxRecordsPerFetch: number;
  private readonly seeks = new Map<string, bigint>();
  private readonly abort = new AbortController();
  private states: PartitionState[] | undefined;
  private assigning: Promise<PartitionState[]> | undefined;
  private failure: unknown;
  private nextAutoCommit: number;
  private rotate = 0;
  private closed = false;
  /** What this member held before its last rebalance (the sticky assignor keeps it). */
  private owned: TopicPartition[] = [];
  private readonly metrics: ConsumerMetrics;
  /** Group membership (groupId with topics), else undefined. */
  private readonly session: GroupSession | undefined;

  constructor(options: ConsumerOptions) {
    if ((options.topics?.length ?? 0) === 0 && (options.assignment?.length ?? 0) === 0) throw new TypeError('give topics or an assignment');
    if (options.groupId !== undefined && options.groupId === '') throw new TypeError('groupId must not be empty');
    this.options = options;
    this.channel = new RpcChannel(options);
    this.offsetReset = options.offsetReset === 'earliest' ? 'OFFSET_RESET_EARLIEST' : 'OFFSET_RESET_LATEST';
    this.autoCommit = options.groupId !== undefined && (options.autoCommit ?? true);
    this.autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5000;
    this.maxPollRecords = options.maxPollRecords ?? 500;
    this.maxRecordsPerFetch = options.maxRecordsPerFetch ?? 500;
    this.nextAutoCommit = Date.now() + this.autoCommitIntervalMs;
    this.metrics = new ConsumerMetrics(options, 'consumer', () =>
      (this.states ?? []).map((st) => ({
        topic: st.tp.topic,
        partition: st.tp.partition,
        position: st.position,
        highWatermark: st.highWatermark,
        committed: st.committed,
        nextTimestampMs: st.buffer[0]?.timestamp ?? st.lastTimestamp,
      })),
    );
    if (options.groupId !== undefined && (options.assignment?.length ?? 0) === 0) {
      const sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
      this.session = new GroupSession(this.channel, {
        groupId: options.groupId,
        topics: options.topics ?? [],
        clientId: this.metrics.clientId,
        sessionTimeoutMs,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 30_000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
        assignor: options.assignor ?? 'range',
      });
    }
  }

  /** This consumer's member id in its group ('' before it joined, or without membership). */
  get memberId(): string {
    return this.session?.memberId ?? '';
  }

  /** The group generation this consumer's partitions belong to (-1 before it joined, or without membership). */
  get generationId(): number {
    return this.session?.generationId ?? -1;
  }

  /** The client_id label of this consumer's metrics. */
  get clientId(): string {
    return this.metrics.clientId;
  }

  get address(): string {
    return this.channel.address;
  }

  /**
   * The partitions this consumer reads: the group's assignment to it (joining the group the
   * first time), or the topics' partitions.
   */
  async assignment(): Promise<TopicPartition[]> {
    return (await this.partitions()).map((s) => s.tp);
  }

  /** Starts the partition at `offset` on the next poll (buffered records of it are dropped). */
  seek(tp: TopicPartition, offset: bigint): void {
    const state = this.states?.find((s) => s.tp.topic === tp.topic && s.tp.partition === tp.partition);
    if (!state) {
      this.seeks.set(tpKey(tp), offset);
      return;
    }
    state.epoch++;
    state.inflight = undefined;
    state.buffer = [];
    state.bufferEnd = undefined;
    state.position = offset;
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.states?.find((s) => s.tp.topic === tp.topic && s.tp.partition === tp.partition)?.position;
  }

  /** True when every partition has been read up to the high watermark last seen. */
  caughtUp(): boolean {
    return this.states !== undefined && this.states.every((s) => s.buffer.length === 0 && s.highWatermark !== undefined && s.position !== undefined && s.position >= s.highWatermark);
  }

  /** Records not yet handed out, up to maxPollRecords; waits up to `timeoutMs` for the first. */
  async poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (this.closed) throw new Error('consumer is closed');
    const started = performance.now();
    try {
      return await this.pollOnce(timeoutMs);
    } finally {
      this.metrics.polled((performance.now() - started) / 1000);
    }
  }

  private async pollOnce(timeoutMs: number): Promise<ConsumerRecord[]> {
    if (this.session?.rebalanceNeeded && this.states) await this.rebalance();
    const states = await this.partitions();
    if (this.autoCommit && Date.now() >= this.nextAutoCommit) {
      this.nextAutoCommit = Date.now() + this.autoCommitIntervalMs;
      await this.commit().catch((err: unknown) => {
        if (!isRetriable(err) && !isRebalanceRefusal(err)) throw err;
      });
    }
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      // the group rebalances: hand out nothing more of partitions that may be moving
      if (this.session?.rebalanceNeeded) return [];
      const out = this.drain(states);
      if (out.length > 0) {
        // partitions handed out to the end fetch on while the caller works on these records
        this.startFetches(states, Math.max(0, deadline - Date.now()));
        return out;
      }
      this.throwFailure();
      const left = deadline - Date.now();
      const started = this.startFetches(states, Math.max(0, left));
      if (left <= 0) {
        // poll(0) still gets one immediate look at every partition
        if (started.length > 0) {
          await Promise.all(started);
          const late = this.drain(states);
          this.throwFailure();
          return late;
        }
        return [];
      }
      const waits: Array<Promise<unknown>> = states.flatMap((s) => (s.inflight ? [s.inflight] : []));
      if (this.session) waits.push(this.session.news());
      let timer: NodeJS.Timeout | undefined;
      waits.push(new Promise((resolve) => (timer = setTimeout(resolve, Math.min(left, nextRetryIn(states) ?? left)))));
      await Promise.race(waits);
      clearTimeout(timer);
    }
  }

  /**
   * Commits every partition's position (the next offset to read) for the group. A group
   * member's commit is refused (FAILED_PRECONDITION) once the group has rebalanced past its
   * generation; the next poll() joins again.
   */
  async commit(): Promise<void> {
    const group = this.options.groupId;
    if (group === undefined) throw new Error('commit() needs a groupId');
    const member = this.session ? { memberId: this.session.memberId, generationId: this.session.generationId } : {};
    for (const s of this.states ?? []) {
      const position = s.position;
      if (position === undefined || position === s.committed) continue;
      try {
        await withRetries(() => this.channel.call('CommitOffset', { group, topic: s.tp.topic, partition: s.tp.partition, offset: position.toString(), metadata: '', ...member }), RETRY);
      } catch (err) {
        if (this.session && isFenced(err)) this.session.fenced();
        else if (this.session && isRebalanceRefusal(err)) this.session.rebalanceNeeded = true;
        throw err;
      }
      s.committed = position;
    }
  }

  /** Commits (with auto-commit), leaves the group, cancels fetches in flight and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.autoCommit) {
        await this.commit().catch((err: unknown) => {
          if (!isRebalanceRefusal(err)) throw err;
        });
      }
    } finally {
      await this.session?.leave();
      this.abort.abort();
      this.channel.close();
      this.metrics.close();
    }
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const err = this.failure;
    this.failure = undefined;
    throw err;
  }

  /**
   * Gives every partition up and joins the group again: revoke callback, commit of what was
   * handed out, JoinGroup, then reading the new partitions from the committed offsets.
   */
  private async rebalance(): Promise<void> {
    const session = this.session!;
    const held = (this.states ?? []).map((s) => s.tp);
    for (const s of this.states ?? []) {
      // answers to fetches in flight are dropped; positions stay for the commit
      s.epoch++;
      s.inflight = undefined;
      s.buffer = [];
      s.bufferEnd = undefined;
    }
    await this.options.onPartitionsRevoked?.(held);
    if (this.autoCommit && session.memberId !== '') {
      await this.commit().catch((err: unknown) => {
        if (!isRetriable(err) && !isRebalanceRefusal(err)) throw err;
      });
    }
    const owned = session.memberId === '' ? [] : held;
    this.states = undefined;
    this.assigning = undefined;
    this.owned = owned;
  }

  private partitions(): Promise<PartitionState[]> {
    if (this.states) return Promise.resolve(this.states);
    this.assigning ??= this.resolveAssignment().then(
      async (tps) => {
        this.states = tps.map((tp) => ({
          tp,
          position: this.seeks.get(tpKey(tp)),
          buffer: [],
          bufferEnd: undefined,
          inflight: undefined,
          epoch: 0,
          highWatermark: undefined,
          committed: undefined,
          retryAt: 0,
          failures: 0,
          lastTimestamp: undefined,
        }));
        this.seeks.clear();
        if (this.session) await this.options.onPartitionsAssigned?.(tps);
        return this.states!;
      },
      (err: unknown) => {
        this.assigning = undefined;
        throw err;
      },
    );
    return this.assigning;
  }

  private async resolveAssignment(): Promise<TopicPartition[]> {
    if (this.options.assignment && this.options.assignment.length > 0) return [...this.options.assignment];
    if (this.session) return this.session.join(this.owned, this.abort.signal);
    const out: TopicPartition[] = [];
    for (const topic of this.options.topics ?? []) {
      const t = await withRetries(() => this.channel.call('DescribeTopic', { name: topic }, { signal: this.abort.signal }), RETRY);
      for (let p = 0; p < t.partitionCount; p++) out.push({ topic, partition: p });
    }
    return out;
  }

  /** Hands out buffered records, a few partitions at a time in turn. */
  private drain(states: PartitionState[]): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    for (let i = 0; i < states.length && out.length < this.maxPollRecords; i++) {
      const s = states[(this.rotate + i) % states.length]!;
      if (s.buffer.length === 0) continue;
      const take = s.buffer.splice(0, this.maxPollRecords - out.length);
      out.push(...take);
      this.metrics.consumed(s.tp.topic, take.length, recordBytes(take));
      s.lastTimestamp = take[take.length - 1]!.timestamp;
      s.position = s.buffer.length > 0 ? s.buffer[0]!.offset : s.bufferEnd;
    }
    this.rotate = (this.rotate + 1) % Math.max(1, states.length);
    return out;
  }

  private startFetches(states: PartitionState[], maxWaitMs: number): Array<Promise<void>> {
    const started: Array<Promise<void>> = [];
    const now = Date.now();
    for (const s of states) {
      if (s.inflight || s.buffer.length > 0 || s.retryAt > now) continue;
      // the first fetch of a partition only learns where it stands, without long-polling
      const p = this.fetch(s, s.position === undefined && s.highWatermark === undefined ? 0 : maxWaitMs);
      s.inflight = p;
      started.push(p);
    }
    return started;
  }

  private async fetch(s: PartitionState, maxWaitMs: number): Promise<void> {
    const epoch = s.epoch;
    const mine = () => s.epoch === epoch && !this.closed;
    const wait = Math.min(maxWaitMs, 30_000);
    try {
      const res = await this.channel.call(
        'Consume',
        {
          topic: s.tp.topic,
          partition: s.tp.partition,
          ...(s.position !== undefined ? { offset: s.position.toString() } : {}),
          maxRecords: this.maxRecordsPerFetch,
          maxWaitMs: wait,
          group: this.options.groupId ?? '',
          offsetReset: this.offsetReset,
        },
        { timeoutMs: wait + 30_000, signal: this.abort.signal },
      );
      if (!mine()) return;
      s.failures = 0;
      s.highWatermark = BigInt(res.highWatermark);
      s.buffer = res.records.map(consumerRecord);
      s.bufferEnd = BigInt(res.nextOffset);
      if (s.position === undefined) s.position = s.buffer.length > 0 ? s.buffer[0]!.offset : s.bufferEnd;
      if (s.buffer.length === 0) s.position = s.bufferEnd;
    } catch (err) {
      if (!mine()) return;
      this.metrics.fetchFailed(s.tp.topic);
      if (err instanceof StreamHouseError && err.code === status.OUT_OF_RANGE) {
        // our position left the log (records deleted): start over as offsetReset says
        await this.resetPosition(s).catch((e: unknown) => this.recordFailure(s, e));
      } else this.recordFailure(s, err);
    } finally {
      if (s.epoch === epoch) s.inflight = undefined;
    }
  }

  private recordFailure(s: PartitionState, err: unknown): void {
    if (isRetriable(err)) {
      s.retryAt = Date.now() + backoffMs(s.failures++, RETRY);
      return;
    }
    this.failure ??= err;
  }

  private async resetPosition(s: PartitionState): Promise<void> {
    const spec = this.offsetReset === 'OFFSET_RESET_EARLIEST' ? 'OFFSET_SPEC_EARLIEST' : 'OFFSET_SPEC_LATEST';
    const res = await this.channel.call('GetOffset', { topic: s.tp.topic, partition: s.tp.partition, spec }, { signal: this.abort.signal });
    s.position = BigInt(res.offset);
    s.highWatermark = BigInt(res.highWatermark);
  }
}

/** Key, value and header bytes of records (what bytes_consumed counts). */
export function recordBytes(records: readonly ConsumerRecord[]): number {
  let n = 0;
  for (const r of records) {
    n += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    for (const h of r.headers) n += Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  }
  return n;
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

function nextRetryIn(states: PartitionState[]): number | undefined {
  let soonest: number | undefined;
  const now = Date.now();
  for (const s of states) {
    if (s.inflight || s.retryAt <= now) continue;
    const inMs = s.retryAt - now;
    if (soonest === undefined || inMs < soonest) soonest = inMs;
  }
  return soonest;
}

export function consumerRecord(r: ConsumedRecordMsg): ConsumerRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: BigInt(r.offset),
    key: r.key ?? null,
    value: r.value ?? null,
    headers: r.headers.map((h) => ({ key: h.key, value: h.value ?? null })),
    timestamp: Number(r.timestampMs),
    timestampType: r.timestampType === 'TIMESTAMP_TYPE_LOG_APPEND_TIME' ? 'LogAppendTime' : 'CreateTime',
  };
}
