/**
 * A real client: confluent-kafka (librdkafka) from Python produces N records (linger.ms=5,
 * batch.size=1 MiB, acks=all, no compression), then an assign()-consumer reads them back.
 *   npx tsx bench/real-client.ts --spawn true --records 1000000 --record-size 100
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON } from '../test-kit/run-command.js';
import { intFlag, parseBootstrap, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { cpuMeter } from './lib/process-cpu.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { mib, RssSampler } from './lib/rss-sampler.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('real-client.ts', {
  bootstrap: { default: '127.0.0.1:9092', help: 'broker host:port (ignored with --spawn true)' },
  spawn: { default: 'false', help: 'true: start a fresh broker (dist/) in a temp dir for this run' },
  'broker-pid': { default: '', help: 'pid of an already running broker: report its RSS peak and CPU use' },
  partitions: { default: '8', help: 'partitions of the new topic' },
  records: { default: '1000000', help: 'records to produce and then consume' },
  'record-size': { default: '100', help: 'record value bytes' },
  'linger-ms': { default: '5', help: 'producer linger.ms' },
  'batch-size': { default: '1048576', help: 'producer batch.size' },
  acks: { default: 'all', help: 'producer acks' },
  consume: { default: 'true', help: 'false: skip the consumer' },
  label: { default: 'confluent', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});

interface PyResult {
  mode: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  errors: Record<string, number>;
  clientCpuSeconds: number;
  undelivered?: number;
  wanted?: number;
}

function runPython(args: string[]): Promise<PyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(import.meta.dirname, 'confluent-bench.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      // librdkafka logs to stderr; keep only the tail for error reports
      err = (err + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`confluent-bench.py ${args[0]} exited with ${code}\n${out}\n${err}`));
      else resolve(JSON.parse(line) as PyResult);
    });
  });
}

async function main(): Promise<void> {
  let broker: LaunchedBroker | undefined;
  let target = parseBootstrap(flags.bootstrap);
  if (flags.spawn === 'true') {
    broker = await launchBroker();
    target = { host: broker.host, port: broker.kafkaPort };
    console.log(`started broker pid ${broker.pid()} on ${broker.bootstrap}, data in ${broker.dataDir}`);
  }
  const pid = broker ? broker.pid() : flags['broker-pid'] ? intFlag(flags['broker-pid'], 'broker-pid', 1) : undefined;
  try {
    const partitions = intFlag(flags.partitions, 'partitions', 1);
    const topic = `bench-confluent-${Date.now()}`;
    const admin = await KafkaConnection.connect(target.host, target.port, 'bench-admin');
    await ensureTopic(admin, topic, partitions);
    admin.close();
    const bootstrap = `${target.host}:${target.port}`;
    const common = ['--bootstrap', bootstrap, '--topic', topic, '--partitions', String(partitions), '--records', flags.records, '--record-size', flags['record-size']];

    const rss = pid ? new RssSampler(pid) : undefined;
    let cpu = pid ? cpuMeter(pid) : undefined;
    console.log(`confluent-kafka producer: ${fmt(Number(flags.records))} x ${flags['record-size']} B records to ${topic} (${partitions} partitions), linger.ms=${flags['linger-ms']}, batch.size=${flags['batch-size']}, acks=${flags.acks}`);
    const p = await runPython(['produce', ...common, '--linger-ms', flags['linger-ms'], '--batch-size', flags['batch-size'], '--acks', flags.acks]);
    const producerBrokerCpu = cpu?.();
    const produceLoad = machineLoad();
    const errorCount = Object.values(p.errors).reduce((a, b) => a + b, 0) + (p.undelivered ?? 0);
    console.log(
      `  ${fmt(p.recordsPerSecond)} records/s, ${fmt(p.mbPerSecond, 1)} MB/s over ${p.seconds.toFixed(1)} s; client CPU ${((p.clientCpuSeconds / p.seconds) * 100).toFixed(0)}%` +
        `${producerBrokerCpu !== undefined ? `, broker CPU ${(producerBrokerCpu * 100).toFixed(0)}%` : ''}; errors: ${errorCount === 0 ? 'none' : JSON.stringify(p.errors)}; ${describeLoad(produceLoad)}`,
    );
    appendResult(flags['json-out'], { script: 'real-client', label: `${flags.label} produce ${flags['record-size']} B`, ...p, recordSize: Number(flags['record-size']), errorCount, brokerCpu: producerBrokerCpu ?? null, ...produceLoad });

    if (flags.consume !== 'false') {
      cpu = pid ? cpuMeter(pid) : undefined;
      const c = await runPython(['consume', ...common]);
      const consumerBrokerCpu = cpu?.();
      const consumeLoad = machineLoad();
      const consumeErrors = Object.values(c.errors).reduce((a, b) => a + b, 0) + (c.records < (c.wanted ?? 0) ? 1 : 0);
      console.log(
        `confluent-kafka consumer (assign, from offset 0): ${fmt(c.records)} of ${fmt(c.wanted ?? 0)} records, ${fmt(c.recordsPerSecond)} records/s, ${fmt(c.mbPerSecond, 1)} MB/s over ${c.seconds.toFixed(1)} s` +
          `${consumerBrokerCpu !== undefined ? `; broker CPU ${(consumerBrokerCpu * 100).toFixed(0)}%` : ''}; errors: ${consumeErrors === 0 ? 'none' : JSON.stringify(c.errors)}; ${describeLoad(consumeLoad)}`,
      );
      appendResult(flags['json-out'], { script: 'real-client', label: `${flags.label} consume ${flags['record-size']} B`, ...c, recordSize: Number(flags['record-size']), errorCount: consumeErrors, brokerCpu: consumerBrokerCpu ?? null, ...consumeLoad });
      if (consumeErrors > 0) process.exitCode = 1;
    }
    const mem = rss?.stop();
    if (mem) console.log(`  broker RSS peak ${mib(mem.peakBytes)} (start ${mib(mem.startBytes)})`);
    if (errorCount > 0) process.exitCode = 1;
  } finally {
    await broker?.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
