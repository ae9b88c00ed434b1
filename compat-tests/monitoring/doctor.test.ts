// `streamhouse doctor` (docs/operations.md, "Health check") against real broker processes: it
// reads the stores directly and exits 0 healthy, 1 degraded, 2 critical. One broker (the run's
// backend): healthy, an idle broker still healthy, a stopped kafkajs group lagging above
// --lag-warn (1) and --lag-critical (2), metadata stores that refuse or never answer (2 within
// the time limit), bad flags. A 2-agent cluster on its own PostgreSQL and s3rver: healthy, one
// agent stopped (SIGSTOP) before and after its heartbeat expires, every agent stopped.

import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, STREAMHOUSE_BIN, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand, type CommandResult } from '../../test-kit/run-command.js';
import { createTopic, HEARTBEAT_MS, LEASE_TTL_MS, startCluster, waitForLeaders, type Cluster } from '../cluster/support.js';

const CHECKS = ['metadata', 'objects', 'agents', 'partitions', 'consumer-lag', 'data-flow'];

interface Check {
  name: string;
  status: 'ok' | 'degraded' | 'critical';
  value: number | null;
  message: string;
}

interface Report {
  status: 'ok' | 'degraded' | 'critical';
  checks: Check[];
}

interface DoctorRun extends CommandResult {
  report: Report;
  elapsedMs: number;
}

const EXIT: Record<Report['status'], number> = { ok: 0, degraded: 1, critical: 2 };

/** Runs `streamhouse doctor --json`, checks the exact shape of the report and that the exit code is its status. */
async function doctor(args: string[], env: Record<string, string> = {}): Promise<DoctorRun> {
  const started = Date.now();
  const r = await runCommand(process.execPath, [STREAMHOUSE_BIN, 'doctor', '--json', ...args], { env, timeoutMs: 60_000 });
  const elapsedMs = Date.now() - started;
  const context = `doctor ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.stderr, context).toBe('');
  expect(r.stdout.endsWith('\n') && r.stdout.trimEnd().split('\n').length === 1, context).toBe(true);
  const report = JSON.parse(r.stdout) as Report;
  expect(Object.keys(report), context).toEqual(['status', 'checks']);
  expect(report.checks.map((c) => c.name), context).toEqual(CHECKS);
  for (const c of report.checks) {
    expect(Object.keys(c), context).toEqual(['name', 'status', 'value', 'message']);
    expect(['ok', 'degraded', 'critical'], context).toContain(c.status);
    expect(c.value === null || typeof c.value === 'number', context).toBe(true);
    expect(typeof c.message === 'string' && c.message.length > 0 && !c.message.includes('\n'), context).toBe(true);
  }
  const worst = report.checks.reduce((w, c) => (EXIT[c.status] > EXIT[w] ? c.status : w), 'ok' as Report['status']);
  expect(report.status, context).toBe(worst);
  expect(r.code, context).toBe(EXIT[report.status]);
  return { ...r, report, elapsedMs };
}

function check(run: DoctorRun, name: string): Check {
  return run.report.checks.find((c) => c.name === name)!;
}

/** Status per check, for one readable assertion. */
function statuses(run: DoctorRun): Record<string, string> {
  return Object.fromEntries(run.report.checks.map((c) => [c.name, c.status]));
}

/** Runs the doctor until `accept` likes the report (at most `timeoutMs`); returns that run. */
async function doctorUntil(args: string[], env: Record<string, string>, accept: (run: DoctorRun) => boolean, timeoutMs: number): Promise<DoctorRun> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await doctor(args, env);
    if (accept(run)) return run;
    if (Date.now() > until) throw new Error(`doctor report not as wanted after ${timeoutMs} ms: ${JSON.stringify(run.report)}`);
    await sleep(300);
  }
}

/** A TCP server that accepts connections and never says a word: a metadata store that hangs. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('streamhouse doctor on one broker', () => {
  let broker: BrokerProcess;
  let stores: string[];
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
    stores = ['--metadata', broker.metadataUrl, '--storage', broker.storageUrl];
    kafka = new Kafka({ clientId: 'doctor-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('is healthy (0) on a serving broker with recent data, as JSON and as a table', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'doctor-orders', numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'doctor-orders', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();

    const run = await doctor([...stores, '--write-probe'], broker.storageEnv);
    expect(statuses(run)).toEqual({ metadata: 'ok', objects: 'ok', agents: 'ok', partitions: 'ok', 'consumer-lag': 'ok', 'data-flow': 'ok' });
    expect(run.code).toBe(0);
    expect(check(run, 'metadata').value).toBeGreaterThanOrEqual(0);
    expect(check(run, 'objects').message).toMatch(/probe object put in \d+ ms, read in \d+ ms, deleted in \d+ ms$/);
    expect(check(run, 'consumer-lag')).toMatchObject({ value: 0, message: 'no consumer group has committed offsets' });
    expect(check(run, 'data-flow').value).toBeLessThan(30_000);
    expect(check(run, 'data-flow').message).toMatch(/^newest object recorded .* ago$/);
    if (broker.metadataUrl.startsWith('sqlite:')) {
      expect(check(run, 'agents')).toMatchObject({ value: null });
      expect(check(run, 'partitions').message).toBe('embedded mode (no leases): the one agent leads all 2 partition(s) of 1 topic(s)');
    } else {
      // the postgres-s3 backend runs the broker as a one-agent cluster
      expect(check(run, 'agents')).toMatchObject({ value: 1 });
      expect(check(run, 'partitions')).toMatchObject({ value: 0 });
      expect(check(run, 'partitions').message).toBe('all 2 partition(s) of 1 topic(s) and 50 coordinator shards have a leader');
    }

    const text = await runCommand(process.execPath, [STREAMHOUSE_BIN, 'doctor', ...stores], { env: broker.storageEnv });
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CHECK +STATUS +VALUE +MESSAGE$/);
    expect(lines.slice(1, -1).map((l) => l.split(/ +/).slice(0, 2))).toEqual(CHECKS.map((c) => [c, 'OK']));
    expect(lines.at(-1)).toBe('status: OK');
  });

  it('an idle broker is healthy: no object for longer than --flow-max-age-ms and nothing uploaded since', async () => {
    // the last write of the test before was a moment ago; the doctor lets uploads settle for 2 s
    await sleep(3500);
    const run = await doctor([...stores, '--flow-max-age-ms', '1000'], broker.storageEnv);
    expect(run.code).toBe(0);
    expect(check(run, 'data-flow').status).toBe('ok');
    expect(check(run, 'data-flow').value).toBeGreaterThan(1000);
    expect(check(run, 'data-flow').message).toMatch(/^idle: no object recorded for .* \(--flow-max-age-ms 1000\) and nothing uploaded since$/);
  });

  it('a stopped kafkajs group lagging above --lag-warn is degraded (1), above --lag-critical critical (2)', async () => {
    const topic = 'doctor-lag';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `before-${i}` })) });

    // the group reads the 10 records, commits and stops
    const consumer = kafka.consumer({ groupId: 'doctor-group', maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    const until = Date.now() + 30_000;
    while (seen < 10 && Date.now() < until) await sleep(100);
    expect(seen).toBe(10);
    await consumer.disconnect();
    const committed = async () => Number((await admin.fetchOffsets({ groupId: 'doctor-group', topics: [topic] }))[0]!.partitions[0]!.offset);
    expect(await committed()).toBe(10);

    // then 30 more arrive: a lag of 30, as Kafka's admin sees it too
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `after-${i}` })) });
    await producer.disconnect();
    const hwm = Number((await admin.fetchTopicOffsets(topic))[0]!.high);
    await admin.disconnect();
    expect(hwm - (await committed())).toBe(30);

    const healthy = await doctor(stores, broker.storageEnv);
    expect(check(healthy, 'consumer-lag')).toEqual({ name: 'consumer-lag', status: 'ok', value: 30, message: '1 group(s), largest lag 30 (doctor-group)' });
    expect(healthy.code).toBe(0);

    const degraded = await doctor([...stores, '--lag-warn', '20', '--lag-critical', '100'], broker.storageEnv);
    expect(check(degraded, 'consumer-lag')).toEqual({ name: 'consumer-lag', status: 'degraded', value: 30, message: 'lag above --lag-warn 20: doctor-group 30 (1 group(s))' });
    expect(degraded.report.status).toBe('degraded');
    expect(degraded.code).toBe(1);

    // at the threshold is not above it
    expect((await doctor([...stores, '--lag-warn', '30'], broker.storageEnv)).code).toBe(0);

    const critical = await doctor([...stores, '--lag-warn', '5', '--lag-critical', '25'], broker.storageEnv);
    expect(check(critical, 'consumer-lag')).toEqual({ name: 'consumer-lag', status: 'critical', value: 30, message: 'lag above --lag-critical 25: doctor-group 30 (1 group(s))' });
    expect(critical.code).toBe(2);
  });

  it('a metadata store that refuses connections is critical (2) at once; one that never answers, within --timeout-ms', async () => {
    const closed = await freePort();
    const refused = await doctor(['--metadata', `postgres://streamhouse:secret@127.0.0.1:${closed}/streamhouse`, '--storage', broker.storageUrl], broker.storageEnv);
    expect(refused.code).toBe(2);
    expect(check(refused, 'metadata')).toMatchObject({ status: 'critical', value: null });
    expect(check(refused, 'metadata').message).toContain('ECONNREFUSED');
    expect(check(refused, 'metadata').message).not.toContain('secret');
    expect(check(refused, 'objects').status).toBe('ok');
    expect(check(refused, 'agents')).toMatchObject({ status: 'critical', message: 'not checked: the metadata store did not answer' });
    expect(refused.elapsedMs).toBeLessThan(10_000);

    const hole = await blackHole();
    try {
      const hung = await doctor(['--metadata', `postgres://streamhouse@127.0.0.1:${hole.port}/streamhouse`, '--storage', broker.storageUrl, '--timeout-ms', '2000'], broker.storageEnv);
      expect(hung.code).toBe(2);
      expect(check(hung, 'metadata')).toEqual({ name: 'metadata', status: 'critical', value: null, message: `postgres://streamhouse@127.0.0.1:${hole.port}/streamhouse: no answer within 2000 ms` });
      // 2 s limit plus the start of a node process
      expect(hung.elapsedMs).toBeGreaterThanOrEqual(2000);
      expect(hung.elapsedMs).toBeLessThan(8000);
    } finally {
      await hole.close();
    }

    const missing = await doctor(['--data-dir', `${broker.dataDir}/nothing-here`]);
    expect(missing.code).toBe(2);
    expect(check(missing, 'metadata').message).toBe(`sqlite://${broker.dataDir}/nothing-here/metadata.db: no metadata database at ${broker.dataDir}/nothing-here/metadata.db`);
    expect(check(missing, 'objects').message).toBe(`file://${broker.dataDir}/nothing-here/objects: storage directory ${broker.dataDir}/nothing-here/objects does not exist`);
  });

  it('bad flags: one line on stderr and exit 2, as streamhouse start', async () => {
    const cases: Array<[string[], string]> = [
      [['--lag-warn', 'many'], 'streamhouse: invalid configuration: --lag-warn must be a non-negative integer, got "many"\n'],
      [['--lag-warn', '10', '--lag-critical', '5'], 'streamhouse: invalid configuration: --lag-critical (5) must not be below --lag-warn (10)\n'],
      [['--timeout-ms', '5'], 'streamhouse: invalid configuration: --timeout-ms must be between 100 and 600000, got 5\n'],
      [['--metadata', 'mysql://x'], 'streamhouse: invalid configuration: --metadata must be sqlite://path or postgres://..., got "mysql://x"\n'],
      [['--lease-ttl-ms', '2000', '--heartbeat-interval-ms', '1500'], 'streamhouse: invalid configuration: --lease-ttl-ms (2000) must be at least twice --heartbeat-interval-ms (1500)\n'],
      [['--no-such-flag'], "streamhouse: unknown option '--no-such-flag'\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await runCommand(process.execPath, [STREAMHOUSE_BIN, 'doctor', ...args]);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 2, stdout: '', stderr });
    }
  });
});

describe('streamhouse doctor on a 2-agent cluster', () => {
  let cluster: Cluster;
  let args: string[];
  let env: Record<string, string>;
  const stopped = new Set<BrokerProcess>();

  const pause = (agent: BrokerProcess) => {
    agent.process.kill('SIGSTOP');
    stopped.add(agent);
  };
  const resume = (agent: BrokerProcess) => {
    agent.process.kill('SIGCONT');
    stopped.delete(agent);
  };

  beforeAll(async () => {
    cluster = await startCluster('doctor', 2);
    const agent = cluster.agents[0]!;
    args = ['--metadata', cluster.metadataUrl, '--storage', agent.storageUrl, '--heartbeat-interval-ms', String(HEARTBEAT_MS), '--lease-ttl-ms', String(LEASE_TTL_MS)];
    env = { ...agent.storageEnv };
    await createTopic(cluster.bootstraps(), 'doctor-cluster', 4);
    await waitForLeaders(cluster.agents[0]!.bootstrap, 'doctor-cluster', 4);
  }, 120_000);

  afterAll(async () => {
    for (const a of stopped) a.process.kill('SIGCONT');
    await cluster?.stop();
  });

  it('is healthy (0) with both agents heartbeating and every partition and shard led', async () => {
    const run = await doctorUntil(args, env, (r) => r.code === 0, 20_000);
    expect(check(run, 'agents')).toEqual({ name: 'agents', status: 'ok', value: 2, message: '2 live: agent-0, agent-1' });
    expect(check(run, 'partitions')).toEqual({ name: 'partitions', status: 'ok', value: 0, message: 'all 4 partition(s) of 1 topic(s) and 50 coordinator shards have a leader' });
  });

  it('a stopped agent: healthy or late before its heartbeat expires, degraded (1) once it is stale and its partitions moved', async () => {
    const agent1 = cluster.agents[1]!;
    pause(agent1);
    const stoppedAt = Date.now();
    const before = await doctor(args, env);
    // still within the lease TTL: its leases hold, so every partition has a leader
    if (Date.now() - stoppedAt < LEASE_TTL_MS - HEARTBEAT_MS) {
      expect(check(before, 'partitions').status).toBe('ok');
      expect(check(before, 'agents').message).not.toContain('stopped heartbeating');
      // 0 while agent-1's last heartbeat is younger than two intervals, 1 (late) after
      if (before.code !== 0) expect(check(before, 'agents').message).toMatch(/^heartbeat late \(interval 1000 ms\): agent-1 \(/);
      expect(before.code).toBeLessThanOrEqual(1);
    }

    // past the TTL: agent-1 is stale; agent-0 takes its partitions (2 while one has no leader)
    const after = await doctorUntil(args, env, (r) => check(r, 'agents').message.includes('stopped heartbeating') && check(r, 'partitions').status === 'ok', 20_000);
    // its leases were last renewed up to one heartbeat before the pause, so they expire from TTL - interval on
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(LEASE_TTL_MS - HEARTBEAT_MS);
    expect(after.code).toBe(1);
    expect(after.report.status).toBe('degraded');
    expect(check(after, 'agents')).toMatchObject({ status: 'degraded', value: 1 });
    expect(check(after, 'agents').message).toMatch(/^1 agent\(s\) stopped heartbeating: agent-1 \([\d.]+ s ago\) \(lease TTL 3000 ms\); 1 live: agent-0$/);
    expect(statuses(after)).toMatchObject({ metadata: 'ok', objects: 'ok', partitions: 'ok' });

    // resumed, it heartbeats again and takes back its share
    resume(agent1);
    const healed = await doctorUntil(args, env, (r) => r.code === 0, 20_000);
    expect(check(healed, 'agents').value).toBe(2);
  });

  it('every agent stopped: critical (2), no live agent and no partition led', async () => {
    for (const a of cluster.agents) pause(a);
    const run = await doctorUntil(args, env, (r) => check(r, 'agents').status === 'critical' && check(r, 'partitions').status === 'critical', 20_000);
    expect(run.code).toBe(2);
    expect(check(run, 'agents').value).toBe(0);
    expect(check(run, 'agents').message).toMatch(/^no live agent \(heartbeat within the lease TTL 3000 ms\): last heartbeats: agent-0 \(.*\), agent-1 \(.*\)$/);
    expect(check(run, 'partitions')).toMatchObject({ value: 54, message: '4 of 4 partition(s) without a leader: doctor-cluster-0, doctor-cluster-1, doctor-cluster-2, doctor-cluster-3; 50 of 50 coordinator shards without a leader' });
    expect(statuses(run)).toMatchObject({ metadata: 'ok', objects: 'ok' });
    for (const a of cluster.agents) resume(a);
    await doctorUntil(args, env, (r) => r.code === 0, 30_000);
  });
});
