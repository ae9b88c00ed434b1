/**
 * What authorization costs on the produce path (issue #14, goal < 5% throughput): two fresh
 * brokers (dist/, SQLite + a local directory) in the same run, one without an authorizer and
 * one with authorizer.class.name and 10,000 ACL bindings (literal and prefixed, topics and
 * groups, many principals; some prefixes of the benchmark topic's own name so the prefix
 * lookups have work to do). The load is PLAINTEXT, so the principal is User:ANONYMOUS: it is
 * allowed by a PREFIXED WRITE binding among the 10,000, not a super user. Phases alternate
 * between the brokers in ABBA order per pair of rounds; throughput and broker CPU per record.
 *   npx tsx bench/acl-cost.ts                      (defaults below)
 *   npx tsx bench/acl-cost.ts --rounds 8 --phase-s 10 --acls 10000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intFlag, parseFlags } from './lib/args.js';
import { launchBroker, type LaunchedBroker } from './lib/broker-launcher.js';
import { readCpuSeconds } from './lib/process-cpu.js';
import { runProduce, type ProduceRunOptions } from './lib/produce-runner.js';
import { produceLoadFlags, produceLoadOptions } from './lib/produce-load-flags.js';
import { appendResult, fmt } from './lib/results-file.js';
import { describeLoad, machineLoad } from './lib/machine-load.js';
import { ensureTopic } from './lib/topic-setup.js';
import { KafkaConnection } from '../test-kit/kafka-connection.js';
import { openMetadataStore } from '../src/metadata/open-metadata-store.js';
import type { StoredAclBinding } from '../src/metadata/metadata-store.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../src/agent/security/acl.js';
import { toAclBinding } from '../src/agent/security/acl-sync.js';
import { Authorizer } from '../src/agent/security/authorizer.js';
import { userPrincipal } from '../src/agent/security/principal.js';

const flags = parseFlags('acl-cost.ts', {
  // small batches: more requests, so more checks per record
  ...produceLoadFlags({ 'records-per-batch': '100' }),
  rounds: { default: '6', help: 'rounds; each has one phase on each broker' },
  acls: { default: '10000', help: 'ACL bindings of the authorizing broker (the one that allows the load included)' },
  'json-out': { default: '', help: 'append the results as JSON lines to this file' },
});

const PREFIX = 'bench-acl-';

/** `count` bindings: the two that let ANONYMOUS create and write the benchmark topics, then filler. */
function bindings(count: number): StoredAclBinding[] {
  const out: StoredAclBinding[] = [
    { resourceType: ResourceType.TOPIC, resourceName: PREFIX, patternType: PatternType.PREFIXED, principal: 'User:ANONYMOUS', host: '*', operation: AclOperation.WRITE, permission: AclPermission.ALLOW },
    { resourceType: ResourceType.TOPIC, resourceName: PREFIX, patternType: PatternType.PREFIXED, principal: 'User:ANONYMOUS', host: '*', operation: AclOperation.CREATE, permission: AclPermission.ALLOW },
  ];
  for (let i = 0; out.length < count; i++) {
    const user = `User:app-${i % 997}`;
    switch (i % 5) {
      case 0:
        out.push({ resourceType: ResourceType.TOPIC, resourceName: `orders-${i}`, patternType: PatternType.LITERAL, principal: user, host: '*', operation: AclOperation.WRITE, permission: AclPermission.ALLOW });
        break;
      case 1:
        out.push({ resourceType: ResourceType.TOPIC, resourceName: `team-${i}-`, patternType: PatternType.PREFIXED, principal: user, host: '*', operation: AclOperation.READ, permission: AclPermission.ALLOW });
        break;
      case 2:
        // prefixes of the benchmark topic's name, for other principals: they match the topic and are skipped by principal
        out.push({ resourceType: ResourceType.TOPIC, resourceName: PREFIX.slice(0, 1 + (i % PREFIX.length)), patternType: PatternType.PREFIXED, principal: user, host: `10.0.${(i >> 8) & 255}.${i & 255}`, operation: AclOperation.WRITE, permission: i % 10 === 2 ? AclPermission.DENY : AclPermission.ALLOW });
        break;
      case 3:
        out.push({ resourceType: ResourceType.GROUP, resourceName: `group-${i}`, patternType: PatternType.LITERAL, principal: user, host: '*', operation: AclOperation.READ, permission: AclPermission.ALLOW });
        break;
      default:
        out.push({ resourceType: ResourceType.TOPIC, resourceName: `events-${i}`, patternType: PatternType.LITERAL, principal: user, host: '*', operation: AclOperation.DESCRIBE, permission: AclPermission.DENY });
    }
  }
  return out;
}

interface Phase {
  readonly recordsPerSecond: number;
  readonly brokerCpuUsPerKRecords: number;
  readonly p99Ms: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/**
 * The check a Produce request makes per topic, timed in this process on the same bindings:
 * a number the machine's load hardly moves, unlike the throughput of two brokers.
 */
function checkMicroseconds(seeded: readonly StoredAclBinding[], topic: string): number {
  const authorizer = new Authorizer({ superUsers: [], allowEveryoneIfNoAclFound: false });
  authorizer.replace(seeded.map((b) => toAclBinding(b)!));
  const who = { principal: userPrincipal('ANONYMOUS'), host: '127.0.0.1', client: '127.0.0.1:1' };
  const n = 200_000;
  for (let i = 0; i < n; i++) authorizer.authorize(who, AclOperation.WRITE, ResourceType.TOPIC, topic);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (!authorizer.authorize(who, AclOperation.WRITE, ResourceType.TOPIC, topic)) throw new Error('the load would be refused');
  return ((performance.now() - t0) * 1000) / n;
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

async function main(): Promise<void> {
  const rounds = intFlag(flags.rounds, 'rounds', 1);
  const aclCount = intFlag(flags.acls, 'acls', 2);
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  const onDir = mkdtempSync(join(tmpdir(), 'streamhouse-bench-acl-'));
  const store = await openMetadataStore(`sqlite://${join(onDir, 'metadata.db')}`);
  // a distinct set (the store keeps identical bindings once)
  const seeded = bindings(aclCount);
  await store.acls.create(seeded);
  const stored = (await store.acls.list()).length;
  await store.close();
  const brokers: Record<'off' | 'on', LaunchedBroker> = {
    off: await launchBroker(),
    on: await launchBroker({ dataDir: onDir, args: ['--authorizer-class-name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'] }),
  };
  try {
    const topic = `${PREFIX}${Date.now()}`;
    const opts = (b: LaunchedBroker): ProduceRunOptions => produceLoadOptions(flags, { host: b.host, port: b.kafkaPort, topic });
    for (const b of Object.values(brokers)) {
      const admin = await KafkaConnection.connect(b.host, b.kafkaPort, 'bench-admin');
      await ensureTopic(admin, topic, partitions);
      admin.close();
    }
    console.log(
      `acl cost: ${stored} ACL bindings on the authorizing broker (pid ${brokers.on.pid()}), none and no authorizer on the other (pid ${brokers.off.pid()}); ` +
        `${partitions} partitions, ${opts(brokers.off).connections} connections x ${opts(brokers.off).inflight} in flight, ${opts(brokers.off).recordsPerBatch} x ${opts(brokers.off).recordSize} B records per batch, acks=1; ` +
        `${rounds} rounds of ${opts(brokers.off).warmupS} + ${opts(brokers.off).durationS} s on each`,
    );
    // unmeasured: JIT, caches and the first flushes of both brokers
    for (const b of Object.values(brokers)) await runProduce({ ...opts(b), durationS: 2 });
    const runPhase = async (which: 'off' | 'on'): Promise<Phase> => {
      const b = brokers[which];
      const cpu0 = readCpuSeconds(b.pid()) ?? 0;
      const t0 = performance.now();
      const r = await runProduce(opts(b));
      const seconds = (performance.now() - t0) / 1000;
      const cpu = ((readCpuSeconds(b.pid()) ?? 0) - cpu0) / seconds;
      if (r.errorCount > 0) throw new Error(`produce errors on the ${which} broker: ${JSON.stringify(r.errors)}`);
      return { recordsPerSecond: r.recordsPerSecond, brokerCpuUsPerKRecords: (cpu / r.recordsPerSecond) * 1e9, p99Ms: r.latency.p99 };
    };
    const pairs: Array<{ off: Phase; on: Phase }> = [];
    for (let round = 0; round < rounds; round++) {
      const order: Array<'off' | 'on'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      const got: Partial<Record<'off' | 'on', Phase>> = {};
      for (const which of order) got[which] = await runPhase(which);
      const pair = { off: got.off!, on: got.on! };
      pairs.push(pair);
      console.log(
        `  round ${round + 1} (${order.join(', ')}): no authorizer ${fmt(pair.off.recordsPerSecond)} rec/s (${pair.off.brokerCpuUsPerKRecords.toFixed(1)} µs CPU/1000 rec, p99 ${pair.off.p99Ms.toFixed(1)} ms); ` +
          `${stored} ACLs ${fmt(pair.on.recordsPerSecond)} rec/s (${pair.on.brokerCpuUsPerKRecords.toFixed(1)} µs CPU/1000 rec, p99 ${pair.on.p99Ms.toFixed(1)} ms); ${pct(pair.on.recordsPerSecond / pair.off.recordsPerSecond - 1)}`,
      );
    }
    const ratios = pairs.map((p) => p.on.recordsPerSecond / p.off.recordsPerSecond - 1);
    const cpuRatios = pairs.map((p) => p.on.brokerCpuUsPerKRecords / p.off.brokerCpuUsPerKRecords - 1);
    const mean = (which: 'off' | 'on') => pairs.reduce((n, p) => n + p[which].recordsPerSecond, 0) / pairs.length;
    console.log(`  no authorizer:        mean ${fmt(mean('off'))} rec/s`);
    console.log(`  authorizer, ${stored} ACLs: mean ${fmt(mean('on'))} rec/s`);
    console.log(`  difference: mean of means ${pct(mean('on') / mean('off') - 1)}, median of rounds ${pct(median(ratios))} (rounds ${ratios.map(pct).join(' ')}); goal: no worse than -5%`);
    console.log(`  broker CPU per record with the authorizer: median of rounds ${pct(median(cpuRatios))} (rounds ${cpuRatios.map(pct).join(' ')})`);
    const us = checkMicroseconds(seeded, topic);
    const requestsPerSecond = mean('on') / opts(brokers.on).recordsPerBatch / partitions;
    console.log(`  the check itself, in this process on the same ${seeded.length} bindings: ${us.toFixed(2)} µs per Produce request (one topic); at ${fmt(requestsPerSecond)} requests/s that is ${((us * requestsPerSecond) / 1e4).toFixed(3)}% of one core`);
    console.log(`  machine: ${describeLoad(machineLoad())}`);
    appendResult(flags['json-out'], { script: 'acl-cost', acls: stored, checkMicroseconds: us, requestsPerSecond, rounds: pairs, meanDifference: mean('on') / mean('off') - 1, medianDifference: median(ratios), medianCpuPerRecordDifference: median(cpuRatios), ...machineLoad() });
  } finally {
    await brokers.off.cleanup();
    await brokers.on.cleanup();
    rmSync(onDir, { recursive: true, force: true });
  }
}

await main();
