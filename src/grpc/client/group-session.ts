import { status } from '@grpc/grpc-js';
import type { GroupAssignorName, TopicPartitionsMsg } from '../messages.js';
import type { RpcChannel } from './rpc-channel.js';
import { backoffMs, isRetriable, type RetryPolicy } from './retry.js';
import { StreamHouseError } from './streamhouse-error.js';

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface GroupSessionOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly assignor: 'range' | 'sticky';
}

const JOIN_RETRY: RetryPolicy = { retries: 20, initialBackoffMs: 100, maxBackoffMs: 2000 };

/**
 * A consumer's membership of its group: JoinGroup (answered with this member's partitions
 * once the group settled), heartbeats in the background, and the news that the group wants
 * to rebalance or has fenced this member. The Consumer acts on that news in poll().
 */
export class GroupSession {
  memberId = '';
  generationId = -1;
  /** Set by a heartbeat: give the partitions up and join again. */
  rebalanceNeeded = false;
  private timer: NodeJS.Timeout | undefined;
  private joining = false;
  private closed = false;
  private heartbeatInFlight = false;
  private wakers: Array<() => void> = [];

  constructor(
    private readonly channel: RpcChannel,
    private readonly opts: GroupSessionOptions,
  ) {}

  /** Joins (or rejoins) and waits for the group's new generation: this member's partitions. */
  async join(owned: readonly TopicPartitionRef[], signal: AbortSignal): Promise<TopicPartitionRef[]> {
    this.joining = true;
    this.stopHeartbeats();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await this.channel.call(
            'JoinGroup',
            {
              group: this.opts.groupId,
              topics: [...this.opts.topics],
              memberId: this.memberId,
              sessionTimeoutMs: this.opts.sessionTimeoutMs,
              rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs,
              assignor: (this.opts.assignor === 'sticky' ? 'GROUP_ASSIGNOR_STICKY' : 'GROUP_ASSIGNOR_RANGE') satisfies GroupAssignorName,
              clientId: this.opts.clientId,
              owned: toTopicPartitions(owned),
            },
            // the group waits up to the rebalance timeout for its members, plus finding its coordinator
            { timeoutMs: this.opts.rebalanceTimeoutMs + 20_000, signal },
          );
          this.memberId = res.memberId;
          this.generationId = res.generationId;
          this.rebalanceNeeded = false;
          this.startHeartbeats();
          return res.assignment.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition })));
        } catch (err) {
          if (this.closed || signal.aborted) throw err;
          if (isFenced(err)) {
            this.memberId = '';
            continue;
          }
          if (!isRetriable(err) || attempt >= JOIN_RETRY.retries) throw err;
          await new Promise((r) => setTimeout(r, backoffMs(attempt, JOIN_RETRY)));
        }
      }
    } finally {
      this.joining = false;
    }
  }

  /** The group no longer knows this member (generation or id): its partitions are gone. */
  fenced(): void {
    this.memberId = '';
    this.generationId = -1;
    this.stopHeartbeats();
    this.needRebalance();
  }

  /** Resolves when a heartbeat brings news (or at once when there is some). */
  news(): Promise<void> {
    if (this.rebalanceNeeded || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  /** Leaves the group so its partitions move at once instead of after the session timeout. */
  async leave(): Promise<void> {
    this.closed = true;
    this.stopHeartbeats();
    this.wake();
    if (this.memberId === '') return;
    await this.channel.call('LeaveGroup', { group: this.opts.groupId, memberId: this.memberId, clientId: this.opts.clientId }, { timeoutMs: 5000 }).catch(() => undefined);
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    if (this.closed) return;
    this.timer = setInterval(() => void this.beat(), this.opts.heartbeatIntervalMs);
    this.timer.unref();
  }

  private stopHeartbeats(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    // beats go on while the application has not yet called poll() to rejoin: the group waits
    // for it up to the rebalance timeout, and the session must not expire meanwhile
    if (this.joining || this.closed || this.heartbeatInFlight || this.memberId === '') return;
    this.heartbeatInFlight = true;
    const generation = this.generationId;
    try {
      const res = await this.channel.call(
        'GroupHeartbeat',
        { group: this.opts.groupId, memberId: this.memberId, generationId: generation, clientId: this.opts.clientId, sessionTimeoutMs: this.opts.sessionTimeoutMs },
        { timeoutMs: Math.max(1000, this.opts.sessionTimeoutMs) },
      );
      if (res.rebalance && generation === this.generationId && !this.rebalanceNeeded) this.needRebalance();
    } catch (err) {
      if (isFenced(err) && generation === this.generationId) this.fenced();
      // anything else (the coordinator moving, a dropped connection): the next beat tries again
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  private needRebalance(): void {
    this.rebalanceNeeded = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }
}

/** FAILED_PRECONDITION naming a generation or member the group no longer has. */
export function isFenced(err: unknown): boolean {
  return err instanceof StreamHouseError && err.code === status.FAILED_PRECONDITION && (err.kafkaError === 'UNKNOWN_MEMBER_ID' || err.kafkaError === 'ILLEGAL_GENERATION');
}

/** A commit the group refused because it rebalances (or moved on): rejoin first. */
export function isRebalanceRefusal(err: unknown): boolean {
  return isFenced(err) || (err instanceof StreamHouseError && err.code === status.FAILED_PRECONDITION && err.kafkaError === 'REBALANCE_IN_PROGRESS');
}

function toTopicPartitions(tps: readonly TopicPartitionRef[]): TopicPartitionsMsg[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) {
    const list = byTopic.get(tp.topic) ?? [];
    list.push(tp.partition);
    byTopic.set(tp.topic, list);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
