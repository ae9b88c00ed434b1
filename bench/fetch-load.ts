/**
 * Fetch throughput: produce X MB, then several consumers read every partition from offset 0
 * with raw Fetch requests, repeatedly, from the recent-write cache. Then (with a broker this
 * script started) produce Y MB more, restart the broker and read everything again: the first
 * pass is cold (object store, OS page cache dropped when allowed), later passes come from
 * the chunk cache.
 *   npx tsx bench/fetch-load.ts --produce-mb 48 --consumers 4 --partitions 8
 */
import { intFlag, parseBootstrap, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { dropPageCache, fetchPass, highWatermarks, type FetchPassOptions, type FetchPassResult } from './lib/fetch-runner.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { cpuMeter } from './lib/process-cpu.js';
import { runProduce } from './lib/produce-runner.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { mib, RssSampler } from './lib/rss-sampler.js';
import { ensureTopic } from './lib/topic-setup.js';

const flags = parseFlags('fetch-load.ts', {
  bootstrap: { default: '', help: 'use this running broker instead of starting one (no restart phase then)' },
  'broker-args': { default: '', help: 'extra `streamhouse start` flags for the broker this script starts' },
  'cpu-prof-dir': { default: '', help: 'run the started broker under node --cpu-prof, profiles written here' },
  partitions: { default: '8', help: 'partitions' },
  consumers: { default: '4', help: 'consumer connections, one Fetch in flight each' },
  mode: { default: 'group', help: 'group: partitions split over consumers; fanout: each consumer reads all' },
  'produce-mb': { default: '48', help: 'MB of record values produced and read back from the recent-write cache (it holds 64 MiB)' },
  'cold-mb': { default: '192', help: 'MB more produced before the restart; cold and chunk-cache passes read it all (chunk cache: 256 MiB)' },
  'record-size': { default: '1024', help: 'record value bytes' },
  'records-per-batch': { default: '500', help: 'records per produced batch' },
  'duration-s': { default: '5', help: 'seconds of repeated passes per cached phase' },
  'max-bytes': { default: '67108864', help: 'Fetch max_bytes' },
  'partition-max-bytes': { default: '1048576', help: 'Fetch partition_max_bytes (1 MiB, as Kafka consumers default to)' },
  'drop-page-cache': { default: 'true', help: 'drop the OS page cache before the cold pass (needs root)' },
  label: { default: 'fetch', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});

async function main(): Promise<void> {
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  const durationS = Number(flags['duration-s']);
  let broker: LaunchedBroker | undefined;
  let target: { host: string; port: number };
  if (flags.bootstrap) target = parseBootstrap(flags.bootstrap);
  else {
    const cpuProf = flags['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : [];
    broker = await launchBroker({ args: flags['broker-args'].split(' ').filter(Boolean), nodeArgs: cpuProf });
    target = { host: broker.host, port: broker.kafkaPort };
    console.log(`started broker pid ${broker.pid()} on ${broker.bootstrap}, data in ${broker.dataDir}`);
  }
  const rss = broker ? new RssSampler(broker.pid()) : undefined;
  try {
    const topic = `bench-fetch-${Date.now()}`;
    const admin = await KafkaConnection.connect(target.host, target.port, 'bench-admin');
    await ensureTopic(admin, topic, partitions);
    admin.close();

    const recordSize = intFlag(flags['record-size'], 'record-size');
    const recordsPerBatch = intFlag(flags['records-per-batch'], 'records-per-batch', 1);
    const produce = async (mb: number) => {
      const requestValueBytes = partitions * recordSize * recordsPerBatch;
      const requests = Math.max(1, Math.ceil((mb * 1e6) / requestValueBytes));
      const produced = await runProduce({
        host: target.host, port: target.port, topic, partitions, partitionsPerRequest: partitions,
        connections: 2, inflight: 4, recordSize, recordsPerBatch, acks: 1, durationS: 0, warmupS: 0, requests, rateMbS: 0,
      });
      if (produced.errorCount > 0) throw new Error(`produce failed: ${JSON.stringify(produced.errors)}`);
      console.log(`produced ${fmt(produced.records)} records (${fmt(produced.valueBytes / 1e6, 1)} MB of values) to ${topic} at ${fmt(produced.mbPerSecond, 1)} MB/s`);
      const conn = await KafkaConnection.connect(target.host, target.port, 'bench-admin');
      try {
        return await highWatermarks(conn, topic, partitions);
      } finally {
        conn.close();
      }
    };
    const recentHwms = await produce(Number(flags['produce-mb']));

    const opts: FetchPassOptions = {
      host: target.host, port: target.port, topic, partitions,
      consumers: intFlag(flags.consumers, 'consumers', 1),
      mode: flags.mode === 'fanout' ? 'fanout' : 'group',
      maxBytes: intFlag(flags['max-bytes'], 'max-bytes', 1),
      partitionMaxBytes: intFlag(flags['partition-max-bytes'], 'partition-max-bytes', 1),
    };
    /** Passes until `seconds` have passed (at least one); the phase's rate is over all of them. */
    const phase = async (name: string, label: string, hwms: bigint[], seconds: number) => {
      const results: FetchPassResult[] = [];
      const until = performance.now() + seconds * 1000;
      for (let i = 0; i === 0 || performance.now() < until; i++) {
        const cpu = broker ? cpuMeter(broker.pid()) : undefined;
        const r = await fetchPass(opts, hwms);
        const brokerCpu = cpu?.();
        results.push(r);
        console.log(
          `  ${name} pass ${i + 1}: ${fmt(r.bytes / 1e6, 1)} MB in ${r.seconds.toFixed(2)} s = ${fmt(r.mbPerSecond, 1)} MB/s, ${r.fetches} fetches, ` +
            `latency p50 ${r.latency.p50.toFixed(0)} ms max ${r.latency.max.toFixed(0)} ms, client CPU ${(r.clientCpu * 100).toFixed(0)}%` +
            `${brokerCpu !== undefined ? `, broker CPU ${(brokerCpu * 100).toFixed(0)}%` : ''}` +
            (Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''),
        );
      }
      const bytes = results.reduce((n, r) => n + r.bytes, 0);
      const secs = results.reduce((n, r) => n + r.seconds, 0);
      const errors = results.reduce((n, r) => n + Object.values(r.errors).reduce((a, b) => a + b, 0), 0);
      const load = machineLoad();
      console.log(`  => ${name}: ${fmt(bytes / 1e6 / secs, 1)} MB/s over ${results.length} passes (${fmt(bytes / 1e6, 1)} MB in ${secs.toFixed(2)} s); ${describeLoad(load)}`);
      appendResult(flags['json-out'], {
        script: 'fetch-load', label: `${flags.label} ${label}`, phase: label, passes: results.length, consumers: opts.consumers, partitions, mode: opts.mode,
        bytes, seconds: secs, mbPerSecond: bytes / 1e6 / secs, errorCount: errors, maxBytes: opts.maxBytes, partitionMaxBytes: opts.partitionMaxBytes, ...load,
      });
    };

    console.log(`reading with ${opts.consumers} consumers (${opts.mode}), max_bytes ${fmt(opts.maxBytes)}, partition_max_bytes ${fmt(opts.partitionMaxBytes)}:`);
    await phase('recent-write cache', 'recent', recentHwms, durationS);
    if (broker) {
      const allHwms = Number(flags['cold-mb']) > 0 ? await produce(Number(flags['cold-mb'])) : recentHwms;
      await broker.restart();
      rss?.retarget(broker.pid());
      console.log(`restarted the broker (pid ${broker.pid()})`);
      const dropped = flags['drop-page-cache'] === 'true' && dropPageCache();
      console.log(dropped ? '  dropped the OS page cache' : '  OS page cache NOT dropped: the cold pass may be served by the page cache');
      await phase('cold (object store)', 'cold', allHwms, 0);
      await phase('chunk cache', 'chunk-cache', allHwms, durationS);
    } else {
      console.log('no restart phase: pass no --bootstrap to let this script start (and restart) its own broker');
    }
    const mem = rss?.stop();
    if (mem) console.log(`broker RSS peak ${mib(mem.peakBytes)} over both runs (last ${mib(mem.lastBytes)})`);
  } finally {
    await broker?.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
