/**
 * Consumer groups: (1) time from a membership change to the group being Stable again, with
 * raw-protocol members (JoinGroup/SyncGroup/Heartbeat, bench/lib/raw-group-member.ts) —
 * a member joining, one leaving cleanly (LeaveGroup) and one crashing (the session timeout
 * must notice) — for groups of 3, 10 and 50 members; (2) OffsetCommit throughput with
 * several clients in parallel, on SQLite and on PostgreSQL metadata.
 *   npx tsx bench/groups.ts
 *   npx tsx bench/groups.ts --heartbeat-ms 500 --session-timeout-ms 6000 --phases rebalance
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres, type PostgresProcess } from '../test-kit/postgres-process.js';
import { ErrorCode, errorInfo } from '../src/protocol/error-codes.js';
import { intFlag, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { formatLatency, LatencyRecorder } from './lib/latency-recorder.js';
import { cpuMeter } from './lib/process-cpu.js';
import { RawGroupMember, type RawMemberOptions } from './lib/raw-group-member.js';
import { appendResult, fmt } from './lib/results-file.js';
import { stopBroker } from './lib/stop-broker.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('groups.ts', {
  phases: { default: 'rebalance,commit', help: 'comma-separated: rebalance, commit' },
  sizes: { default: '3,10,50', help: 'rebalance: group sizes (members once the joiner is in)' },
  rounds: { default: '3', help: 'rebalance: rounds per size; each round is join, leave, join, crash' },
  'heartbeat-ms': { default: '3000', help: 'rebalance: heartbeat interval of every member (Kafka clients default to 3000)' },
  'session-timeout-ms': { default: '10000', help: 'rebalance: session timeout (the broker accepts 6000 and up)' },
  'rebalance-timeout-ms': { default: '30000', help: 'rebalance: rebalance timeout (max.poll.interval.ms)' },
  'initial-delay-ms': { default: '100', help: 'rebalance: the broker\'s group.initial.rebalance.delay.ms' },
  'topic-partitions': { default: '100', help: 'partitions of the subscribed topic (rebalance) and of the committed topic (commit)' },
  'commit-clients': { default: '1,8,32', help: 'commit: numbers of clients committing in parallel, one commit in flight each' },
  'commit-partitions': { default: '1,10', help: 'commit: partitions per OffsetCommit request' },
  'commit-seconds': { default: '5', help: 'commit: measured seconds per run' },
  backends: { default: 'sqlite,postgres', help: 'commit: metadata stores to measure' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});


interface StableWaiter {
  readonly expect: ReadonlySet<RawGroupMember>;
  readonly afterGeneration: number;
  readonly resolve: (generation: number) => void;
}

/**
 * A group of raw members in this process. "Stable" is judged by the members: every expected
 * member has its SyncGroup answer for one generation newer than the last (the coordinator
 * moves to Stable when the leader's SyncGroup arrives, the moment those answers go out),
 * and DescribeGroups then confirms the state and the member count.
 */
class BenchGroup {
  readonly members = new Set<RawGroupMember>();
  private waiter: StableWaiter | undefined;
  private failure: Error | undefined;
  private seq = 0;

  constructor(
    private readonly base: Omit<RawMemberOptions, 'onSynced' | 'onError'>,
    private readonly admin: KafkaConnection,
  ) {}

  async add(): Promise<RawGroupMember> {
    const m = await RawGroupMember.connect(
      { ...this.base, onSynced: () => this.check(), onError: (member, err) => this.fail(new Error(`${member.name}: ${err.message}`)) },
      `bench-member-${this.seq++}`,
    );
    this.members.add(m);
    return m;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.check();
  }

  get generation(): number {
    return Math.max(-1, ...[...this.members].map((m) => m.generation));
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.failure) {
      this.waiter = undefined;
      w.resolve(-1);
      return;
    }
    let gen: number | undefined;
    for (const m of w.expect) {
      if (m.isJoining || m.generation <= w.afterGeneration) return;
      if (gen === undefined) gen = m.generation;
      else if (m.generation !== gen) return;
    }
    this.waiter = undefined;
    w.resolve(gen!);
  }

  /** Resolves when every current member is synced on one generation after `afterGeneration`. */
  async waitStable(afterGeneration: number, timeoutMs: number): Promise<number> {
    const gen = await Promise.race([
      new Promise<number>((resolve) => {
        this.waiter = { expect: new Set(this.members), afterGeneration, resolve };
        this.check();
      }),
      sleep(timeoutMs).then(() => -2),
    ]);
    this.waiter = undefined;
    if (gen === -1) throw this.failure!;
    if (gen === -2) throw new Error(`group not stable within ${timeoutMs} ms`);
    return gen;
  }

  /** The coordinator's view must agree: Stable, with exactly our members, every partition assigned once. */
  async confirm(generation: number): Promise<void> {
    const res = await this.admin.request(15, 5, { groups: [this.base.groupId], includeAuthorizedOperations: false });
    const g = res.groups[0]!;
    if (g.errorCode !== 0) throw new Error(`DescribeGroups: ${errorInfo(g.errorCode).name}`);
    const ours = new Set([...this.members].map((m) => m.memberId));
    const theirs = new Set(g.members.map((m) => m.memberId));
    if (g.groupState !== 'Stable' || ours.size !== theirs.size || [...ours].some((id) => !theirs.has(id))) {
      throw new Error(`coordinator says ${g.groupState} with ${theirs.size} members; we have ${ours.size} synced on generation ${generation}`);
    }
    const assigned = [...this.members].flatMap((m) => m.assignment).sort((a, b) => a - b);
    if (assigned.length !== this.base.partitions || assigned.some((p, i) => p !== i)) {
      throw new Error(`assignment of generation ${generation} does not cover every partition exactly once`);
    }
  }

  /** The latest JoinGroup any member sent for the current generation (when the coordinator had them all). */
  lastRejoinAt(): number {
    return Math.max(...[...this.members].map((m) => m.lastJoinSentAt));
  }

  lastSyncAt(): number {
    return Math.max(...[...this.members].map((m) => m.syncedAt));
  }

  pickVictim(): RawGroupMember {
    const list = [...this.members];
    return list[Math.floor(Math.random() * list.length)]!;
  }

  async close(): Promise<void> {
    for (const m of this.members) m.crash();
    this.members.clear();
  }
}

interface EventSample {
  readonly kind: 'join' | 'leave' | 'crash';
  readonly size: number;
  /** Event to every member synced on the new generation. */
  readonly totalMs: number;
  /** Last (re)join sent to every member synced: the coordinator's part plus one round trip. */
  readonly coordinatorMs: number;
}

function summarize(samples: readonly EventSample[]): string {
  if (samples.length === 0) return '-';
  const t = samples.map((s) => s.totalMs).sort((a, b) => a - b);
  const c = samples.map((s) => s.coordinatorMs).sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return `mean ${fmt(mean(t))} ms (min ${fmt(t[0]!)}, max ${fmt(t[t.length - 1]!)}); last rejoin → stable mean ${fmt(mean(c), 1)} ms (max ${fmt(c[c.length - 1]!, 1)}) [n=${samples.length}]`;
}

async function rebalancePhase(): Promise<void> {
  const heartbeatMs = intFlag(flags['heartbeat-ms'], 'heartbeat-ms', 1);
  const sessionTimeoutMs = intFlag(flags['session-timeout-ms'], 'session-timeout-ms', 1);
  const rebalanceTimeoutMs = intFlag(flags['rebalance-timeout-ms'], 'rebalance-timeout-ms', 1);
  const partitions = intFlag(flags['topic-partitions'], 'topic-partitions', 1);
  const rounds = intFlag(flags.rounds, 'rounds', 1);
  const broker = await launchBroker({ args: ['--group-initial-rebalance-delay-ms', flags['initial-delay-ms']] });
  console.log(`rebalance: broker pid ${broker.pid()} (SQLite; membership lives in memory, the store is not involved)`);
  console.log(`  members heartbeat every ${heartbeatMs} ms, session timeout ${sessionTimeoutMs} ms, group.initial.rebalance.delay.ms ${flags['initial-delay-ms']}; topic of ${partitions} partitions`);
  const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
  const topic = `bench-groups-${Date.now()}`;
  await ensureTopic(admin, topic, partitions);
  const all: EventSample[] = [];
  try {
    for (const size of flags.sizes.split(',').map((x) => intFlag(x, 'sizes', 2))) {
      const group = new BenchGroup(
        { host: broker.host, port: broker.kafkaPort, groupId: `bench-group-${size}-${Date.now()}`, topic, partitions, sessionTimeoutMs, rebalanceTimeoutMs, heartbeatIntervalMs: heartbeatMs },
        admin,
      );
      const limit = sessionTimeoutMs + rebalanceTimeoutMs + 10 * heartbeatMs;
      try {
        // formation: size-1 members join an empty group at once (the joiner comes later)
        const first = await Promise.all(Array.from({ length: size - 1 }, () => group.add()));
        const t0 = performance.now();
        for (const m of first) m.start();
        let gen = await group.waitStable(-1, limit);
        await group.confirm(gen);
        console.log(`\n  ${size} members: ${size - 1} members formed the group (generation ${gen}) in ${fmt(performance.now() - t0)} ms`);
        const samples: EventSample[] = [];
        const cpu = cpuMeter(broker.pid());
        const event = async (kind: EventSample['kind'], act: () => Promise<void>): Promise<void> => {
          // a random point of the heartbeat cycle, as in real life
          await sleep(heartbeatMs * (1 + Math.random()));
          const before = gen;
          const t = performance.now();
          await act();
          gen = await group.waitStable(before, limit);
          const stableAt = group.lastSyncAt();
          await group.confirm(gen);
          const s: EventSample = { kind, size, totalMs: stableAt - t, coordinatorMs: stableAt - group.lastRejoinAt() };
          samples.push(s);
          all.push(s);
          console.log(`    ${kind.padEnd(5)} → generation ${gen} with ${group.members.size} members: stable after ${fmt(s.totalMs)} ms (last rejoin → stable ${fmt(s.coordinatorMs, 1)} ms)`);
          appendResult(flags['json-out'], { script: 'groups', phase: 'rebalance', heartbeatMs, sessionTimeoutMs, ...s });
        };
        const join = () =>
          event('join', async () => {
            const m = await group.add();
            m.start();
          });
        for (let r = 0; r < rounds; r++) {
          await join();
          await event('leave', async () => {
            const v = group.pickVictim();
            group.members.delete(v);
            await v.leave();
          });
          await join();
          await event('crash', async () => {
            const v = group.pickVictim();
            group.members.delete(v);
            v.crash();
          });
        }
        const brokerCpu = cpu();
        for (const kind of ['join', 'leave', 'crash'] as const) {
          console.log(`    ${kind.padEnd(5)}: ${summarize(samples.filter((s) => s.kind === kind))}`);
        }
        if (brokerCpu !== undefined) console.log(`    broker CPU ${(brokerCpu * 100).toFixed(1)}% over these rounds (heartbeats included)`);
      } finally {
        await group.close();
      }
    }
    console.log(`\n  summary (heartbeat ${heartbeatMs} ms, session timeout ${sessionTimeoutMs} ms):`);
    for (const size of [...new Set(all.map((s) => s.size))]) {
      for (const kind of ['join', 'leave', 'crash'] as const) {
        console.log(`    ${String(size).padStart(3)} members, ${kind.padEnd(5)}: ${summarize(all.filter((s) => s.size === size && s.kind === kind))}`);
      }
    }
  } finally {
    admin.close();
    await stopBroker(broker);
  }
}

async function commitRun(broker: LaunchedBroker, topic: string, clients: number, partitionsPerCommit: number, seconds: number, partitions: number) {
  const conns = await Promise.all(Array.from({ length: clients }, (_, i) => KafkaConnection.connect(broker.host, broker.kafkaPort, `bench-commit-${i}`)));
  const latency = new LatencyRecorder();
  const groupId = `bench-commits-${clients}x${partitionsPerCommit}-${Date.now()}`;
  let commits = 0;
  const errors: Record<string, number> = {};
  const cpu = cpuMeter(broker.pid());
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    conns.map(async (conn, ci) => {
      // client ci owns partitions ci, ci+clients, ... as a group member would (one of them when
      // there are more clients than partitions); its commits walk them
      const owned = clients > partitions ? [ci % partitions] : Array.from({ length: partitions }, (_, p) => p).filter((p) => p % clients === ci);
      let offset = 0n;
      let next = 0;
      while (performance.now() < end) {
        const parts = Array.from({ length: partitionsPerCommit }, () => owned[next++ % owned.length]!);
        offset += 1n;
        const started = performance.now();
        const res = await conn.request(8, 8, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [{ name: topic, partitions: [...new Set(parts)].map((p) => ({ partitionIndex: p, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' })) }],
        });
        latency.record(performance.now() - started);
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) {
              const name = errorInfo(p.errorCode).name;
              errors[name] = (errors[name] ?? 0) + 1;
            }
          }
        }
        commits++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const brokerCpu = cpu();
  for (const c of conns) c.close();
  return { commits, seconds: elapsed, commitsPerSecond: commits / elapsed, latency: latency.summary(), errors, brokerCpu };
}

async function commitPhase(): Promise<void> {
  const partitions = intFlag(flags['topic-partitions'], 'topic-partitions', 1);
  const seconds = intFlag(flags['commit-seconds'], 'commit-seconds', 1);
  const clientCounts = flags['commit-clients'].split(',').map((x) => intFlag(x, 'commit-clients', 1));
  const perCommit = flags['commit-partitions'].split(',').map((x) => intFlag(x, 'commit-partitions', 1));
  const results: Array<{ backend: string; clients: number; partitionsPerCommit: number; commitsPerSecond: number; p50: number; p99: number }> = [];
  for (const backend of flags.backends.split(',').map((s) => s.trim())) {
    let pg: PostgresProcess | undefined;
    const args: string[] = [];
    if (backend === 'postgres') {
      pg = await startPostgres();
      args.push('--metadata', pg.url);
    } else if (backend !== 'sqlite') throw new Error(`unknown backend ${backend}`);
    const broker = await launchBroker({ args });
    try {
      console.log(`\nOffsetCommit v8 on ${backend} (broker pid ${broker.pid()}${pg ? `, PostgreSQL on port ${pg.port}, fsync on` : ', SQLite file in the data directory'}): simple commits (generation -1) to one group, ${seconds} s per run`);
      const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
      const topic = `bench-commit-${Date.now()}`;
      await ensureTopic(admin, topic, partitions);
      admin.close();
      for (const k of perCommit) {
        for (const clients of clientCounts) {
          const r = await commitRun(broker, topic, clients, Math.min(k, partitions), seconds, partitions);
          const errs = Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : '';
          console.log(
            `  ${String(clients).padStart(3)} clients x ${k} partition${k === 1 ? '' : 's'} per commit: ${fmt(r.commitsPerSecond)} commits/s (${fmt(r.commitsPerSecond * k)} offsets/s), ` +
              `latency ${formatLatency(r.latency)}${r.brokerCpu !== undefined ? `, broker CPU ${(r.brokerCpu * 100).toFixed(0)}%` : ''}${errs}`,
          );
          results.push({ backend, clients, partitionsPerCommit: k, commitsPerSecond: r.commitsPerSecond, p50: r.latency.p50, p99: r.latency.p99 });
          appendResult(flags['json-out'], { script: 'groups', phase: 'commit', backend, clients, partitionsPerCommit: k, ...r });
          if (Object.keys(r.errors).length) process.exitCode = 1;
        }
      }
    } finally {
      await stopBroker(broker);
      await pg?.stop();
    }
  }
  console.log('\n  summary, commits/s (p50 / p99 ms):');
  for (const k of perCommit) {
    for (const clients of clientCounts) {
      const cells = results
        .filter((r) => r.clients === clients && r.partitionsPerCommit === k)
        .map((r) => `${r.backend} ${fmt(r.commitsPerSecond)} (${r.p50.toFixed(1)} / ${r.p99.toFixed(1)})`);
      console.log(`    ${String(clients).padStart(3)} clients x ${k} partition${k === 1 ? '' : 's'}: ${cells.join(', ')}`);
    }
  }
}

async function main(): Promise<void> {
  const phases = new Set(flags.phases.split(',').map((s) => s.trim()));
  if (phases.has('rebalance')) await rebalancePhase();
  if (phases.has('commit')) await commitPhase();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
