/**
 * What security costs (issue #14): produce and fetch throughput on one fresh broker (dist/,
 * SQLite + a local directory) over its PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) listeners
 * in the same run. Each round measures every listener once, in an order rotated per round
 * (so a drift of the machine's load does not favour one), produce first, then a fetch pass
 * of one fixed topic from offset 0 to its end. Medians over the rounds and the share of the
 * PLAINTEXT number (the goal: TLS >= 70%). Broker CPU per phase too: one client process
 * decrypting a fetch pass can be the limit, so broker CPU-s per GB shows what TLS costs it.
 *   npx tsx bench/security-throughput.ts                     (defaults below)
 *   npx tsx bench/security-throughput.ts --rounds 5 --phase-s 5
 */
import { readFileSync } from 'node:fs';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { launchBroker } from './lib/broker-launcher.js';
import { fetchPass, highWatermarks } from './lib/fetch-runner.js';
import { runProduce, type ProduceRunOptions } from './lib/produce-runner.js';
import { produceLoadFlags, produceLoadOptions } from './lib/produce-load-flags.js';
import { appendResult, fmt } from './lib/results-file.js';
import { readCpuSeconds } from './lib/process-cpu.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { ensureTopic } from './lib/topic-setup.js';
import { freePort } from '../test-kit/broker-process.js';
import { KafkaConnection, type SecureConnectOptions } from '../test-kit/kafka-connection.js';
import { makeTestPki } from '../compat-tests/security/certificates.js';

const flags = parseFlags('security-throughput.ts', {
  ...produceLoadFlags({ 'phase-s': '4' }),
  rounds: { default: '3', help: 'rounds; each measures every listener once' },
  'fetch-mb': { default: '200', help: 'MB of record values in the topic every fetch pass reads whole' },
  'fetch-passes': { default: '4', help: 'fetch passes over the topic per listener and round (one pass of 200 MB lasts well under a second)' },
  'json-out': { default: '', help: 'append the results as JSON lines to this file' },
  'cpu-prof-dir': { default: '', help: 'run the broker under node --cpu-prof, its profile written here (summarise with bench/profile-summary.ts)' },
});

const USER = 'bench';
const PASSWORD = 'bench-scram-password';

type Listener = 'PLAINTEXT' | 'SSL' | 'SASL_SSL';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const rounds = intFlag(flags.rounds, 'rounds', 1);
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  const pki = await makeTestPki();
  const sslPort = await freePort();
  const saslSslPort = await freePort();
  const broker = await launchBroker({
    listeners: `PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:${sslPort},SASL_SSL://127.0.0.1:${saslSslPort}`,
    args: ['--ssl-certificate-location', pki.serverCert, '--ssl-key-location', pki.serverKey, '--add-scram', `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`],
    ...(flags['cpu-prof-dir'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] } : {}),
  });
  const tls = { ca: readFileSync(pki.caPem), servername: 'localhost' };
  const listeners: Record<Listener, { port: number; secure: SecureConnectOptions }> = {
    PLAINTEXT: { port: broker.kafkaPort, secure: {} },
    SSL: { port: sslPort, secure: { tls } },
    SASL_SSL: { port: saslSslPort, secure: { tls, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: PASSWORD } } },
  };
  const order: Listener[] = ['PLAINTEXT', 'SSL', 'SASL_SSL'];
  try {
    const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
    const produceTopic = `bench-security-produce-${Date.now()}`;
    const fetchTopic = `bench-security-fetch-${Date.now()}`;
    await ensureTopic(admin, produceTopic, partitions);
    await ensureTopic(admin, fetchTopic, partitions);
    const base: ProduceRunOptions = produceLoadOptions(flags, { host: broker.host, port: broker.kafkaPort, topic: produceTopic });
    // the fetch topic: written once over PLAINTEXT, read whole over every listener
    const requestMb = (partitions * base.recordsPerBatch * base.recordSize) / 1e6;
    await runProduce({ ...base, topic: fetchTopic, requests: Math.ceil(numFlag(flags['fetch-mb'], 'fetch-mb') / requestMb) });
    const hwms = await highWatermarks(admin, fetchTopic, partitions);
    admin.close();
    console.log(
      `security throughput: broker pid ${broker.pid()}, ${partitions} partitions, ${base.connections} connections x ${base.inflight} in flight, ` +
        `${base.recordsPerBatch} x ${base.recordSize} B records per batch, acks=1; ${rounds} rounds of produce (${base.warmupS} + ${base.durationS} s) ` +
        `and ${intFlag(flags['fetch-passes'], 'fetch-passes', 1)} fetch passes of ${fetchTopic} (${hwms.reduce((a, b) => a + b, 0n)} records) per listener; load before: ${describeLoad(machineLoad())}`,
    );
    // unmeasured: JIT, caches, TLS session setup of a fresh broker
    for (const l of order) await runProduce({ ...base, port: listeners[l].port, secure: listeners[l].secure, durationS: 1, warmupS: 0 });

    const produced: Record<Listener, number[]> = { PLAINTEXT: [], SSL: [], SASL_SSL: [] };
    const fetched: Record<Listener, number[]> = { PLAINTEXT: [], SSL: [], SASL_SSL: [] };
    /** Broker CPU seconds per GB fetched: what TLS costs the broker even when the client limits the rate. */
    const fetchCpuPerGb: Record<Listener, number[]> = { PLAINTEXT: [], SSL: [], SASL_SSL: [] };
    const passes = intFlag(flags['fetch-passes'], 'fetch-passes', 1);
    /** `passes` fetch passes in a row over one listener: their bytes over their summed time. */
    const fetchPasses = async (port: number, secure: SecureConnectOptions, hwms: bigint[]): Promise<{ mbPerSecond: number; clientCpu: number }> => {
      let mb = 0;
      let seconds = 0;
      let cpuSeconds = 0;
      for (let i = 0; i < passes; i++) {
        const f = await fetchPass({ host: broker.host, port, topic: fetchTopic, partitions, consumers: base.connections, mode: 'group', maxBytes: 50 * 1024 * 1024, partitionMaxBytes: 10 * 1024 * 1024, secure }, hwms);
        if (Object.keys(f.errors).length > 0) throw new Error(`fetch over ${port}: ${JSON.stringify(f.errors)}`);
        mb += f.bytes / 1e6;
        seconds += f.seconds;
        cpuSeconds += f.clientCpu * f.seconds;
      }
      return { mbPerSecond: mb / seconds, clientCpu: cpuSeconds / seconds };
    };
    for (let round = 0; round < rounds; round++) {
      const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
      const line: string[] = [];
      for (const l of rotated) {
        const { port, secure } = listeners[l];
        const cpuBefore = readCpuSeconds(broker.pid()) ?? 0;
        const produceStart = performance.now();
        const p = await runProduce({ ...base, port, secure });
        const cpuAfterProduce = readCpuSeconds(broker.pid()) ?? 0;
        const fetchStart = performance.now();
        if (p.errorCount > 0) throw new Error(`produce over ${l}: ${JSON.stringify(p.errors)}`);
        const f = await fetchPasses(port, secure, hwms);
        // broker CPU (cores) over each phase: a fetch pass can be bound by this one client process
        const produceCpu = (cpuAfterProduce - cpuBefore) / ((fetchStart - produceStart) / 1000);
        const fetchCpu = ((readCpuSeconds(broker.pid()) ?? 0) - cpuAfterProduce) / ((performance.now() - fetchStart) / 1000);
        produced[l].push(p.mbPerSecond);
        fetched[l].push(f.mbPerSecond);
        fetchCpuPerGb[l].push(fetchCpu / (f.mbPerSecond / 1000));
        line.push(`${l} produce ${fmt(p.mbPerSecond)} MB/s (p99 ${fmt(p.latency.p99)} ms, broker ${fmt(produceCpu * 100)}%) fetch ${fmt(f.mbPerSecond)} MB/s (broker ${fmt(fetchCpu * 100)}%, client ${fmt(f.clientCpu * 100)}%)`);
      }
      console.log(`  round ${round + 1}: ${line.join('; ')}`);
    }
    const plainProduce = median(produced.PLAINTEXT);
    const plainFetch = median(fetched.PLAINTEXT);
    for (const l of order) {
      const pm = median(produced[l]);
      const fm = median(fetched[l]);
      const share = (x: number, of: number) => `${((x / of) * 100).toFixed(0)}%`;
      console.log(
        `${l.padEnd(9)} produce ${fmt(pm)} MB/s (${share(pm, plainProduce)} of PLAINTEXT), fetch ${fmt(fm)} MB/s (${share(fm, plainFetch)}; broker ${fmt(median(fetchCpuPerGb[l]), 2)} CPU-s per GB)` +
          (l === 'PLAINTEXT' ? '' : `; goal >= 70%: ${pm / plainProduce >= 0.7 && fm / plainFetch >= 0.7 ? 'met' : 'MISSED'}`),
      );
      appendResult(flags['json-out'], { bench: 'security-throughput', listener: l, rounds, produceMbS: pm, fetchMbS: fm, fetchBrokerCpuSecondsPerGb: median(fetchCpuPerGb[l]), produceShare: pm / plainProduce, fetchShare: fm / plainFetch, produceRounds: produced[l], fetchRounds: fetched[l] });
    }
  } finally {
    await broker.cleanup();
    pki.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
