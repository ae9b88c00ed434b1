/**
 * Records the raw frames real clients exchange with a StreamHouse broker and writes them to
 * src/protocol/golden/fixtures/<client>.json for the golden tests. Not run by the tests:
 *
 *   npm run build && npx tsx scripts/capture-golden-fixtures.ts [client ...]
 *
 * The broker runs in-process; a TCP proxy in front of it is the advertised listener, so every
 * connection a client opens (bootstrap and broker connections) passes through the recorder.
 * Clients: kcat and confluent-kafka (librdkafka), kafkajs, kafka-python, @platformatic/kafka.
 * A client step that fails (Produce/Fetch are not implemented yet) is logged and skipped; what
 * it sent up to then is kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAgent } from '../src/server/start-agent.js';
import { defaultBrokerConfig } from '../src/agent/config/broker-config.js';
import { createLogger } from '../src/broker/logger.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { apiName } from '../src/protocol/api-codec.js';
import type { CapturedExchange, GoldenFixture } from '../src/protocol/golden/test-support/golden-fixture.js';

const FIXTURES_DIR = join(import.meta.dirname, '../src/protocol/golden/fixtures');
/** Fixed ports, agent id and data dir keep host-specific values out of the captured responses. */
const PROXY_PORT = Number(process.env.GOLDEN_PROXY_PORT ?? 39092);
const BROKER_PORT = PROXY_PORT + 1;
const PYTHON = '/usr/bin/python3';

interface MutableExchange {
  connection: number;
  api: string;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  request: string;
  response: string | null;
}

class RecordingProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private exchanges: MutableExchange[] = [];
  private connections = 0;

  constructor(private readonly upstreamPort: number) {}

  async listen(port: number): Promise<void> {
    const server = createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => ok());
    });
  }

  /** Starts a new recording; returns the exchanges of the previous one. */
  take(): MutableExchange[] {
    const out = this.exchanges;
    this.exchanges = [];
    this.connections = 0;
    return out;
  }

  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private onClient(client: Socket): void {
    const connection = ++this.connections;
    const recording = this.exchanges;
    const pending = new Map<number, MutableExchange>();
    const upstream = createConnection({ host: '127.0.0.1', port: this.upstreamPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const requests = new FrameDecoder(1 << 30);
    const responses = new FrameDecoder(1 << 30);
    client.on('data', (chunk: Buffer) => {
      for (const frame of requests.push(chunk)) {
        const apiKey = frame.readInt16BE(0);
        const exchange: MutableExchange = {
          connection,
          api: apiName(apiKey),
          apiKey,
          apiVersion: frame.readInt16BE(2),
          correlationId: frame.readInt32BE(4),
          request: withPrefix(frame).toString('hex'),
          response: null,
        };
        recording.push(exchange);
        pending.set(exchange.correlationId, exchange);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const frame of responses.push(chunk)) {
        const exchange = pending.get(frame.readInt32BE(0));
        if (exchange) {
          exchange.response = withPrefix(frame).toString('hex');
          pending.delete(exchange.correlationId);
        }
      }
      client.write(chunk);
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  }
}

function withPrefix(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length, 0);
  return Buffer.concat([size, frame]);
}

function run(cmd: string, args: string[], timeoutMs: number, input?: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
    child.stdin.end(input ?? '');
  });
}


interface Scenario {
  readonly name: string;
  readonly client: string;
  readonly commands: string[];
  run(bootstrap: string): Promise<void>;
}

async function step(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    console.log(`  ok: ${what}`);
  } catch (e) {
    console.log(`  failed (kept what was captured): ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function runStep(what: string, cmd: string, args: string[], timeoutMs: number, input?: string): Promise<void> {
  const r = await run(cmd, args, timeoutMs, input);
  const tail = r.output.trim().split('\n').slice(-3).join(' | ');
  console.log(`  ${r.code === 0 ? 'ok' : `exit ${r.code}`}: ${what}${r.code === 0 ? '' : ` (${tail})`}`);
}

const KAFKA_PYTHON_SCRIPT = `
import sys
from kafka.admin import KafkaAdminClient, NewTopic, ConfigResource, ConfigResourceType
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id='golden-kafka-python', request_timeout_ms=5000)
print(admin.create_topics([NewTopic('golden-kafka-python', 2, 1, topic_configs={'retention.ms': '7200000'})]))
print(sorted(admin.list_topics()))
print(admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'golden-kafka-python', {'retention.ms': None, 'cleanup.policy': None})]))
print(admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, '0')]))
admin.close()
`;

const CONFLUENT_SCRIPT = `
import sys
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
admin = AdminClient({'bootstrap.servers': sys.argv[1], 'client.id': 'golden-confluent-kafka'})
for f in admin.create_topics([NewTopic('golden-confluent', 2, 1, config={'retention.ms': '5400000'})], operation_timeout=5).values(): f.result()
md = admin.list_topics(timeout=5)
print(sorted(md.topics))
for f in admin.describe_configs([ConfigResource('topic', 'golden-confluent')]).values(): print(len(f.result()))
`;

const SCENARIOS: Scenario[] = [
  {
    name: 'kcat',
    client: 'kcat 1.7.0 (librdkafka 2.0.2)',
    commands: ['kcat -L', 'kcat -L -t golden-kcat', 'kcat -P -t golden-kcat (Produce not implemented: captured until it gives up)', 'kcat -C -t golden-kcat -c 1 -e (Fetch not implemented)'],
    async run(bootstrap) {
      const common = ['-b', bootstrap, '-X', 'client.id=golden-kcat'];
      await runStep('kcat -L', 'kcat', [...common, '-L'], 15000);
      await runStep('kcat -L -t golden-kcat', 'kcat', [...common, '-L', '-t', 'golden-kcat'], 15000);
      await runStep('kcat -P', 'kcat', [...common, '-P', '-t', 'golden-kcat', '-X', 'message.timeout.ms=3000'], 8000, 'hello\n');
      await runStep('kcat -C', 'kcat', [...common, '-C', '-t', 'golden-kcat', '-c', '1', '-e'], 5000);
    },
  },
  {
    name: 'kafkajs',
    client: 'kafkajs 2.2.4',
    commands: ['admin.connect', 'createTopics golden-kafkajs (3 partitions, retention.ms)', 'fetchTopicMetadata', 'describeConfigs topic + broker', 'createPartitions to 4', 'describeCluster', 'deleteTopics'],
    async run(bootstrap) {
      const { Kafka, logLevel } = await import('kafkajs');
      const TOPIC = 2;
      const BROKER = 4;
      const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const admin = kafka.admin();
      await step('connect', () => admin.connect());
      await step('createTopics', () => admin.createTopics({ topics: [{ topic: 'golden-kafkajs', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] }));
      await step('fetchTopicMetadata', () => admin.fetchTopicMetadata({ topics: ['golden-kafkajs'] }));
      await step('describeConfigs topic', () =>
        admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: 'golden-kafkajs', configNames: ['retention.ms', 'cleanup.policy'] }] }),
      );
      await step('describeConfigs broker', () => admin.describeConfigs({ includeSynonyms: true, resources: [{ type: BROKER, name: '0', configNames: ['num.partitions'] }] }));
      await step('createPartitions', () => admin.createPartitions({ topicPartitions: [{ topic: 'golden-kafkajs', count: 4 }] }));
      await step('describeCluster', () => admin.describeCluster());
      await step('deleteTopics', () => admin.deleteTopics({ topics: ['golden-kafkajs'] }));
      await admin.disconnect();
    },
  },
  {
    name: 'kafka-python',
    client: 'kafka-python 2.0.2',
    commands: ['KafkaAdminClient create_topics golden-kafka-python (2 partitions, retention.ms)', 'list_topics', 'describe_configs topic + broker'],
    async run(bootstrap) {
      await runStep('kafka-python admin', PYTHON, ['-c', KAFKA_PYTHON_SCRIPT, bootstrap], 30000);
    },
  },
  {
    name: 'confluent-kafka-python',
    client: 'confluent-kafka-python 1.7.0 (librdkafka 2.0.2)',
    commands: ['AdminClient create_topics golden-confluent (2 partitions, retention.ms)', 'list_topics', 'describe_configs topic'],
    async run(bootstrap) {
      await runStep('confluent-kafka admin', PYTHON, ['-c', CONFLUENT_SCRIPT, bootstrap], 30000);
    },
  },
  {
    name: 'platformatic-kafka',
    client: '@platformatic/kafka 1.x',
    commands: ['Admin createTopics golden-platformatic', 'listTopics', 'describeConfigs topic'],
    async run(bootstrap) {
      const { Admin } = await import('@platformatic/kafka');
      const admin = new Admin({ clientId: 'golden-platformatic', bootstrapBrokers: [bootstrap], retries: 0 });
      await step('createTopics', () => admin.createTopics({ topics: ['golden-platformatic'], partitions: 2, replicas: 1 }));
      await step('listTopics', () => admin.listTopics());
      await step('describeConfigs', () => admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: 'golden-platformatic', configurationKeys: ['retention.ms'] }] }));
      await admin.close();
    },
  },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const dataDir = join(tmpdir(), 'streamhouse-golden-capture');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const config = defaultBrokerConfig({
    dataDir,
    agentId: 'golden-agent',
    kafkaListener: { host: '127.0.0.1', port: BROKER_PORT },
    advertisedListener: { host: '127.0.0.1', port: PROXY_PORT },
    httpPort: 0,
    grpcPort: 0,
  });
  const broker = await startAgent(config, createLogger('warn', false));
  const proxy = new RecordingProxy(broker.kafka.port);
  await proxy.listen(PROXY_PORT);
  try {
    for (const scenario of SCENARIOS) {
      if (wanted.length > 0 && !wanted.includes(scenario.name)) continue;
      console.log(`${scenario.name}:`);
      proxy.take();
      await scenario.run(`127.0.0.1:${PROXY_PORT}`);
      await sleep(300);
      proxy.dropConnections();
      const exchanges: CapturedExchange[] = proxy.take();
      const fixture: GoldenFixture = { client: scenario.client, commands: scenario.commands, exchanges };
      writeFileSync(join(FIXTURES_DIR, `${scenario.name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
      const summary = new Map<string, number>();
      for (const e of exchanges) summary.set(`${e.api} v${e.apiVersion}`, (summary.get(`${e.api} v${e.apiVersion}`) ?? 0) + 1);
      console.log(`  wrote ${exchanges.length} exchanges: ${[...summary].map(([k, n]) => `${k} x${n}`).join(', ')}`);
    }
  } finally {
    await proxy.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
