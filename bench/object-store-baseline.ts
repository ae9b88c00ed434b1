/**
 * How fast the local object store alone takes durable segment-sized objects (write, fsync,
 * link, directory fsync), with no broker around it: the ceiling for produce throughput
 * on local-directory storage of this machine.
 *   npx tsx bench/object-store-baseline.ts --object-mib 8 --concurrency 1,2,4,8 --total-mib 512
 * With --paced-per-s it instead puts small objects at a fixed rate and reports put latency,
 * the disk's share of produce latency (a 10 MB/s producer makes ~60 flushes/s of ~160 KiB):
 *   npx tsx bench/object-store-baseline.ts --paced-per-s 60 --object-mib 0.16 --paced-s 15
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../src/storage/local/local-object-store.js';
import { intFlag, numFlag, parseFlags } from './lib/args.js';
import { machineLoad } from './lib/machine-load.js';
import { appendResult, fmt } from './lib/results-file.js';
import { formatLatency, LatencyRecorder } from './lib/latency-recorder.js';

const flags = parseFlags('object-store-baseline.ts', {
  'object-mib': { default: '8', help: 'object size in MiB (flush.max.bytes is 8 MiB)' },
  concurrency: { default: '1,4', help: 'comma-separated numbers of puts in flight' },
  'total-mib': { default: '512', help: 'MiB written per concurrency level' },
  dir: { default: '', help: 'directory to write under (default: a temp dir, removed afterwards)' },
  'paced-per-s': { default: '0', help: 'instead: this many puts per second (one at a time), reporting put latency' },
  'paced-s': { default: '15', help: 'seconds of paced puts' },
  label: { default: 'object-store', help: 'name of this run in --json-out' },
  'json-out': { default: '', help: 'append results as JSON lines to this file' },
});

async function main(): Promise<void> {
  const size = Math.round(numFlag(flags['object-mib'], 'object-mib') * 1048576);
  const total = intFlag(flags['total-mib'], 'total-mib', 1) * 1048576;
  const base = flags.dir || mkdtempSync(join(tmpdir(), 'streamhouse-objstore-'));
  const body = randomBytes(size);
  try {
    const perSecond = numFlag(flags['paced-per-s'], 'paced-per-s');
    if (perSecond > 0) {
      const store = await LocalObjectStore.open(join(base, 'paced'));
      const latency = new LatencyRecorder();
      const end = performance.now() + numFlag(flags['paced-s'], 'paced-s') * 1000;
      let due = performance.now();
      for (let i = 0; due < end; i++) {
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const t0 = performance.now();
        await store.put(`aa/bench/${String(i).padStart(8, '0')}.seg`, body);
        latency.record(performance.now() - t0);
        due += 1000 / perSecond;
      }
      const summary = latency.summary();
      console.log(`${fmt(perSecond)} puts/s of ${fmt(size / 1024)} KiB: put ${formatLatency(summary)}`);
      appendResult(flags['json-out'], { script: 'object-store-baseline', label: `${flags.label} paced`, objectBytes: size, perSecond, latency: summary, ...machineLoad() });
      return;
    }
    for (const c of flags.concurrency.split(',').map((x) => intFlag(x, 'concurrency', 1))) {
      const store = await LocalObjectStore.open(join(base, `c${c}`));
      const count = Math.max(c, Math.ceil(total / size));
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < count) {
            const i = next++;
            await store.put(`aa/bench/${String(i).padStart(8, '0')}.seg`, body);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const mbs = (count * size) / 1e6 / seconds;
      console.log(`${c} in flight: ${count} puts of ${fmt(size / 1048576, 1)} MiB in ${seconds.toFixed(2)} s = ${fmt(mbs, 1)} MB/s, ${fmt(count / seconds, 1)} puts/s`);
      appendResult(flags['json-out'], { script: 'object-store-baseline', label: `${flags.label} x${c}`, objectBytes: size, concurrency: c, mbPerSecond: mbs, putsPerSecond: count / seconds, ...machineLoad() });
      rmSync(join(base, `c${c}`), { recursive: true, force: true });
    }
  } finally {
    if (!flags.dir) rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
