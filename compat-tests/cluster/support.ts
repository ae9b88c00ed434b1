// Shared harness for the cluster compat tests: agents on one PostgreSQL and one s3rver,
// leader look-ups, an idempotent kafkajs producer that stamps every acknowledgement with
// its time, and the exact log check for both producers' topics (docs/architecture.md §8).

import { setTimeout as sleep } from 'node:timers/promises';
import { appendFileSync } from 'node:fs';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import pg from 'pg';
import { coordinatorShardOf, DEFAULT_COORDINATOR_SHARDS } from '../../src/agent/groups/coordinator-shards.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { startPostgres, type PostgresProcess } from '../../test-kit/postgres-process.js';
import { startS3rver, type S3rverHandle } from '../../test-kit/s3rver-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { readBatches, type BatchHeader } from '../durability/batch-headers.js';
import { checkCrashLog, type CrashLogVerdict } from '../durability/crash-log-check.js';
import { readWholeTopic, type DeliveryReport, type DurableProducer, type ReadPartition } from '../durability/python-clients.js';

export const HEARTBEAT_MS = 1000;
export const LEASE_TTL_MS = 3000;
export { sleep };

export interface AgentOptions {
  env?: Record<string, string>;
  /** More `streamhouse start` flags (security, listeners' settings). */
  args?: string[];
  /** Kafka's `--listeners` instead of one PLAINTEXT listener (`{port}`: the agent's Kafka port). */
  listeners?: string;
  /** Instead of LEASE_TTL_MS. */
  leaseTtlMs?: number;
}

export interface Cluster {
  readonly agents: BrokerProcess[];
  readonly metadataUrl: string;
  /** Starts agent-<index> with node id index + 1 and appends it to `agents`. */
  startAgent(index: number, opts?: AgentOptions): Promise<BrokerProcess>;
  /** Every agent's address, for client bootstrap lists. */
  bootstraps(): string[];
  /** Live lease rows as PostgreSQL sees them, with the time left judged by its clock. */
  leases(prefix?: string): Promise<Array<{ resource: string; owner: string; epoch: number; remainingMs: number }>>;
  stop(): Promise<void>;
}

export async function startCluster(name: string, count: number, opts: (index: number) => AgentOptions = () => ({})): Promise<Cluster> {
  const pgServer: PostgresProcess = await startPostgres();
  const s3: S3rverHandle = await startS3rver();
  const metadataUrl = await pgServer.createDatabase(name);
  const db = new pg.Client({ connectionString: metadataUrl });
  await db.connect();
  const agents: BrokerProcess[] = [];
  const cluster: Cluster = {
    agents,
    metadataUrl,
    async startAgent(index, agentOpts = {}) {
      const agent = await startBrokerProcess({
        args: [
          '--metadata', metadataUrl,
          '--storage', `s3://${s3.bucket}/${name}`,
          '--agent-id', `agent-${index}`,
          '--node-id', String(index + 1),
          '--heartbeat-interval-ms', String(HEARTBEAT_MS),
          '--lease-ttl-ms', String(agentOpts.leaseTtlMs ?? LEASE_TTL_MS),
          '--flush-interval-ms', '20',
          ...(agentOpts.args ?? []),
        ],
        ...(agentOpts.listeners !== undefined ? { listeners: agentOpts.listeners } : {}),
        env: { ...s3.env, ...agentOpts.env },
      });
      agents.push(agent);
      return agent;
    },
    bootstraps: () => agents.map((a) => a.bootstrap),
    async leases(prefix = '') {
      const res = await db.query<{ resource: string; owner: string; epoch: string; remaining: string }>(
        `SELECT resource, owner, epoch, expires_at - (extract(epoch from clock_timestamp()) * 1000)::bigint AS remaining
         FROM leases WHERE owner IS NOT NULL AND left(resource, length($1)) = $1 ORDER BY resource`,
        [prefix],
      );
      return res.rows.map((r) => ({ resource: r.resource, owner: r.owner, epoch: Number(r.epoch), remainingMs: Number(r.remaining) }));
    },
    async stop() {
      for (const a of agents) await a.cleanup().catch(() => {});
      await db.end().catch(() => {});
      await s3.stop();
      await pgServer.stop();
    },
  };
  try {
    for (let i = 0; i < count; i++) await cluster.startAgent(i, opts(i));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

export function kafkaFor(brokers: string[], retries = 30, logFile?: string): Kafka {
  const retry = { retries, initialRetryTime: 100, maxRetryTime: 1000 };
  if (!logFile) return new Kafka({ clientId: 'cluster-test', brokers, logLevel: logLevel.NOTHING, retry });
  // for diagnosis: every kafkajs log line, appended to a file
  return new Kafka({
    clientId: 'cluster-test',
    brokers,
    retry,
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ namespace, level, log }) => {
        const { message, ...extra } = log;
        appendFileSync(logFile, `${new Date().toISOString()} ${level} ${namespace} ${message} ${JSON.stringify(extra)}\n`);
      },
  });
}

export async function createTopic(brokers: string[], topic: string, numPartitions: number): Promise<void> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
  } finally {
    await admin.disconnect();
  }
}

/** partition -> leader node id as `bootstrap` reports it (-1: none). */
export async function leaders(bootstrap: string, topic: string): Promise<Map<number, number>> {
  const admin = kafkaFor([bootstrap], 2).admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every partition has a leader that `accept` likes. */
export async function waitForLeaders(bootstrap: string, topic: string, partitions: number, accept: (leader: number, partition: number) => boolean = (l) => l >= 0, timeoutMs = 20_000): Promise<Map<number, number>> {
  const until = Date.now() + timeoutMs;
  let last = new Map<number, number>();
  let lastError = '';
  for (;;) {
    last = await leaders(bootstrap, topic).catch((err: unknown) => {
      lastError = String(err);
      return new Map<number, number>();
    });
    if (last.size === partitions && [...last].every(([p, l]) => l >= 0 && accept(l, p))) return last;
    if (Date.now() > until) throw new Error(`leaders of ${topic} not as wanted after ${timeoutMs} ms: ${JSON.stringify([...last])} ${lastError}`);
    await sleep(100);
  }
}

export interface TimedReport extends DeliveryReport {
  /** Date.now() when the send was issued and when its acknowledgement (or error) arrived. */
  sentAt: number;
  at: number;
}

export interface PacedKafkajsProducer {
  readonly reports: TimedReport[];
  /** Partitions whose send has been waiting for an answer, with how long (ms). */
  waiting(): Array<{ partition: number; ms: number }>;
  /** Stops after every partition has sent the same number of values; returns how many in all. */
  stop(): Promise<{ produced: number }>;
}

/**
 * kafkajs 2 idempotent producer, acks=all: one loop per partition sends "m-<n>" (n % partitions
 * is the partition) one at a time every `intervalMs`, so each acknowledgement's time shows when
 * that partition accepted writes. Values follow durable-producer.py so checkCrashLog applies.
 */
export async function startPacedKafkajsProducer(brokers: string[], topic: string, partitions: number, intervalMs: number): Promise<PacedKafkajsProducer> {
  const producer = kafkaFor(brokers, 40, process.env.CLUSTER_TEST_KAFKAJS_LOG).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const reports: TimedReport[] = [];
  const sent = new Array<number>(partitions).fill(0);
  const since = new Array<number>(partitions).fill(0);
  let target: number | undefined;
  // the first failure of each kind, with its stack, for the test log (a verdict counts names only)
  const shown = new Set<string>();
  const loops = Array.from({ length: partitions }, async (_, p) => {
    while (target === undefined || sent[p]! < target) {
      const value = `m-${sent[p]! * partitions + p}`;
      sent[p]!++;
      const sentAt = Date.now();
      since[p] = sentAt;
      try {
        const [meta] = await producer.send({ topic, acks: -1, timeout: 30_000, messages: [{ partition: p, value }] });
        reports.push({ p, o: Number(meta!.baseOffset), v: value, e: null, sentAt, at: Date.now() });
      } catch (err) {
        const e = err as Error;
        if (!shown.has(e.name)) {
          shown.add(e.name);
          console.error(`kafkajs producer (${topic}) first ${e.name} on partition ${p}: ${e.stack ?? e.message}`);
        }
        reports.push({ p, o: -1, v: value, e: { code: -1, name: e.name, message: e.message }, sentAt, at: Date.now() });
      }
      since[p] = 0;
      await sleep(intervalMs);
    }
  });
  return {
    reports,
    waiting: () => since.flatMap((t, partition) => (t === 0 ? [] : [{ partition, ms: Date.now() - t }])),
    async stop() {
      target = Math.max(...sent);
      await Promise.all(loops);
      await producer.disconnect();
      return { produced: target * partitions };
    },
  };
}

/** Stamps the librdkafka producer's delivery reports with their (approximate, 10 ms) arrival time. */
export function stampArrivals(producer: DurableProducer): { times: number[]; stop(): void } {
  const times: number[] = [];
  const stamp = () => {
    const now = Date.now();
    while (times.length < producer.reports.length) times.push(now);
  };
  const timer = setInterval(stamp, 10);
  // the last sweep stamps reports that came in after the last tick (else they have no time)
  return { times, stop: () => (clearInterval(timer), stamp()) };
}

export interface TopicCheck {
  verdict: CrashLogVerdict;
  log: ReadPartition[];
  /** Problems of per-partition order: values of one partition must grow with the offset. */
  orderProblems: string[];
}

/** The exact log check (durability/crash-log-check.ts) plus batch headers and per-partition order. */
export async function checkTopic(bootstrap: string, topic: string, partitions: number, reports: readonly DeliveryReport[], produced: number): Promise<TopicCheck> {
  const log = await readWholeTopic(bootstrap, topic, partitions);
  const batches: BatchHeader[][] = [];
  for (let p = 0; p < partitions; p++) batches.push((await readBatches(bootstrap, topic, p)).map(({ bytes: _, ...header }) => header));
  const verdict = checkCrashLog(reports, produced, log, { batches });
  const orderProblems: string[] = [];
  log.forEach((part, p) => {
    let last = -1;
    for (const [offset, , value] of part.records) {
      const n = Number(/^m-(\d+)$/.exec(value ?? '')?.[1] ?? -1);
      if (n <= last) orderProblems.push(`${topic} partition ${p} offset ${offset}: m-${n} after m-${last}`);
      last = n;
    }
  });
  return { verdict, log, orderProblems };
}

export interface GroupWatcher {
  readonly consumers: Consumer[];
  /** `${topic}/${partition}/${offset}` of every record processed, and when it first was. */
  readonly seen: Map<string, number>;
  /** Waits until every record below each high watermark was processed. */
  waitForAll(logs: ReadonlyArray<{ topic: string; log: readonly ReadPartition[] }>, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A kafkajs consumer group of `members` consumers over `topics`, auto-committing. */
export async function startGroup(brokers: string[], groupId: string, topics: string[], members: number): Promise<GroupWatcher> {
  const seen = new Map<string, number>();
  const consumers: Consumer[] = [];
  for (let i = 0; i < members; i++) {
    const c = kafkaFor(brokers, 40).consumer({ groupId, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 20_000 });
    await c.connect();
    for (const topic of topics) await c.subscribe({ topic, fromBeginning: true });
    void c.run({
      autoCommitInterval: 500,
      eachMessage: async ({ topic, partition, message }) => {
        const key = `${topic}/${partition}/${message.offset}`;
        if (!seen.has(key)) seen.set(key, Date.now());
      },
    });
    consumers.push(c);
  }
  return {
    consumers,
    seen,
    async waitForAll(logs, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const missing: string[] = [];
        for (const { topic, log } of logs) {
          log.forEach((part, p) => {
            for (let o = part.low; o < part.high; o++) if (!seen.has(`${topic}/${p}/${o}`)) missing.push(`${topic}/${p}/${o}`);
          });
        }
        if (missing.length === 0) return;
        if (Date.now() > until) throw new Error(`group has not processed ${missing.length} records, e.g. ${missing.slice(0, 5).join(', ')}`);
        await sleep(200);
      }
    },
    async stop() {
      for (const c of consumers) await c.disconnect().catch(() => {});
    },
  };
}

/** Committed offsets of a group, `${topic}/${partition}` -> offset. */
export async function committedOffsets(brokers: string[], groupId: string, topics: string[]): Promise<Map<string, number>> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    const out = new Map<string, number>();
    for (const t of await admin.fetchOffsets({ groupId, topics })) for (const p of t.partitions) out.set(`${t.topic}/${p.partition}`, Number(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** The longest pause between consecutive acknowledgements of one partition inside [from, to]. */
export function longestAckGap(reports: readonly TimedReport[], partition: number, from: number, to: number): number {
  const times = reports.filter((r) => r.p === partition && r.e === null).map((r) => r.at).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! >= from && times[i - 1]! <= to) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

/**
 * A group id `${prefix}-N` whose coordinator shard agent `owner` holds, once every shard is
 * leased and spread over all `cluster.agents` (so the others do not coordinate it).
 */
export async function groupCoordinatedBy(cluster: Cluster, owner: string, prefix: string): Promise<string> {
  let shards = new Map<number, string>();
  await waitUntil(
    'every coordinator shard to have an owner',
    async () => {
      const leases = await cluster.leases('group-shard/');
      shards = new Map(leases.map((l) => [Number(l.resource.slice('group-shard/'.length)), l.owner]));
      return shards.size === DEFAULT_COORDINATOR_SHARDS && new Set(shards.values()).size === cluster.agents.length;
    },
    40_000,
  );
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (shards.get(coordinatorShardOf(id)) === owner) return id;
  }
}
