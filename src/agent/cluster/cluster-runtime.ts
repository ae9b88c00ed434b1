// An agent's membership in a cluster (docs/architecture.md §8): it heartbeats into the metadata store,
// decides by rendezvous hashing over the live agents which partitions and coordinator
// shards it should own, acquires those that are free or expired, renews what it holds,
// and hands over (stop accepting, drain, release) what should move. Lease validity is
// judged by the store's clock; locally the agent only ever shortens it (monotonic time
// since the request was sent), so a paused or skewed agent stops writing on its own and
// the commit guard catches whatever slips through.
//
// Three loops, all serialized on one chain so the held map changes in one place:
//  - the heartbeat (every heartbeatIntervalMs): register/heartbeat, renew every held lease
//    in one statement, release what should move, acquire what this agent should own;
//  - the pending retry (every PENDING_RETRY_MS while this agent waits for leases another
//    agent is handing over or that are about to expire): one acquireMany;
//  - the view refresh (every VIEW_REFRESH_MS): live agents, lease owners and topics for
//    client-facing metadata; when it shows work for this agent (an agent joined or left, a
//    partition without an owner that this agent should own) it runs a heartbeat at once, so
//    a planned move does not wait for the next heartbeat.

import { setTimeout as pause } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { AgentRecord, Lease, MetadataStore } from '../../metadata/metadata-store.js';
import { COORDINATOR_SHARD_PREFIX, coordinatorShardResource, parsePartitionResource, partitionLeaseResource } from './lease-resources.js';
import { rendezvousOwner } from './rendezvous.js';

/** What a lease is for: a partition's leadership or a group-coordinator shard. */
export type LeaseKind = 'partition' | 'coordinator';

/**
 * Why this agent stopped holding leases: not renewed in time, a flush commit found it gone,
 * handed over to the agent that should own it now (planned move), or given up at stop.
 */
export type LeaseLossReason = 'expired' | 'fenced' | 'handed_over' | 'released';

/** A batch of lease changes of one kind, for metrics. */
export type LeaseChange = { readonly change: 'acquired'; readonly kind: LeaseKind; readonly count: number } | { readonly change: 'lost'; readonly kind: LeaseKind; readonly reason: LeaseLossReason; readonly count: number };

export interface ClusterTopic {
  readonly name: string;
  readonly partitionCount: number;
}

export interface ClusterRuntimeOptions {
  readonly metadata: MetadataStore;
  readonly agentId: string;
  /** Wanted node id for a first registration. */
  readonly nodeId?: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly heartbeatIntervalMs: number;
  readonly leaseTtlMs: number;
  readonly coordinatorShards: number;
  readonly logger: Logger;
  /** Flushes and commits everything queued (before a planned release). */
  readonly drain: () => Promise<void>;
  /** A partition's lease was acquired, released or lost: in-memory state must be reloaded or dropped. */
  readonly partitionChanged: (topic: string, partition: number) => void;
  /** The topics as the store has them now (including those other agents created or deleted). */
  readonly listTopics: () => Promise<readonly ClusterTopic[]>;
  /** How often the client-facing view is refreshed; default VIEW_REFRESH_MS. */
  readonly viewRefreshMs?: number;
  /** Told of every batch of leases acquired or lost (metrics). */
  readonly leasesChanged?: (change: LeaseChange) => void;
}

interface HeldLease {
  readonly lease: Lease;
  /** performance.now() after which this agent no longer trusts the lease. */
  readonly localDeadline: number;
}

/** How often the cluster picture (live agents, lease owners, topics) is refreshed. */
const VIEW_REFRESH_MS = 250;
/** Retry pace while this agent wants resources another agent still holds. */
const PENDING_RETRY_MS = 100;
/** Shortest gap between two on-demand view refreshes (a burst of leaderless look-ups). */
const MIN_ON_DEMAND_REFRESH_MS = 50;

/** A pause that does not keep the process alive. */
const sleep = (ms: number): Promise<void> => pause(ms, undefined, { ref: false });

export class ClusterRuntime {
  private readonly held = new Map<string, HeldLease>();
  private snapshot = new Map<string, Lease>();
  private liveAgents: AgentRecord[] = [];
  private allAgents = new Map<string, AgentRecord>();
  private me: AgentRecord | undefined;
  /** The live agent ids the last heartbeat divided the work by, sorted. */
  private assignedOver: string[] = [];
  /** Resources this agent should own but another agent still held at the last attempt. */
  private pending: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private pendingTimer: NodeJS.Timeout | undefined;
  private viewTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private lastRefreshStart = 0;
  private stopped = false;
  private pokePending = false;
  /** performance.now() when the last view refresh completed (undefined before the first). */
  private viewLoadedAt: number | undefined;

  constructor(private readonly opts: ClusterRuntimeOptions) {}

  get self(): AgentRecord {
    if (!this.me) throw new Error('cluster runtime not started');
    return this.me;
  }

  /** Registers, fences a previous incarnation, takes what this agent should own, and starts the loops. */
  async start(): Promise<void> {
    const { metadata, agentId } = this.opts;
    this.me = await metadata.agents.register({
      agentId,
      ...(this.opts.nodeId !== undefined ? { nodeId: this.opts.nodeId } : {}),
      host: this.opts.host,
      port: this.opts.port,
      rack: this.opts.rack,
    });
    // leases still held under this agent id belong to a previous process (a restart): give
    // them up so this process, or whichever agent should own them now, takes them at once
    const leftOver = (await metadata.leases.list()).filter((l) => l.owner === agentId);
    if (leftOver.length > 0) {
      await metadata.leases.releaseMany(leftOver, agentId);
      this.opts.logger.info({ released: leftOver.length }, 'released leases left by a previous run of this agent');
    }
    await this.runHeartbeat();
    await this.refreshView();
    const every = this.opts.viewRefreshMs ?? VIEW_REFRESH_MS;
    this.viewTimer = setInterval(() => void this.refreshSoon(0), every);
    this.viewTimer.unref();
  }

  /** Milliseconds since the cluster view (agents, lease owners, topics) was last loaded; undefined before it first was. */
  viewAgeMs(): number | undefined {
    return this.viewLoadedAt === undefined ? undefined : performance.now() - this.viewLoadedAt;
  }

  /** The lease this agent holds on `resource` and still trusts, if any. */
  heldLease(resource: string): Lease | undefined {
    const h = this.held.get(resource);
    if (!h) return undefined;
    if (performance.now() >= h.localDeadline) return undefined;
    return h.lease;
  }

  /** How many partition and coordinator-shard leases this agent holds now (metrics). */
  heldCounts(): { partitions: number; coordinatorShards: number } {
    let shards = 0;
    for (const resource of this.held.keys()) if (resource.startsWith(COORDINATOR_SHARD_PREFIX)) shards++;
    return { partitions: this.held.size - shards, coordinatorShards: shards };
  }

  /**
   * Partitions of `topics` and coordinator shards that have no live lease holder as this
   * agent's view has them (metrics): no unexpired lease at the last view refresh (at most
   * VIEW_REFRESH_MS old), this agent's own lease past its local deadline, or a holder that is
   * not among the live agents. Map look-ups over the given partitions; no store call.
   */
  leaderlessCounts(topics: readonly ClusterTopic[]): { partitions: number; coordinatorShards: number } {
    const live = new Set<string>();
    for (const a of this.liveAgents) live.add(a.agentId);
    const led = (resource: string): boolean => {
      if (this.heldLease(resource)) return true;
      const seen = this.snapshot.get(resource);
      return seen !== undefined && seen.owner !== this.opts.agentId && live.has(seen.owner);
    };
    let partitions = 0;
    for (const topic of topics) {
      for (let p = 0; p < topic.partitionCount; p++) if (!led(partitionLeaseResource(topic.name, p))) partitions++;
    }
    let coordinatorShards = 0;
    for (let s = 0; s < this.opts.coordinatorShards; s++) if (!led(coordinatorShardResource(s))) coordinatorShards++;
    return { partitions, coordinatorShards };
  }

  heldPartition(topic: string, partition: number): Lease | undefined {
    return this.heldLease(partitionLeaseResource(topic, partition));
  }

  /** Current owner of a resource as last seen (this agent's own leases are always current). */
  leaseOf(resource: string): Lease | undefined {
    const mine = this.heldLease(resource);
    if (mine) return mine;
    const seen = this.snapshot.get(resource);
    if (!seen || seen.owner === this.opts.agentId) return undefined;
    return seen;
  }

  agent(agentId: string): AgentRecord | undefined {
    return agentId === this.opts.agentId ? this.me : this.allAgents.get(agentId);
  }

  /** Live agents, plus any agent still holding a lease (so a leader is always a listed broker). */
  brokers(): AgentRecord[] {
    const byId = new Map(this.liveAgents.map((a) => [a.agentId, a]));
    if (this.me) byId.set(this.me.agentId, this.me);
    for (const lease of this.snapshot.values()) {
      const a = this.allAgents.get(lease.owner);
      if (a && !byId.has(a.agentId)) byId.set(a.agentId, a);
    }
    return [...byId.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  coordinatorShardResource(shard: number): string {
    return coordinatorShardResource(shard);
  }

  /** The commit guard failed: this agent no longer owns the partition. */
  leaseLost(topic: string, partition: number): void {
    const resource = partitionLeaseResource(topic, partition);
    const lost = this.held.get(resource);
    if (lost && this.held.delete(resource)) {
      this.opts.logger.warn({ partitions: [`${topic}-${partition}`], epoch: lost.lease.epoch }, 'lost partition lease (commit fenced)');
      this.report('lost', [resource], 'fenced');
      this.opts.partitionChanged(topic, partition);
    }
    this.poke();
  }

  /** Runs a heartbeat soon (something this agent should act on changed). */
  poke(): void {
    if (this.stopped || this.pokePending) return;
    this.pokePending = true;
    setTimeout(() => {
      this.pokePending = false;
      this.scheduleHeartbeat(0);
    }, 20).unref();
  }

  /**
   * Refreshes the view unless one ran within `minGapMs` (then waits for that one): a
   * leaderless look-up asks for this instead of a heartbeat, so a burst of client
   * requests during a failover costs a few reads, not a storm of lease writes.
   */
  refreshSoon(minGapMs = MIN_ON_DEMAND_REFRESH_MS): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.refreshing) return this.refreshing;
    if (performance.now() - this.lastRefreshStart < minGapMs) return Promise.resolve();
    this.lastRefreshStart = performance.now();
    this.refreshing = this.refreshView()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'cluster view refresh failed'))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /**
   * Waits until every resource has an owner this agent knows of (e.g. the partitions of a
   * topic just created); false when `timeoutMs` passed first.
   */
  async awaitOwners(resources: readonly string[], timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    this.poke();
    for (;;) {
      if (resources.every((r) => this.leaseOf(r) !== undefined)) return true;
      if (this.stopped || performance.now() >= until) return false;
      await sleep(MIN_ON_DEMAND_REFRESH_MS);
      await this.refreshSoon();
    }
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (this.stopped) return;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      void this.runHeartbeat();
    }, delayMs);
    this.heartbeatTimer.unref();
  }

  private schedulePendingRetry(): void {
    if (this.stopped || this.pendingTimer || this.pending.length === 0) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = undefined;
      void this.serialized(() => this.retryPending());
    }, Math.min(PENDING_RETRY_MS, this.opts.heartbeatIntervalMs));
    this.pendingTimer.unref();
  }

  private serialized(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (err) {
        this.opts.logger.warn({ err }, 'cluster heartbeat failed');
      }
    });
    this.chain = run;
    return run;
  }

  private runHeartbeat(): Promise<void> {
    return this.serialized(() => this.heartbeat()).finally(() => {
      this.scheduleHeartbeat(this.opts.heartbeatIntervalMs);
      this.schedulePendingRetry();
    });
  }

  private async heartbeat(): Promise<void> {
    const { metadata, agentId, leaseTtlMs, logger } = this.opts;
    if (!(await metadata.agents.heartbeat(agentId))) {
      this.me = await metadata.agents.register({ agentId, nodeId: this.self.nodeId, host: this.opts.host, port: this.opts.port, rack: this.opts.rack });
    }
    const live = await metadata.agents.listLive(leaseTtlMs);
    const liveIds = live.map((a) => a.agentId);
    if (!liveIds.includes(agentId)) liveIds.push(agentId);
    liveIds.sort();

    // one statement renews every held lease
    if (this.held.size > 0) {
      const before = new Map(this.held);
      const sent = performance.now();
      const renewed = await metadata.leases.renewMany(
        [...before.values()].map((h) => h.lease),
        agentId,
        leaseTtlMs,
      );
      const ok = new Map(renewed.map((l) => [l.resource, l]));
      const expired: string[] = [];
      for (const [resource, h] of before) {
        if (this.held.get(resource) !== h) continue;
        const lease = ok.get(resource);
        if (lease) this.held.set(resource, { lease, localDeadline: sent + leaseTtlMs });
        else {
          this.held.delete(resource);
          expired.push(resource);
          this.changed(resource);
        }
      }
      if (expired.length > 0) {
        logger.warn(describeResources(expired), 'lost leases (expired before renewal)');
        this.report('lost', expired, 'expired');
      }
    }

    const resources = await this.resources();
    const existing = new Set(resources);

    // planned hand-over: stop accepting, commit what is queued, then let go
    const moving = [...this.held.keys()].filter((r) => !existing.has(r) || rendezvousOwner(r, liveIds) !== agentId);
    if (moving.length > 0) {
      const leases = moving.map((r) => this.held.get(r)!.lease);
      for (const r of moving) this.held.delete(r);
      const started = performance.now();
      await this.opts.drain();
      await metadata.leases.releaseMany(leases, agentId);
      for (const r of moving) {
        this.snapshot.delete(r);
        this.changed(r);
      }
      logger.info({ released: moving.length, ...describeResources(moving), ms: Math.round(performance.now() - started) }, 'handed over leases');
      this.report('lost', moving, 'handed_over');
    }

    this.assignedOver = liveIds;
    this.liveAgents = live;
    this.pending = resources.filter((r) => !this.held.has(r) && rendezvousOwner(r, liveIds) === agentId);
    await this.acquire();
  }

  /** One acquireMany for what this agent should own and still waits for. */
  private async retryPending(): Promise<void> {
    this.pending = this.pending.filter((r) => !this.held.has(r));
    await this.acquire();
    this.schedulePendingRetry();
  }

  private async acquire(): Promise<void> {
    if (this.pending.length === 0) return;
    const sent = performance.now();
    const got = await this.opts.metadata.leases.acquireMany(this.pending, this.opts.agentId, this.opts.leaseTtlMs);
    for (const lease of got) {
      this.held.set(lease.resource, { lease, localDeadline: sent + this.opts.leaseTtlMs });
      this.snapshot.set(lease.resource, lease);
      this.changed(lease.resource);
    }
    if (got.length > 0) {
      const taken = got.map((l) => l.resource);
      // one line per batch: after a failover it names everything taken over from the dead agent
      this.opts.logger.info({ acquired: got.length, ...describeResources(taken) }, 'acquired leases');
      this.report('acquired', taken);
      const takenSet = new Set(taken);
      this.pending = this.pending.filter((r) => !takenSet.has(r));
    }
  }

  private async resources(): Promise<string[]> {
    const resources: string[] = [];
    for (const topic of await this.opts.listTopics()) {
      for (let p = 0; p < topic.partitionCount; p++) resources.push(partitionLeaseResource(topic.name, p));
    }
    for (let s = 0; s < this.opts.coordinatorShards; s++) resources.push(coordinatorShardResource(s));
    return resources;
  }

  /** Counts a batch of changes, one report per kind. */
  private report(change: 'acquired' | 'lost', resources: readonly string[], reason: LeaseLossReason = 'released'): void {
    const observe = this.opts.leasesChanged;
    if (!observe) return;
    const shards = resources.filter((r) => r.startsWith(COORDINATOR_SHARD_PREFIX)).length;
    const counts: Array<[LeaseKind, number]> = [
      ['partition', resources.length - shards],
      ['coordinator', shards],
    ];
    for (const [kind, count] of counts) {
      if (count === 0) continue;
      observe(change === 'acquired' ? { change, kind, count } : { change, kind, reason, count });
    }
  }

  private changed(resource: string): void {
    const p = parsePartitionResource(resource);
    if (p) this.opts.partitionChanged(p.topic, p.partition);
  }

  private async refreshView(): Promise<void> {
    if (this.stopped) return;
    const [live, all, leases, resources] = await Promise.all([
      this.opts.metadata.agents.listLive(this.opts.leaseTtlMs),
      this.opts.metadata.agents.list(),
      this.opts.metadata.leases.list(),
      this.resources(),
    ]);
    this.liveAgents = live;
    this.allAgents = new Map(all.map((a) => [a.agentId, a]));
    this.snapshot = new Map(leases.map((l) => [l.resource, l]));
    for (const [resource, h] of this.held) this.snapshot.set(resource, h.lease);
    this.viewLoadedAt = performance.now();
    if (this.needsHeartbeat(live, resources)) this.poke();
  }

  /** An agent joined or left, or a resource this agent should own has no owner. */
  private needsHeartbeat(live: readonly AgentRecord[], resources: readonly string[]): boolean {
    const liveIds = live.map((a) => a.agentId);
    if (!liveIds.includes(this.opts.agentId)) liveIds.push(this.opts.agentId);
    liveIds.sort();
    if (liveIds.join('\u0000') !== this.assignedOver.join('\u0000')) return true;
    const pending = new Set(this.pending);
    for (const r of resources) {
      if (!this.snapshot.has(r) && !pending.has(r) && rendezvousOwner(r, liveIds) === this.opts.agentId) return true;
    }
    return false;
  }

  /** Graceful stop (SIGTERM): stop accepting, commit what is queued, release everything, leave. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.heartbeatTimer, this.pendingTimer]) if (t) clearTimeout(t);
    if (this.viewTimer) clearInterval(this.viewTimer);
    await this.chain;
    const leases = [...this.held.values()].map((h) => h.lease);
    this.held.clear();
    try {
      await this.opts.drain();
      await this.opts.metadata.leases.releaseMany(leases, this.opts.agentId);
      if (leases.length > 0) {
        const released = leases.map((l) => l.resource);
        this.opts.logger.info({ released: released.length, ...describeResources(released) }, 'released leases at stop');
        this.report('lost', released, 'released');
      }
      await this.opts.metadata.agents.deregister(this.opts.agentId);
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not release leases at stop; they expire on their own');
    }
    for (const l of leases) this.changed(l.resource);
  }
}

/**
 * Resources for a log line: partitions as `topic-partition` and coordinator shards as
 * numbers, each sorted.
 */
export function describeResources(resources: readonly string[]): { partitions: string[]; coordinatorShards: number[] } {
  const partitions: string[] = [];
  const coordinatorShards: number[] = [];
  for (const r of resources) {
    const p = parsePartitionResource(r);
    if (p) partitions.push(`${p.topic}-${p.partition}`);
    else if (r.startsWith(COORDINATOR_SHARD_PREFIX)) coordinatorShards.push(Number(r.slice(COORDINATOR_SHARD_PREFIX.length)));
  }
  return { partitions: partitions.sort(), coordinatorShards: coordinatorShards.sort((a, b) => a - b) };
}
