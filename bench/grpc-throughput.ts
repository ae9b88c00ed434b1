// gRPC ProduceBatch and Subscribe throughput next to the Kafka protocol's (kafkajs produce,
// kcat fetch) against one broker process, in one run, with the same records.
//
//   npm run build && npx tsx bench/grpc-throughput.ts [--records 200000] [--value-bytes 100]
//
// MB/s counts key + value bytes (the payload), not protocol overhead.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { AdminClient, Subscription } from '../src/grpc/client/index.js';
import { RpcChannel } from '../src/grpc/client/rpc-channel.js';
import type { RecordMsg } from '../src/grpc/messages.js';
import { startBrokerProcess } from '../test-kit/broker-process.js';
import { parseFlags } from './lib/args.js';

const flags = parseFlags('grpc-throughput.ts', {
  records: { default: '200000', help: 'records per run (each measurement writes or reads this many)' },
  'value-bytes': { default: '100', help: 'value size; keys are 8 bytes' },
  partitions: { default: '4', help: 'partitions of each topic (one writer or subscriber per partition)' },
  'batch-records': { default: '1000', help: 'records per ProduceBatch call / kafkajs send' },
});
const RECORDS = Number(flags.records);
const VALUE_BYTES = Number(flags['value-bytes']);
const PARTITIONS = Number(flags.partitions);
const BATCH = Number(flags['batch-records']);
const KEY_BYTES = 8;
const PAYLOAD = RECORDS * (KEY_BYTES + VALUE_BYTES);

interface Result {
  readonly name: string;
  readonly records: number;
  readonly seconds: number;
}

const value = randomBytes(VALUE_BYTES);
const keyOf = (i: number) => Buffer.from(String(i).padStart(KEY_BYTES, '0'));
const perPartition = Math.ceil(RECORDS / PARTITIONS);

async function timed(name: string, work: () => Promise<number>): Promise<Result> {
  const started = process.hrtime.bigint();
  const records = await work();
  return { name, records, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function grpcProduceBatch(address: string, topic: string): Promise<number> {
  const rpc = new RpcChannel({ address, timeoutMs: 60_000 });
  try {
    await Promise.all(
      [...Array(PARTITIONS).keys()].map(async (partition) => {
        for (let sent = 0; sent < perPartition; sent += BATCH) {
          const n = Math.min(BATCH, perPartition - sent);
          const records: RecordMsg[] = [...Array(n).keys()].map((i) => ({ key: keyOf(sent + i), value, headers: [] }));
          await rpc.call('ProduceBatch', { topic, partition, records });
        }
      }),
    );
  } finally {
    rpc.close();
  }
  return perPartition * PARTITIONS;
}

async function grpcSubscribe(address: string, topic: string): Promise<number> {
  let total = 0;
  await Promise.all(
    [...Array(PARTITIONS).keys()].map(async (partition) => {
      const sub = new Subscription({ address, topic, partition, offset: 0n, maxRecords: 2000 });
      let seen = 0;
      for await (const batch of sub) {
        seen += batch.length;
        if (seen >= perPartition) break;
      }
      total += seen;
    }),
  );
  return total;
}

async function kafkajsProduce(bootstrap: string, topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-grpc-throughput', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await Promise.all(
      [...Array(PARTITIONS).keys()].map(async (partition) => {
        for (let sent = 0; sent < perPartition; sent += BATCH) {
          const n = Math.min(BATCH, perPartition - sent);
          await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: [...Array(n).keys()].map((i) => ({ partition, key: keyOf(sent + i), value })) });
        }
      }),
    );
  } finally {
    await producer.disconnect();
  }
  return perPartition * PARTITIONS;
}

/** kcat (librdkafka) reading the whole topic to the end; counts the offsets it prints. */
function kcatConsume(bootstrap: string, topic: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-f', '%o\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 0x0a) lines++;
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`kcat exited ${code}: ${err}`))));
  });
}

function report(r: Result): string {
  const rate = r.records / r.seconds;
  const mbps = (PAYLOAD * (r.records / RECORDS)) / r.seconds / 1e6;
  return `${r.name.padEnd(28)} ${String(r.records).padStart(9)} records  ${r.seconds.toFixed(2).padStart(6)} s  ${Math.round(rate).toString().padStart(9)} rec/s  ${mbps.toFixed(1).padStart(7)} MB/s`;
}

const broker = await startBrokerProcess({ args: ['--log-level', 'warn', '--auto-create-topics', 'false'] });
try {
  const address = `http://127.0.0.1:${broker.grpcPort}`;
  const admin = new AdminClient({ address });
  await admin.createTopic('bench-grpc', { partitions: PARTITIONS });
  await admin.createTopic('bench-kafka', { partitions: PARTITIONS });
  admin.close();
  console.log(`${RECORDS} records of ${KEY_BYTES}+${VALUE_BYTES} bytes, ${PARTITIONS} partitions, ${BATCH} records per request, one broker process (${broker.bootstrap}, gRPC ${broker.grpcPort})`);
  const results = [
    await timed('gRPC ProduceBatch', () => grpcProduceBatch(address, 'bench-grpc')),
    await timed('gRPC Subscribe', () => grpcSubscribe(address, 'bench-grpc')),
    await timed('Kafka Produce (kafkajs)', () => kafkajsProduce(broker.bootstrap, 'bench-kafka')),
    await timed('Kafka Fetch (kcat)', () => kcatConsume(broker.bootstrap, 'bench-kafka')),
    // the other way round: each protocol reads what the other wrote
    await timed('gRPC Subscribe (Kafka data)', () => grpcSubscribe(address, 'bench-kafka')),
    await timed('Kafka Fetch (gRPC data)', () => kcatConsume(broker.bootstrap, 'bench-grpc')),
  ];
  for (const r of results) console.log(report(r));
  const wrong = results.filter((r) => r.records !== perPartition * PARTITIONS);
  if (wrong.length > 0) throw new Error(`record counts differ from ${perPartition * PARTITIONS}: ${wrong.map((r) => `${r.name}=${r.records}`).join(', ')}`);
} finally {
  await broker.cleanup();
}
