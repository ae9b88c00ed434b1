// The topology of docker-compose.yml without Docker: its three agent services run as real
// `streamhouse start` processes with the image's environment and theirs, hostnames and ports
// mapped to loopback. PostgreSQL is a throwaway cluster with the compose file's user,
// password and database; MinIO is s3rver with the bucket that minio-init creates (s3rver's
// fixed credentials replace MinIO's: the one substitution). Then what a user of the compose
// file relies on: every agent ready, Kafka metadata listing all three, a produce/consume
// round trip through agent-2, the image's health check, and Prometheus' targets.

import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { startPostgres, type PostgresProcess } from '../../test-kit/postgres-process.js';
import { startS3rver, type S3rverHandle } from '../../test-kit/s3rver-process.js';
import {
  agentServiceNames,
  apiPortOf,
  argList,
  execForm,
  instructions,
  kafkaListenerOf,
  loadCompose,
  readDockerfile,
  readYaml,
  repoPath,
  runtimeStage,
  serviceEnv,
  stageEnv,
  workdir,
} from './deploy-files.js';

const compose = loadCompose();
const agentNames = agentServiceNames(compose);
const runtime = runtimeStage(readDockerfile());
const IMAGE_DATA_DIR = stageEnv(runtime).STREAMHOUSE_DATA_DIR;

interface Agent {
  name: string;
  /** The environment as in its container: the image's ENV, then the service's. */
  composeEnv: Record<string, string>;
  /** The same, mapped to loopback. */
  env: Record<string, string>;
  process: BrokerProcess;
  kafkaPort: number;
  httpPort: number;
}

let postgres: PostgresProcess | undefined;
let s3: S3rverHandle | undefined;
const agents: Agent[] = [];
/** `service:containerPort` -> `127.0.0.1:port` for everything the agents may name. */
const loopback = new Map<string, string>();

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The bucket the minio-init job creates (`mc mb ... local/<bucket>`). */
function initBucket(): string {
  const init = compose.services['minio-init']!;
  const script = [...[init.entrypoint ?? []].flat(), ...[init.command ?? []].flat()].join(' ');
  const m = /mc mb (?:--ignore-existing |-p )*local\/([a-z0-9.-]+)/.exec(script);
  if (m === null) throw new Error(`minio-init creates no bucket: ${script}`);
  return m[1]!;
}

/**
 * An agent's compose environment on loopback: every `service:port` of the compose file
 * becomes its 127.0.0.1 stand-in, the Kafka listener binds loopback, s3rver's credentials
 * replace MinIO's, and the data directory is the harness's. A service name left over in a
 * value fails the test: that would be a dependency this run does not reproduce.
 */
function toLoopback(name: string, env: Record<string, string>): Record<string, string> {
  const services = Object.keys(compose.services).map((s) => s.replace(/[.]/g, '\\.')).join('|');
  const hostPort = new RegExp(`(?<![\\w.-])(${services}):(\\d+)(?![\\w.-])`, 'g');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const mapped = v.replace(hostPort, (m, service: string, port: string) => {
      const to = loopback.get(`${service}:${port}`);
      if (to === undefined) throw new Error(`${name}: ${k}=${v} names ${m}, which nothing here stands in for`);
      return to;
    });
    // a service host in a URL without a port (http://minio/...)
    if (new RegExp(`[/@](${services})(?![\\w.-])`).test(mapped)) throw new Error(`${name}: ${k}=${mapped} still names a compose service`);
    out[k] = mapped;
  }
  // the listeners bind loopback on the stand-in ports (startBrokerProcess passes the same as flags)
  out.STREAMHOUSE_KAFKA_LISTENER = loopback.get(`${name}:${kafkaListenerOf(env).port}`)!;
  for (const api of ['http', 'grpc'] as const) {
    const to = loopback.get(`${name}:${apiPortOf(api, env)}`)!;
    const upper = api.toUpperCase();
    if (out[`STREAMHOUSE_${upper}_LISTENER`]) out[`STREAMHOUSE_${upper}_LISTENER`] = to;
    if (out[`STREAMHOUSE_${upper}_PORT`]) out[`STREAMHOUSE_${upper}_PORT`] = to.split(':')[1]!;
  }
  out.AWS_ACCESS_KEY_ID = s3!.accessKeyId;
  out.AWS_SECRET_ACCESS_KEY = s3!.secretAccessKey;
  if (out.STREAMHOUSE_DATA_DIR === IMAGE_DATA_DIR) delete out.STREAMHOUSE_DATA_DIR; // the harness passes --data-dir
  return out;
}

function runHealthcheck(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const [health] = instructions(runtime, 'HEALTHCHECK');
  const args = execForm(/CMD\s+(\[.*\])$/.exec(health!.args)![1]!);
  // the image's /app is this repository
  const local = args.slice(1).map((a) => (a.startsWith(`${workdir(runtime)}/`) ? repoPath(a.slice(workdir(runtime).length + 1)) : a));
  expect(args[0]).toBe('node');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, local, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

function kafkaThrough(agent: Agent): Kafka {
  return new Kafka({
    clientId: 'compose-topology',
    brokers: [`127.0.0.1:${agent.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

describe('docker-compose.yml topology on loopback', () => {
  beforeAll(async () => {
    const pgEnv = serviceEnv(compose.services.postgres!);
    const [pgServer, s3Server] = await Promise.all([
      startPostgres({ database: 'compose_topology_admin' }),
      startS3rver({ mode: 'child', bucket: initBucket() }),
    ]);
    postgres = pgServer;
    s3 = s3Server;
    // what the postgres image does with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB
    const admin = new pg.Client({ connectionString: postgres.urlFor('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${quoteIdent(pgEnv.POSTGRES_USER!)} LOGIN PASSWORD '${pgEnv.POSTGRES_PASSWORD!.replace(/'/g, "''")}'`);
      await admin.query(`CREATE DATABASE ${quoteIdent(pgEnv.POSTGRES_DB!)} OWNER ${quoteIdent(pgEnv.POSTGRES_USER!)}`);
    } finally {
      await admin.end();
    }
    // the ports the postgres and minio images listen on
    loopback.set('postgres:5432', `127.0.0.1:${postgres.port}`);
    loopback.set('minio:9000', `127.0.0.1:${s3.port}`);

    const imageEnv = stageEnv(runtime);
    const planned = [];
    for (const name of agentNames) {
      const composeEnv = { ...imageEnv, ...serviceEnv(compose.services[name]!) };
      const ports = { kafka: await freePort(), http: await freePort(), grpc: await freePort() };
      loopback.set(`${name}:${kafkaListenerOf(composeEnv).port}`, `127.0.0.1:${ports.kafka}`);
      loopback.set(`${name}:${apiPortOf('http', composeEnv)}`, `127.0.0.1:${ports.http}`);
      loopback.set(`${name}:${apiPortOf('grpc', composeEnv)}`, `127.0.0.1:${ports.grpc}`);
      planned.push({ name, composeEnv, ports });
    }
    // all at once, as `docker compose up` starts them once their dependencies are healthy
    const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT')[0]!.args);
    expect(entrypoint).toEqual(['streamhouse', 'start']); // what startBrokerProcess runs
    const started = await Promise.allSettled(
      planned.map(async ({ name, composeEnv }) => {
        const env = toLoopback(name, composeEnv);
        // startBrokerProcess passes its listeners as flags too: the same ones
        const ports = { kafka: kafkaListenerOf(env).port, http: apiPortOf('http', env), grpc: apiPortOf('grpc', env) };
        const process = await startBrokerProcess({
          env,
          args: argList(compose.services[name]!.command),
          kafkaPort: ports.kafka,
          httpPort: ports.http,
          grpcPort: ports.grpc,
          logLevel: env.STREAMHOUSE_LOG_LEVEL ?? 'info',
          readyTimeoutMs: 30_000,
        });
        agents.push({ name, composeEnv, env, process, kafkaPort: ports.kafka, httpPort: ports.http });
      }),
    );
    agents.sort((a, b) => a.name.localeCompare(b.name));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.process.cleanup().catch(() => {})));
    await s3?.stop();
    await postgres?.stop();
  }, 60_000);

  it('starts every agent service, each ready on its HTTP port', async () => {
    expect(agents.map((a) => a.name)).toEqual(['agent-1', 'agent-2', 'agent-3']);
    for (const a of agents) {
      const res = await fetch(`http://127.0.0.1:${a.httpPort}/ready`);
      const body = (await res.json()) as { ready: boolean; checks: Record<string, string> };
      expect(res.status, `${a.name}: ${JSON.stringify(body)}`).toBe(200);
      // in cluster mode, on PostgreSQL and the object store
      expect(body.checks).toMatchObject({ metadata: 'ok', objects: 'ok', cluster: 'ok' });
    }
  });

  it('answers Kafka metadata with the three agents, their node ids and advertised listeners', async () => {
    const admin = kafkaThrough(agents[1]!).admin();
    await admin.connect();
    try {
      const want = agents
        .map((a) => ({ nodeId: Number(a.composeEnv.STREAMHOUSE_NODE_ID), host: '127.0.0.1', port: a.kafkaPort }))
        .sort((x, y) => x.nodeId - y.nodeId);
      let brokers: Array<{ nodeId: number; host: string; port: number }> = [];
      const until = Date.now() + 15_000;
      while (Date.now() < until) {
        brokers = (await admin.describeCluster()).brokers.sort((x, y) => x.nodeId - y.nodeId);
        if (brokers.length === want.length) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(brokers).toEqual(want);
      // the advertised listener each agent got from the compose file, mapped
      for (const a of agents) expect(a.env.STREAMHOUSE_ADVERTISED_LISTENER).toBe(`127.0.0.1:${a.kafkaPort}`);
    } finally {
      await admin.disconnect();
    }
  });

  it('round-trips messages produced and consumed through agent-2', async () => {
    const agent2 = agents.find((a) => a.name === 'agent-2')!;
    const kafka = kafkaThrough(agent2);
    const topic = 'compose-topology';
    const admin = kafka.admin();
    await admin.connect();
    try {
      // no partition count: the broker's STREAMHOUSE_DEFAULT_PARTITIONS from the compose file
      await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(meta!.partitions).toHaveLength(Number(agent2.composeEnv.STREAMHOUSE_DEFAULT_PARTITIONS ?? 1));
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'compose-topology', maxWaitTimeInMs: 200 });
    await consumer.connect();
    const received: Array<{ key: string; value: string }> = [];
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            received.push({ key: message.key!.toString(), value: message.value!.toString() });
            if (received.length >= sent.length) resolve();
          },
        });
      });
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`received ${received.length} of ${sent.length}`)), 30_000))]);
    } finally {
      await consumer.disconnect();
    }
    const byKey = (x: { key: string }, y: { key: string }) => x.key.localeCompare(y.key);
    expect(received.sort(byKey)).toEqual(sent.sort(byKey));
  });

  it('passes the image\'s HEALTHCHECK with each agent\'s environment, and fails it when nothing answers', async () => {
    for (const a of agents) {
      expect(apiPortOf('http', a.env)).toBe(a.httpPort);
      const res = await runHealthcheck(a.env);
      expect(res.code, `${a.name}: ${res.output}`).toBe(0);
    }
    const closed = await freePort();
    const res = await runHealthcheck({ STREAMHOUSE_HTTP_PORT: String(closed) });
    expect(res.code).toBe(1);
    expect(res.output).toContain(`127.0.0.1:${closed}/ready`);
  });

  it('has Prometheus scrape exactly the agent services on their HTTP port, where each serves /metrics', async () => {
    const prometheus = readYaml<{ scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }> }> }>(
      'deploy/prometheus/prometheus.yml',
    );
    const targets = prometheus.scrape_configs.flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets.map((t) => ({ job: j, target: t }))));
    const agentTargets = targets.filter(({ target }) => agentNames.includes(target.split(':')[0]!));
    expect(agentTargets.map((t) => t.target).sort()).toEqual(agents.map((a) => `${a.name}:${apiPortOf('http', a.composeEnv)}`).sort());
    for (const { job, target } of agentTargets) {
      const res = await fetch(`http://${loopback.get(target)}${job.metrics_path ?? '/metrics'}`);
      expect(res.status, target).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/^# (HELP|TYPE) /m);
    }
  });
});
