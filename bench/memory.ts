/**
 * Is the broker's memory bounded by its configured caches? Starts a fresh broker, produces
 * far more than the recent-write cache holds, then reads everything back (far more than the
 * chunk cache holds), sampling VmRSS (/proc) and Node's heap/external memory throughout.
 *   npx tsx bench/memory.ts --produce-s 20 --record-size 1024
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBrokerConfig } from '../src/agent/config/broker-config.js';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { launchBroker } from './lib/broker-launcher.js';
import { scrapeNodeMemory, type NodeMemory } from './lib/broker-metrics.js';
import { fetchPass, highWatermarks } from './lib/fetch-runner.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { runProduce } from './lib/produce-runner.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { mib, readRss, RssSampler } from './lib/rss-sampler.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('memory.ts', {
  'broker-args': { default: '', help: 'extra `streamhouse start` flags' },
  partitions: { default: '8', help: 'partitions' },
  'produce-s': { default: '20', help: 'seconds of unthrottled produce' },
  connections: { default: '4', help: 'producer connections' },
  inflight: { default: '8', help: 'produce requests in flight per connection' },
  'record-size': { default: '1024', help: 'record value bytes' },
  'records-per-batch': { default: '500', help: 'records per batch' },
  consumers: { default: '4', help: 'consumers for the read-back' },
  'node-heap-mb': { default: '', help: 'run the broker with --max-old-space-size (MB)' },
  'keep-snapshot': { default: 'false', help: 'true: keep the heap snapshot taken at the end (path printed) for analysis' },
  label: { default: 'memory', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append the result as a JSON line to this file' },
});

/** Peak of Node's heap and external (Buffer) memory, polled from /metrics. */
function pollNodeMemory(httpBase: string): { stop(): Promise<NodeMemory> } {
  let peakHeap = 0;
  let peakExternal = 0;
  let peakRss = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const m = await scrapeNodeMemory(httpBase);
      if (m) {
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakExternal = Math.max(peakExternal, m.external);
        peakRss = Math.max(peakRss, m.rss);
      }
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { heapUsed: peakHeap, external: peakExternal, rss: peakRss };
    },
  };
}

async function main(): Promise<void> {
  const config = defaultBrokerConfig();
  // SIGUSR2 makes the broker write a heap snapshot, which runs a full GC first: the way to
  // tell garbage V8 has not collected yet from memory something still holds.
  const diagDir = mkdtempSync(join(tmpdir(), 'streamhouse-bench-diag-'));
  const nodeArgs = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${diagDir}`];
  if (flags['node-heap-mb']) nodeArgs.push(`--max-old-space-size=${intFlag(flags['node-heap-mb'], 'node-heap-mb', 16)}`);
  const broker = await launchBroker({ args: flags['broker-args'].split(' ').filter(Boolean), nodeArgs });
  const httpBase = `http://${broker.host}:${broker.httpPort}`;
  console.log(`started broker pid ${broker.pid()} on ${broker.bootstrap}, data in ${broker.dataDir}`);
  try {
    await sleep(1000);
    const idle = await scrapeNodeMemory(httpBase);
    const idleRss = readRss(broker.pid()) ?? 0;
    const rss = new RssSampler(broker.pid(), 50);
    const partitions = intFlag(flags.partitions, 'partitions', 1);
    const topic = `bench-memory-${Date.now()}`;
    const admin = await KafkaConnection.connect(broker.host, broker.kafkaPort, 'bench-admin');
    await ensureTopic(admin, topic, partitions);

    const connections = intFlag(flags.connections, 'connections', 1);
    const inflight = intFlag(flags.inflight, 'inflight', 1);
    const recordSize = intFlag(flags['record-size'], 'record-size');
    const recordsPerBatch = intFlag(flags['records-per-batch'], 'records-per-batch', 1);
    let node = pollNodeMemory(httpBase);
    const produced = await runProduce({
      host: broker.host, port: broker.kafkaPort, topic, partitions, partitionsPerRequest: partitions, connections, inflight,
      recordSize, recordsPerBatch, acks: 1, durationS: numFlag(flags['produce-s'], 'produce-s'), warmupS: 0, rateMbS: 0,
    });
    const produceRss = rss.stop();
    const produceNode = await node.stop();
    console.log(`produced ${fmt(produced.valueBytes / 1e6, 0)} MB at ${fmt(produced.mbPerSecond, 1)} MB/s (errors: ${produced.errorCount})`);
    const inFlightRequests = connections * inflight * produced.requestBytes;

    const readSampler = new RssSampler(broker.pid(), 50);
    node = pollNodeMemory(httpBase);
    const hwms = await highWatermarks(admin, topic, partitions);
    admin.close();
    const read = await fetchPass(
      { host: broker.host, port: broker.kafkaPort, topic, partitions, consumers: intFlag(flags.consumers, 'consumers', 1), mode: 'group', maxBytes: 64 << 20, partitionMaxBytes: 8 << 20 },
      hwms,
    );
    const readMem = readSampler.stop();
    const readNode = await node.stop();
    console.log(`read back ${fmt(read.bytes / 1e6, 0)} MB at ${fmt(read.mbPerSecond, 1)} MB/s`);
    await sleep(2000);
    const after = await scrapeNodeMemory(httpBase);
    const afterRss = readRss(broker.pid()) ?? 0;
    const gcd = await forceFullGc(broker.pid(), diagDir);
    const gcdNode = gcd ? await scrapeNodeMemory(httpBase) : undefined;
    const gcdRss = readRss(broker.pid()) ?? 0;

    const caches = config.recentWriteCacheBytes + config.fetchCacheBytes;
    console.log('');
    console.log(`configured: recent-write cache ${mib(config.recentWriteCacheBytes)}, fetch (chunk) cache ${mib(config.fetchCacheBytes)}, flush.max.bytes ${mib(config.flushMaxBytes)}`);
    console.log(`            produce requests in flight: ${connections} x ${inflight} x ${fmt(produced.requestBytes / 1048576, 2)} MiB = ${mib(inFlightRequests)}`);
    console.log(`idle broker: RSS ${mib(idleRss)}, heap ${mib(idle?.heapUsed ?? 0)}, external ${mib(idle?.external ?? 0)}`);
    console.log(`produce:    RSS peak ${mib(produceRss.peakBytes)}; Node heap peak ${mib(produceNode.heapUsed)}, external (Buffers) peak ${mib(produceNode.external)}`);
    console.log(`read-back:  RSS peak ${mib(readMem.peakBytes)}; Node heap peak ${mib(readNode.heapUsed)}, external (Buffers) peak ${mib(readNode.external)}`);
    console.log(`2 s later:  RSS ${mib(afterRss)}, heap ${mib(after?.heapUsed ?? 0)}, external ${mib(after?.external ?? 0)}`);
    if (gcdNode) console.log(`after a forced full GC (heap snapshot): RSS ${mib(gcdRss)}, heap ${mib(gcdNode.heapUsed)}, external ${mib(gcdNode.external)}`);
    else console.log('could not force a full GC (no heap snapshot appeared)');
    const bound = idleRss + caches + inFlightRequests;
    const peak = Math.max(produceRss.peakBytes, readMem.peakBytes);
    const load = machineLoad();
    console.log(`machine: ${describeLoad(load)}`);
    console.log(`peak RSS ${mib(peak)} vs idle + caches + requests in flight = ${mib(bound)}: ${peak <= bound ? 'within' : `EXCEEDED by ${mib(peak - bound)}`}`);
    appendResult(flags['json-out'], {
      script: 'memory', label: flags.label, idleRss, afterRss, afterExternal: after?.external ?? null, gcRss: gcdNode ? gcdRss : null, gcExternal: gcdNode?.external ?? null, produceRssPeak: produceRss.peakBytes, readRssPeak: readMem.peakBytes,
      produceExternalPeak: produceNode.external, readExternalPeak: readNode.external, produceHeapPeak: produceNode.heapUsed, readHeapPeak: readNode.heapUsed,
      configuredCaches: caches, inFlightRequests, bound, withinBound: peak <= bound, producedBytes: produced.valueBytes, readBytes: read.bytes, ...load,
    });
  } finally {
    await broker.cleanup();
    if (flags['keep-snapshot'] === 'true') console.log(`heap snapshot kept in ${diagDir}`);
    else rmSync(diagDir, { recursive: true, force: true });
  }
}

/** Signals the broker to write a heap snapshot (full GC first) and waits until it is written. */
async function forceFullGc(pid: number, dir: string): Promise<boolean> {
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(500);
    const snap = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    if (!snap) continue;
    const size = statSync(join(dir, snap)).size;
    if (size > 0 && size === lastSize) return true;
    lastSize = size;
  }
  return false;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
