/**
 * REST API throughput: N HTTP clients POST /api/v1/produce batches of B records for D seconds,
 * then C readers GET /api/v1/topics/:topic/partitions/:p/records every partition back from
 * offset 0 and the count read is checked against the count produced. A comma list of batch
 * sizes runs each in turn, on a fresh topic of the same broker.
 *   npm run build && npx tsx bench/rest-api.ts [--batch-records 100,1000,5000] [--clients 4] [--duration-s 10]
 *   npx tsx bench/rest-api.ts --base-url http://127.0.0.1:8080 --broker-pid 1234   (a running broker)
 *   npx tsx bench/rest-api.ts --cpu-prof-dir /tmp/prof && npx tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
 *
 * MB/s counts value bytes (keys too with --mode keyed), not JSON; the JSON on the wire is
 * reported beside it. Node's global fetch (undici) keeps its connections alive, one per client.
 */
import { randomBytes } from 'node:crypto';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { formatLatency, LatencyRecorder, type LatencySummary } from './lib/latency-recorder.js';
import { describeLoad, machineLoad, type MachineLoad } from './lib/machine-load.js';
import { cpuMeter } from './lib/process-cpu.js';
import { appendResult, fmt } from './lib/results-file.js';
import { mib, RssSampler } from './lib/rss-sampler.js';

const flags = parseFlags('rest-api.ts', {
  'base-url': { default: '', help: 'REST root of a running broker, e.g. http://127.0.0.1:8080 (default: start a fresh one)' },
  'broker-pid': { default: '', help: 'pid of the broker behind --base-url: report its CPU use and RSS peak' },
  'broker-args': { default: '', help: 'extra `streamhouse start` flags for the broker this script starts' },
  'cpu-prof-dir': { default: '', help: 'run the started broker under node --cpu-prof, profiles written here at the end' },
  partitions: { default: '8', help: 'partitions of each topic (created with POST /topics)' },
  clients: { default: '4', help: 'concurrent HTTP clients, one POST /produce in flight each' },
  'batch-records': { default: '1000', help: 'records per POST /produce; a comma list (100,1000,5000) runs each in turn' },
  'value-bytes': { default: '100', help: 'value bytes of each record (ASCII text)' },
  mode: { default: 'partition', help: 'partition: a request\'s records all name one partition, the next request the next one; keyed: distinct 8-byte keys, the broker hashes them (murmur2); sticky: neither, the broker picks a partition per request' },
  'duration-s': { default: '10', help: 'measured seconds of producing per batch size' },
  'warmup-s': { default: '1', help: 'seconds produced before measuring (read back too)' },
  consume: { default: 'true', help: 'false: skip reading back' },
  readers: { default: '4', help: 'concurrent readers, each taking the next partition to read from offset 0 to its end' },
  limit: { default: '1000', help: 'records per GET .../records (the API allows 1-1000)' },
  'max-bytes': { default: '', help: 'max_bytes of each GET (default: the API\'s, 4 MiB); it bounds the log read as well as the answer' },
  label: { default: 'rest', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append the results as JSON lines to this file' },
});

const GOAL_RECORDS_PER_S = 100_000;
const KEY_BYTES = 8;
type Mode = 'partition' | 'keyed' | 'sticky';

interface ProduceResult {
  readonly batchRecords: number;
  readonly requestBytes: number;
  readonly seconds: number;
  readonly records: number;
  readonly requests: number;
  readonly recordsPerSecond: number;
  readonly mbPerSecond: number;
  readonly jsonMbPerSecond: number;
  readonly latency: LatencySummary;
  readonly errorCount: number;
  readonly firstError: string | null;
  /** Records acknowledged per partition over the whole run (warm-up and drain included). */
  readonly produced: number[];
  readonly brokerCpu: number | undefined;
  readonly clientCpu: number;
  readonly load: MachineLoad;
}

interface ConsumeResult {
  readonly seconds: number;
  readonly records: number;
  readonly requests: number;
  readonly recordsPerSecond: number;
  readonly mbPerSecond: number;
  readonly jsonMbPerSecond: number;
  readonly latency: LatencySummary;
  readonly errorCount: number;
  readonly firstError: string | null;
  readonly read: number[];
  readonly matches: boolean;
  readonly brokerCpu: number | undefined;
  readonly clientCpu: number;
  readonly load: MachineLoad;
}

interface RecordsAnswer {
  records: Array<{ offset: number; key: string | null; value: string | null }>;
  next_offset: number;
  high_watermark: number;
}

function cpuOfClient(from: NodeJS.CpuUsage, seconds: number): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6 / seconds;
}

/**
 * Request bodies built once: in partition mode one per partition (every record naming it), in
 * keyed mode 16 with different keys, in sticky mode one without keys or partitions.
 */
function buildBodies(topic: string, mode: Mode, partitions: number, batch: number, valueBytes: number): Buffer[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const value = [...randomBytes(valueBytes)].map((b) => alphabet[b % alphabet.length]).join('');
  const variants = mode === 'partition' ? partitions : mode === 'keyed' ? 16 : 1;
  return Array.from({ length: variants }, (_, v) => {
    const records = Array.from({ length: batch }, (_, i) =>
      mode === 'partition' ? { partition: v, value } : mode === 'keyed' ? { key: String(v * batch + i).padStart(KEY_BYTES, '0'), value } : { value },
    );
    return Buffer.from(JSON.stringify({ topic, records }));
  });
}

async function createTopic(api: string, name: string, partitions: number): Promise<void> {
  const res = await fetch(`${api}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, partitions }) });
  if (res.status !== 201) throw new Error(`POST /topics ${name}: ${res.status} ${await res.text()}`);
}

async function produce(api: string, topic: string, batch: number, opts: { mode: Mode; partitions: number; clients: number; valueBytes: number; durationS: number; warmupS: number; pid?: number }): Promise<ProduceResult> {
  const bodies = buildBodies(topic, opts.mode, opts.partitions, batch, opts.valueBytes);
  const payloadPerRequest = batch * (opts.valueBytes + (opts.mode === 'keyed' ? KEY_BYTES : 0));
  const produced = new Array<number>(opts.partitions).fill(0);
  const latency = new LatencyRecorder();
  let records = 0;
  let requests = 0;
  let jsonBytes = 0;
  let errorCount = 0;
  let firstError: string | null = null;
  let nextRequest = 0;
  let stopping = false;
  let measuring = false;
  let brokerCpu: (() => number | undefined) | undefined;
  let clientCpu0 = process.cpuUsage();
  let measuredFrom = performance.now();
  let measuredSeconds = 0;
  let brokerCpuShare: number | undefined;
  let clientCpuShare = 0;

  const warm = setTimeout(() => {
    measuring = true;
    measuredFrom = performance.now();
    clientCpu0 = process.cpuUsage();
    brokerCpu = opts.pid ? cpuMeter(opts.pid) : undefined;
  }, opts.warmupS * 1000);
  const end = setTimeout(() => {
    measuring = false;
    stopping = true;
    measuredSeconds = (performance.now() - measuredFrom) / 1000;
    brokerCpuShare = brokerCpu?.();
    clientCpuShare = cpuOfClient(clientCpu0, measuredSeconds);
  }, (opts.warmupS + opts.durationS) * 1000);
  const t0 = performance.now();
  const tick = setInterval(() => process.stderr.write(`\r  ${((performance.now() - t0) / 1000).toFixed(0)} s: ${fmt(records)} records measured   `), 1000);
  tick.unref();

  const failed = (what: string): void => {
    errorCount++;
    firstError ??= what;
  };
  const client = async (): Promise<void> => {
    while (!stopping) {
      const body = bodies[nextRequest++ % bodies.length]!;
      const started = performance.now();
      let status: number;
      let text: string;
      try {
        const res = await fetch(`${api}/produce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        status = res.status;
        text = await res.text();
      } catch (err) {
        failed(`POST /produce: ${(err as Error).message} ${String((err as Error).cause ?? '')}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const ms = performance.now() - started;
      if (status !== 200) {
        failed(`POST /produce: ${status} ${text.slice(0, 500)}`);
        continue;
      }
      const answer = JSON.parse(text) as { offsets: Array<{ partition: number; offset: number }> };
      if (answer.offsets.length !== batch) {
        failed(`POST /produce: ${answer.offsets.length} offsets for ${batch} records`);
        continue;
      }
      for (const o of answer.offsets) produced[o.partition]!++;
      if (measuring) {
        latency.record(ms);
        records += batch;
        requests++;
        jsonBytes += body.length;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.clients }, client));
  } finally {
    clearTimeout(warm);
    clearTimeout(end);
    clearInterval(tick);
    process.stderr.write('\n');
  }
  return {
    batchRecords: batch,
    requestBytes: bodies[0]!.length,
    seconds: measuredSeconds,
    records,
    requests,
    recordsPerSecond: records / measuredSeconds,
    mbPerSecond: (requests * payloadPerRequest) / 1e6 / measuredSeconds,
    jsonMbPerSecond: jsonBytes / 1e6 / measuredSeconds,
    latency: latency.summary(),
    errorCount,
    firstError,
    produced,
    brokerCpu: brokerCpuShare,
    clientCpu: clientCpuShare,
    load: machineLoad(),
  };
}

async function consume(api: string, topic: string, produced: number[], opts: { readers: number; limit: number; maxBytes?: number; pid?: number }): Promise<ConsumeResult> {
  const read = new Array<number>(produced.length).fill(0);
  const latency = new LatencyRecorder();
  let records = 0;
  let requests = 0;
  let payloadBytes = 0;
  let jsonBytes = 0;
  let errorCount = 0;
  let firstError: string | null = null;
  const failed = (what: string): void => {
    errorCount++;
    firstError ??= what;
  };
  let nextPartition = 0;
  const reader = async (): Promise<void> => {
    for (let p = nextPartition++; p < produced.length; p = nextPartition++) {
      const url = `${api}/topics/${encodeURIComponent(topic)}/partitions/${p}/records`;
      let offset = 0;
      for (;;) {
        const started = performance.now();
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${url}?offset=${offset}&limit=${opts.limit}${opts.maxBytes ? `&max_bytes=${opts.maxBytes}` : ''}`);
          text = await res.text();
        } catch (err) {
          failed(`GET partition ${p} offset ${offset}: ${(err as Error).message}`);
          break;
        }
        latency.record(performance.now() - started);
        requests++;
        if (res.status !== 200) {
          failed(`GET partition ${p} offset ${offset}: ${res.status} ${text.slice(0, 500)}`);
          break;
        }
        jsonBytes += text.length;
        const answer = JSON.parse(text) as RecordsAnswer;
        for (const [i, r] of answer.records.entries()) {
          if (r.offset !== offset + i) {
            failed(`GET partition ${p} offset ${offset}: record ${i} has offset ${r.offset}`);
            return;
          }
          payloadBytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
        }
        read[p]! += answer.records.length;
        records += answer.records.length;
        if (answer.next_offset <= offset) {
          if (offset < answer.high_watermark) failed(`GET partition ${p} offset ${offset}: no progress below the high watermark ${answer.high_watermark}`);
          break;
        }
        offset = answer.next_offset;
        if (offset >= answer.high_watermark) break;
      }
    }
  };
  const brokerCpu = opts.pid ? cpuMeter(opts.pid) : undefined;
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: opts.readers }, reader));
  const seconds = (performance.now() - t0) / 1000;
  const brokerCpuShare = brokerCpu?.();
  const matches = read.every((n, p) => n === produced[p]);
  return {
    seconds,
    records,
    requests,
    recordsPerSecond: records / seconds,
    mbPerSecond: payloadBytes / 1e6 / seconds,
    jsonMbPerSecond: jsonBytes / 1e6 / seconds,
    latency: latency.summary(),
    errorCount,
    firstError,
    read,
    matches,
    brokerCpu: brokerCpuShare,
    clientCpu: cpuOfClient(clientCpu0, seconds),
    load: machineLoad(),
  };
}

const pct = (share: number | undefined): string => (share === undefined ? '-' : `${fmt(share * 100)}%`);

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | '));
  line(header);
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) line(r);
}

async function main(): Promise<void> {
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  const clients = intFlag(flags.clients, 'clients', 1);
  const batches = flags['batch-records'].split(',').map((b) => intFlag(b.trim(), 'batch-records', 1));
  const valueBytes = intFlag(flags['value-bytes'], 'value-bytes', 0);
  const mode = flags.mode as Mode;
  if (!['partition', 'keyed', 'sticky'].includes(mode)) throw new Error(`--mode must be partition, keyed or sticky, got "${flags.mode}"`);
  const durationS = numFlag(flags['duration-s'], 'duration-s');
  const warmupS = numFlag(flags['warmup-s'], 'warmup-s');
  const readers = intFlag(flags.readers, 'readers', 1);
  const limit = intFlag(flags.limit, 'limit', 1);
  const maxBytes = flags['max-bytes'] ? intFlag(flags['max-bytes'], 'max-bytes', 1) : undefined;

  let broker: LaunchedBroker | undefined;
  let base = flags['base-url'].replace(/\/+$/, '');
  if (!base) {
    const cpuProf = flags['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof-dir']}`] : [];
    broker = await launchBroker({ args: flags['broker-args'].split(' ').filter(Boolean), nodeArgs: cpuProf });
    base = `http://${broker.host}:${broker.httpPort}`;
    console.log(`started broker pid ${broker.pid()} on ${broker.bootstrap}, REST on ${base}, data in ${broker.dataDir}`);
  }
  const api = base.endsWith('/api/v1') ? base : `${base}/api/v1`;
  const pid = broker ? broker.pid() : flags['broker-pid'] ? intFlag(flags['broker-pid'], 'broker-pid', 1) : undefined;
  const rows: string[][] = [];
  let failed = false;
  try {
    console.log(
      `REST API at ${api}: ${clients} clients, ${partitions} partitions, ${valueBytes} B values, mode ${mode}, ` +
        `${durationS} s measured after ${warmupS} s per batch size; then ${readers} readers, limit ${limit}${maxBytes ? `, max_bytes ${maxBytes}` : ''} (${describeLoad(machineLoad())})`,
    );
    for (const batch of batches) {
      const topic = `bench-rest-${batch}-${Date.now()}`;
      await createTopic(api, topic, partitions);
      const rss = pid ? new RssSampler(pid) : undefined;
      console.log(`batch of ${fmt(batch)} records -> ${topic}`);
      const p = await produce(api, topic, batch, { mode, partitions, clients, valueBytes, durationS, warmupS, pid });
      const produceRss = rss?.stop();
      const producedTotal = p.produced.reduce((a, b) => a + b, 0);
      console.log(`  produce: request ${fmt(p.requestBytes)} B of JSON; ${fmt(p.recordsPerSecond)} records/s, ${fmt(p.mbPerSecond, 1)} MB/s of values (${fmt(p.jsonMbPerSecond, 1)} MB/s of JSON) over ${p.seconds.toFixed(1)} s`);
      console.log(`  latency ${formatLatency(p.latency)}`);
      console.log(`  errors: ${p.errorCount === 0 ? 'none' : `${p.errorCount}, the first: ${p.firstError}`}`);
      console.log(`  broker CPU ${pct(p.brokerCpu)}${produceRss ? `, RSS peak ${mib(produceRss.peakBytes)} (start ${mib(produceRss.startBytes)})` : ''}, client CPU ${pct(p.clientCpu)}; ${describeLoad(p.load)}`);
      console.log(`  goal >= ${fmt(GOAL_RECORDS_PER_S)} records/s: ${p.recordsPerSecond >= GOAL_RECORDS_PER_S ? 'met' : 'NOT MET'}; ${fmt(producedTotal)} records acknowledged in all`);
      appendResult(flags['json-out'], {
        script: 'rest-api',
        label: `${flags.label} produce ${batch}`,
        phase: 'produce',
        target: broker ? 'broker(spawned)' : 'external',
        mode,
        partitions,
        clients,
        valueBytes,
        batchRecords: batch,
        requestBytes: p.requestBytes,
        seconds: p.seconds,
        records: p.records,
        requests: p.requests,
        recordsPerSecond: p.recordsPerSecond,
        mbPerSecond: p.mbPerSecond,
        jsonMbPerSecond: p.jsonMbPerSecond,
        latency: p.latency,
        errorCount: p.errorCount,
        firstError: p.firstError,
        producedTotal,
        brokerCpu: p.brokerCpu ?? null,
        brokerRssPeak: produceRss?.peakBytes ?? null,
        clientCpu: p.clientCpu,
        goalRecordsPerSecond: GOAL_RECORDS_PER_S,
        ...p.load,
      });
      if (p.errorCount > 0) failed = true;

      let c: ConsumeResult | undefined;
      let consumeRss;
      if (flags.consume !== 'false') {
        const rss2 = pid ? new RssSampler(pid) : undefined;
        c = await consume(api, topic, p.produced, { readers, limit, ...(maxBytes ? { maxBytes } : {}), pid });
        consumeRss = rss2?.stop();
        console.log(`  consume: ${fmt(c.records)} records in ${c.seconds.toFixed(2)} s, ${fmt(c.recordsPerSecond)} records/s, ${fmt(c.mbPerSecond, 1)} MB/s of values (${fmt(c.jsonMbPerSecond, 1)} MB/s of JSON), ${fmt(c.requests)} requests`);
        console.log(`  latency ${formatLatency(c.latency)}`);
        console.log(`  errors: ${c.errorCount === 0 ? 'none' : `${c.errorCount}, the first: ${c.firstError}`}`);
        console.log(`  broker CPU ${pct(c.brokerCpu)}${consumeRss ? `, RSS peak ${mib(consumeRss.peakBytes)}` : ''}, client CPU ${pct(c.clientCpu)}; ${describeLoad(c.load)}`);
        console.log(`  read ${c.matches ? '=' : '!='} produced: ${fmt(c.records)} read, ${fmt(producedTotal)} produced${c.matches ? '' : ` (per partition read ${c.read.join(',')} vs produced ${p.produced.join(',')})`}`);
        appendResult(flags['json-out'], {
          script: 'rest-api',
          label: `${flags.label} consume ${batch}`,
          phase: 'consume',
          target: broker ? 'broker(spawned)' : 'external',
          partitions,
          readers,
          limit,
          maxBytes: maxBytes ?? null,
          valueBytes,
          batchRecords: batch,
          seconds: c.seconds,
          records: c.records,
          requests: c.requests,
          recordsPerSecond: c.recordsPerSecond,
          mbPerSecond: c.mbPerSecond,
          jsonMbPerSecond: c.jsonMbPerSecond,
          latency: c.latency,
          errorCount: c.errorCount,
          firstError: c.firstError,
          producedTotal,
          matches: c.matches,
          brokerCpu: c.brokerCpu ?? null,
          brokerRssPeak: consumeRss?.peakBytes ?? null,
          clientCpu: c.clientCpu,
          ...c.load,
        });
        if (c.errorCount > 0 || !c.matches) failed = true;
      }
      const f = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(v < 10 ? 1 : 0));
      rows.push([
        fmt(batch),
        fmt(p.recordsPerSecond),
        fmt(p.mbPerSecond, 1),
        `${f(p.latency.p50)}/${f(p.latency.p95)}/${f(p.latency.p99)}`,
        pct(p.brokerCpu),
        produceRss ? mib(produceRss.peakBytes) : '-',
        pct(p.clientCpu),
        String(p.errorCount),
        c ? fmt(c.recordsPerSecond) : '-',
        c ? fmt(c.mbPerSecond, 1) : '-',
        c ? pct(c.brokerCpu) : '-',
        c ? (c.matches && c.errorCount === 0 ? `yes (${fmt(c.records)})` : `NO (${fmt(c.records)} of ${fmt(producedTotal)}, ${c.errorCount} errors)`) : '-',
        p.load.loadAverage1m.toFixed(2),
      ]);
    }
    console.log();
    console.log(`REST API, ${clients} clients, ${partitions} partitions, ${valueBytes} B values, mode ${mode}; consume with ${readers} readers, limit ${limit}${maxBytes ? `, max_bytes ${maxBytes}` : ''}; goal >= ${fmt(GOAL_RECORDS_PER_S)} records/s`);
    printTable(
      ['batch', 'produce rec/s', 'MB/s', 'p50/p95/p99 ms', 'broker CPU', 'RSS peak', 'client CPU', 'errors', 'consume rec/s', 'MB/s', 'broker CPU', 'read = produced', 'load'],
      rows,
    );
  } finally {
    await broker?.cleanup();
  }
  if (broker && flags['cpu-prof-dir']) console.log(`broker CPU profile in ${flags['cpu-prof-dir']} (npx tsx bench/profile-summary.ts ${flags['cpu-prof-dir']}/*.cpuprofile)`);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
