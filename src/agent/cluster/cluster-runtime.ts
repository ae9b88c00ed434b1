// An agent's membership in a cluster (SPEC §8): it heartbeats into the metadata store,
// decides by rendezvous hashing over the live agents which partitions and coordinator
// shards it should own, acquires those that are free or expired, renews what it holds,
// and hands over (stop accepting, drain, release) what should move. Lease validity is
// judged by the store's clock; locally the agent only ever shortens it (monotonic time
// since the request was sent), so a paused or skewed agent stops writing on its own and
// the commit guard catches whatever slips through.

import type { Logger } from 'pino';
import type { AgentRecord, Lease, MetadataStore } from '../../metadata/metadata-store.js';
import { coordinatorShardResource, parsePartitionResource, partitionLeaseResource } from './lease-resources.js';
import { rendezvousOwner } from './rendezvous.js';

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
  /** Runs with every view refresh, e.g. to pick up topics other agents created or deleted. */
  readonly onViewRefresh?: () => Promise<void>;
}

interface HeldLease {
  readonly lease: Lease;
  /** performance.now() after which this agent no longer trusts the lease. */
  readonly localDeadline: number;
}

/** How often the cluster picture (live agents, lease owners) is refreshed for clients. */
const VIEW_REFRESH_MS = 500;
/** Retry pace while this agent wants resources another agent still holds. */
const PENDING_RETRY_MS = 200;

export class ClusterRuntime {
  private readonly held = new Map<string, HeldLease>();
  private snapshot = new Map<string, Lease>();
  private liveAgents: AgentRecord[] = [];
  private allAgents = new Map<string, AgentRecord>();
  private me: AgentRecord | undefined;
  private tickChain: Promise<void> = Promise.resolve();
  private tickTimer: NodeJS.Timeout | undefined;
  private viewTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private pokePending = false;

  constructor(private readonly opts: ClusterRuntimeOptions) {}

  get self(): AgentRecord {
    if (!this.me) throw new Error('cluster runtime not started');
    return this.me;
  }

  /** Registers, takes what this agent should own, and starts the loops. */
  async start(): Promise<void> {
    this.me = await this.opts.metadata.agents.register({
      agentId: this.opts.agentId,
      ...(this.opts.nodeId !== undefined ? { nodeId: this.opts.nodeId } : {}),
      host: this.opts.host,
      port: this.opts.port,
      rack: this.opts.rack,
    });
    await this.runTick();
    await this.refreshView();
    this.viewTimer = setInterval(() => void this.refreshView().catch((err: unknown) => this.opts.logger.warn({ err }, 'cluster view refresh failed')), VIEW_REFRESH_MS);
    this.viewTimer.unref();
  }

  /** The lease this agent holds on `resource` and still trusts, if any. */
  heldLease(resource: string): Lease | undefined {
    const h = this.held.get(resource);
    if (!h) return undefined;
    if (performance.now() >= h.localDeadline) return undefined;
    return h.lease;
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
    if (this.held.delete(resource)) {
      this.opts.logger.warn({ resource }, 'partition lease lost (commit fenced)');
      this.opts.partitionChanged(topic, partition);
    }
    this.poke();
  }

  /** Runs a tick soon (e.g. a topic appeared or a partition has no leader). */
  poke(): void {
    if (this.stopped || this.pokePending) return;
    this.pokePending = true;
    setTimeout(() => {
      this.pokePending = false;
      this.schedule(0);
    }, 20).unref();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined;
      void this.runTick();
    }, delayMs);
    this.tickTimer.unref();
  }

  private runTick(): Promise<void> {
    this.tickChain = this.tickChain.then(async () => {
      if (this.stopped) return;
      let pending = false;
      try {
        pending = await this.tick();
      } catch (err) {
        this.opts.logger.warn({ err }, 'cluster heartbeat failed');
      }
      this.schedule(pending ? Math.min(PENDING_RETRY_MS, this.opts.heartbeatIntervalMs) : this.opts.heartbeatIntervalMs);
    });
    return this.tickChain;
  }

  /** One heartbeat; true when this agent still waits for resources held by others. */
  private async tick(): Promise<boolean> {
    const { metadata, agentId, leaseTtlMs, logger } = this.opts;
    if (!(await metadata.agents.heartbeat(agentId))) {
      this.me = await metadata.agents.register({ agentId, nodeId: this.self.nodeId, host: this.opts.host, port: this.opts.port, rack: this.opts.rack });
    }
    const live = await metadata.agents.listLive(leaseTtlMs);
    const liveIds = live.map((a) => a.agentId);
    if (!liveIds.includes(agentId)) liveIds.push(agentId);

    await Promise.all(
      [...this.held].map(async ([resource, h]) => {
        const sent = performance.now();
        const renewed = await metadata.leases.renew(resource, agentId, h.lease.epoch, leaseTtlMs);
        if (this.held.get(resource) !== h) return;
        if (renewed) this.held.set(resource, { lease: renewed, localDeadline: sent + leaseTtlMs });
        else {
          this.held.delete(resource);
          logger.warn({ resource, epoch: h.lease.epoch }, 'lease expired before renewal');
          this.changed(resource);
        }
      }),
    );

    const resources: string[] = [];
    for (const topic of await metadata.topics.list()) {
      for (let p = 0; p < topic.partitionCount; p++) resources.push(partitionLeaseResource(topic.name, p));
    }
    for (let s = 0; s < this.opts.coordinatorShards; s++) resources.push(coordinatorShardResource(s));
    const existing = new Set(resources);

    // planned hand-over: stop accepting, commit what is queued, then let go
    const moving = [...this.held.keys()].filter((r) => !existing.has(r) || rendezvousOwner(r, liveIds) !== agentId);
    if (moving.length > 0) {
      const leases = moving.map((r) => this.held.get(r)!.lease);
      for (const r of moving) this.held.delete(r);
      await this.opts.drain();
      await Promise.all(leases.map((l) => metadata.leases.release(l.resource, agentId, l.epoch)));
      for (const r of moving) this.changed(r);
      logger.info({ released: moving.length }, 'handed over leases');
    }

    let pending = false;
    const wanted = resources.filter((r) => !this.held.has(r) && rendezvousOwner(r, liveIds) === agentId);
    await Promise.all(
      wanted.map(async (resource) => {
        const sent = performance.now();
        const lease = await metadata.leases.acquire(resource, agentId, leaseTtlMs);
        if (!lease) {
          pending = true;
          return;
        }
        this.held.set(resource, { lease, localDeadline: sent + leaseTtlMs });
        this.changed(resource);
        logger.debug({ resource, epoch: lease.epoch }, 'lease acquired');
      }),
    );
    this.liveAgents = live;
    return pending;
  }

  private changed(resource: string): void {
    const p = parsePartitionResource(resource);
    if (p) this.opts.partitionChanged(p.topic, p.partition);
  }

  private async refreshView(): Promise<void> {
    if (this.stopped) return;
    const [live, all, leases] = await Promise.all([
      this.opts.metadata.agents.listLive(this.opts.leaseTtlMs),
      this.opts.metadata.agents.list(),
      this.opts.metadata.leases.list(),
    ]);
    this.liveAgents = live;
    this.allAgents = new Map(all.map((a) => [a.agentId, a]));
    this.snapshot = new Map(leases.map((l) => [l.resource, l]));
    await this.opts.onViewRefresh?.();
  }

  /** Graceful stop (SIGTERM): stop accepting, commit what is queued, release everything, leave. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.viewTimer) clearInterval(this.viewTimer);
    await this.tickChain;
    const leases = [...this.held.values()].map((h) => h.lease);
    this.held.clear();
    try {
      await this.opts.drain();
      await Promise.all(leases.map((l) => this.opts.metadata.leases.release(l.resource, this.opts.agentId, l.epoch)));
      await this.opts.metadata.agents.deregister(this.opts.agentId);
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not release leases at stop; they expire on their own');
    }
    for (const l of leases) this.changed(l.resource);
  }
}
