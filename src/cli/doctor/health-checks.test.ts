import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { SQLITE_MEMORY_PATH, openSqliteMetadataStore } from '../../metadata/sqlite/sqlite-metadata-store.js';
import { MemoryObjectStore } from '../../storage/memory/memory-object-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { SegmentKeyGenerator } from '../../storage/segment/segment-key.js';
import { CHECK_NAMES, exitCodeOf, runDoctor, uploadsBetween, type CheckResult, type DoctorReport, type DoctorSettings } from './health-checks.js';

const T0 = 1_750_000_000_000;

const SETTINGS: DoctorSettings = {
  metadataTarget: 'sqlite::memory:',
  storageTarget: 'memory://',
  clustered: false,
  heartbeatIntervalMs: 1000,
  leaseTtlMs: 3000,
  timeoutMs: 1000,
  metadataLatencyWarnMs: 500,
  objectLatencyWarnMs: 1000,
  writeProbe: false,
  lagWarn: 100,
  lagCritical: 1000,
  flowMaxAgeMs: 60_000,
  agentGoneAfterMs: 3_600_000,
};

let clock: number;
let metadata: MetadataStore;
let objects: MemoryObjectStore;

/** The stores as the doctor opens them; closing them is a no-op so a test can look again. */
function stores() {
  const keepOpen = <T extends { close(): Promise<void> }>(s: T): T => new Proxy(s, { get: (t, p) => (p === 'close' ? async () => {} : Reflect.get(t, p)) });
  return { openMetadata: async () => keepOpen(metadata), openObjects: async () => keepOpen(objects as ObjectStore) };
}

function check(report: DoctorReport, name: string): CheckResult {
  const c = report.checks.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no check ${name}`);
  return c;
}

/** Commits one object with `count` records to topic-partition at the current clock. */
async function flush(key: string, topic: string, partition: number, count: bigint): Promise<void> {
  const from = (await metadata.partitions.get(topic, partition))!.highWatermark;
  await metadata.partitions.commitFlush({
    objectKey: key,
    objectSize: 100,
    chunks: [{ topic, partition, baseOffset: from, lastOffset: from + count - 1n, maxTimestamp: 1n, recordCount: Number(count), byteOffset: 0, byteLength: 100 }],
    partitions: [{ topic, partition, expectedHighWatermark: from, newHighWatermark: from + count }],
    producerStates: [],
  });
}

async function commitGroup(group: string, topic: string, partition: number, offset: bigint): Promise<void> {
  await metadata.groupOffsets.commit(group, [{ topic, partition, offset, leaderEpoch: -1, metadata: null, commitTimestamp: clock }]);
}

beforeEach(async () => {
  clock = T0;
  metadata = await openSqliteMetadataStore({ path: SQLITE_MEMORY_PATH, now: () => clock });
  objects = new MemoryObjectStore();
});

afterEach(async () => {
  await metadata.close();
  await objects.close();
});

describe('streamhouse doctor checks', () => {
  it('reports every check in order, healthy on an embedded deployment with recent data', async () => {
    await metadata.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
    await flush('k1', 'orders', 0, 10n);
    await commitGroup('billing', 'orders', 0, 10n);
    clock += 500;
    const report = await runDoctor(SETTINGS, stores());
    expect(report.checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(report.status).toBe('ok');
    expect(check(report, 'agents')).toMatchObject({ status: 'ok', value: null });
    expect(check(report, 'agents').message).toContain('embedded mode');
    expect(check(report, 'partitions')).toMatchObject({ status: 'ok', value: 0, message: 'embedded mode (no leases): the one agent leads all 2 partition(s) of 1 topic(s)' });
    expect(check(report, 'consumer-lag')).toEqual({ name: 'consumer-lag', status: 'ok', value: 0, message: '1 group(s), largest lag 0 (billing)' });
    expect(check(report, 'data-flow')).toEqual({ name: 'data-flow', status: 'ok', value: 500, message: 'newest object recorded 500 ms ago' });
    expect(check(report, 'objects').status).toBe('ok');
  });

  it('judges each group\'s total lag against --lag-warn and --lag-critical (above, not at)', async () => {
    await metadata.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
    await flush('k1', 'orders', 0, 600n);
    await flush('k2', 'orders', 1, 600n);
    await commitGroup('at-warn', 'orders', 0, 500n); // 100
    await commitGroup('warn', 'orders', 0, 499n); // 101
    const lag = async () => check(await runDoctor(SETTINGS, stores()), 'consumer-lag');
    expect(await lag()).toMatchObject({ status: 'degraded', value: 101, message: 'lag above --lag-warn 100: warn 101 (2 group(s))' });
    // lag sums over partitions: 600 + 400
    await commitGroup('critical', 'orders', 0, 0n);
    await commitGroup('critical', 'orders', 1, 200n);
    expect(await lag()).toMatchObject({ status: 'degraded', value: 1000 });
    await commitGroup('critical', 'orders', 1, 199n);
    expect(await lag()).toMatchObject({ status: 'critical', value: 1001, message: 'lag above --lag-critical 1000: critical 1001; above --lag-warn 100: warn 101 (3 group(s))' });
    const report = await runDoctor(SETTINGS, stores());
    expect(report.status).toBe('critical');
    expect(exitCodeOf(report.status)).toBe(2);
  });

  it('cluster mode: live, late, stale and gone agents by heartbeat age, and partitions without a lease', async () => {
    const cluster = { ...SETTINGS, clustered: true };
    await metadata.topics.create({ name: 'orders', partitionCount: 2, configs: {} });
    await metadata.agents.register({ agentId: 'a', host: 'h', port: 1, rack: null });
    await metadata.agents.register({ agentId: 'b', host: 'h', port: 2, rack: null });
    await metadata.agents.register({ agentId: 'left', host: 'h', port: 3, rack: null });
    await metadata.agents.deregister('left');
    const leaseAll = async (owner: string) => {
      await metadata.leases.acquireMany(['partition/orders/0', 'partition/orders/1', ...Array.from({ length: 50 }, (_, s) => `group-shard/${s}`)], owner, 3000);
    };
    await leaseAll('a');
    let report = await runDoctor(cluster, stores());
    expect(check(report, 'agents')).toMatchObject({ status: 'ok', value: 2, message: '2 live: a, b; 1 deregistered' });
    expect(check(report, 'partitions')).toMatchObject({ status: 'ok', value: 0, message: 'all 2 partition(s) of 1 topic(s) and 50 coordinator shards have a leader' });

    // b misses heartbeats: late after two intervals, stale from the lease TTL on
    clock += 2500;
    await metadata.agents.heartbeat('a');
    await metadata.leases.renewMany((await metadata.leases.list()).map((l) => ({ resource: l.resource, epoch: l.epoch })), 'a', 3000);
    report = await runDoctor(cluster, stores());
    expect(check(report, 'agents')).toMatchObject({ status: 'degraded', value: 2, message: 'heartbeat late (interval 1000 ms): b (2.5 s ago); 2 live: a, b; 1 deregistered' });
    clock += 600;
    report = await runDoctor(cluster, stores());
    expect(check(report, 'agents')).toMatchObject({ status: 'degraded', value: 1, message: '1 agent(s) stopped heartbeating: b (3.1 s ago) (lease TTL 3000 ms); 1 live: a; 1 deregistered' });
    expect(report.status).toBe('degraded');

    // a stops too: its leases expire
    clock += 3000;
    report = await runDoctor(cluster, stores());
    expect(check(report, 'agents')).toMatchObject({ status: 'critical', value: 0 });
    expect(check(report, 'agents').message).toBe('no live agent (heartbeat within the lease TTL 3000 ms): last heartbeats: a (3.6 s ago), b (6.1 s ago); 1 deregistered');
    expect(check(report, 'partitions')).toMatchObject({ status: 'critical', value: 52, message: '2 of 2 partition(s) without a leader: orders-0, orders-1; 50 of 50 coordinator shards without a leader' });

    // b is back and takes everything; a is gone after --agent-gone-after-ms
    await metadata.agents.heartbeat('b');
    await leaseAll('b');
    report = await runDoctor({ ...cluster, agentGoneAfterMs: 3000 }, stores());
    expect(check(report, 'agents')).toMatchObject({ status: 'ok', value: 1, message: '1 live: b; 1 deregistered, 1 silent for over 3.0 s' });
    expect(check(report, 'partitions').status).toBe('ok');
  });

  it('data flow: idle when nothing was uploaded since the newest object, degraded when uploads were not recorded', async () => {
    await metadata.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    const keys = new SegmentKeyGenerator('agent-1', () => clock);
    const first = keys.next();
    await objects.put(first, Buffer.from('x'));
    await flush(first, 'orders', 0, 1n);
    clock += 61_000;
    let flow = check(await runDoctor(SETTINGS, stores()), 'data-flow');
    expect(flow).toEqual({ name: 'data-flow', status: 'ok', value: 61_000, message: 'idle: no object recorded for 61.0 s (--flow-max-age-ms 60000) and nothing uploaded since' });

    // a flush uploaded 10 s ago whose commit never landed
    const orphan = new SegmentKeyGenerator('agent-1', () => clock - 10_000).next();
    await objects.put(orphan, Buffer.from('y'));
    flow = check(await runDoctor(SETTINGS, stores()), 'data-flow');
    expect(flow).toMatchObject({ status: 'degraded', value: 61_000 });
    expect(flow.message).toBe('no object recorded for 61.0 s (--flow-max-age-ms 60000), yet 1 segment object(s) uploaded since were not recorded (newest 10.0 s ago): flushes upload but do not commit');

    // one still within the settle time may be committing right now
    await objects.delete(orphan);
    await objects.put(new SegmentKeyGenerator('agent-1', () => clock - 500).next(), Buffer.from('z'));
    expect(check(await runDoctor(SETTINGS, stores()), 'data-flow').status).toBe('ok');
  });

  it('counts uploads by the time in their key, listing at most two aligned prefixes per agent', async () => {
    const store = new MemoryObjectStore();
    const listed: string[] = [];
    const spy: ObjectStore = { ...store, put: (k, b) => store.put(k, b), list: (p) => (listed.push(p ?? ''), store.list(p)), get: (k, r) => store.get(k, r), delete: (k) => store.delete(k), close: () => store.close() };
    for (const at of [999_999, 1_000_000, 1_050_000, 1_099_999, 2_000_001]) await store.put(new SegmentKeyGenerator('a', () => at).next(), Buffer.from('x'));
    await store.put(new SegmentKeyGenerator('b', () => 1_050_000).next(), Buffer.from('x'));
    expect(await uploadsBetween(spy, ['a'], 1_000_000, 1_099_999)).toEqual({ count: 3, newest: 1_099_999 });
    expect(listed).toHaveLength(1);
    listed.length = 0;
    // 999_999 .. 1_000_000 spans a block boundary: two prefixes
    expect(await uploadsBetween(spy, ['a', 'b'], 999_999, 1_050_000)).toEqual({ count: 4, newest: 1_050_000 });
    expect(listed).toHaveLength(4);
    expect(await uploadsBetween(spy, ['a'], 5, 4)).toEqual({ count: 0, newest: 0 });
    await store.close();
  });

  it('a metadata store that does not answer is critical within the time limit, and the checks that need it are not run', async () => {
    const started = performance.now();
    const report = await runDoctor({ ...SETTINGS, timeoutMs: 300 }, { openMetadata: () => new Promise<MetadataStore>(() => {}), openObjects: stores().openObjects });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(report.status).toBe('critical');
    expect(check(report, 'metadata')).toEqual({ name: 'metadata', status: 'critical', value: null, message: 'sqlite::memory:: no answer within 300 ms' });
    expect(check(report, 'objects').status).toBe('ok');
    for (const name of ['agents', 'partitions', 'consumer-lag', 'data-flow']) {
      expect(check(report, name)).toEqual({ name, status: 'critical', value: null, message: 'not checked: the metadata store did not answer' });
    }
  });

  it('an object store that fails is critical; --write-probe puts, reads back and deletes its object', async () => {
    const failing = { openMetadata: stores().openMetadata, openObjects: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9')) };
    let report = await runDoctor(SETTINGS, failing);
    expect(check(report, 'objects')).toEqual({ name: 'objects', status: 'critical', value: null, message: 'memory://: connect ECONNREFUSED 127.0.0.1:9' });
    expect(check(report, 'data-flow').message).toBe('idle as far as the metadata store shows: no object recorded yet (uploads not checked: the object store did not answer)');
    report = await runDoctor({ ...SETTINGS, writeProbe: true }, stores());
    expect(check(report, 'objects').status).toBe('ok');
    expect(check(report, 'objects').message).toMatch(/^memory:\/\/: listing answered in \d+ ms; probe object put in \d+ ms, read in \d+ ms, deleted in \d+ ms$/);
    const left: string[] = [];
    for await (const o of objects.list()) left.push(o.key);
    expect(left).toEqual([]);
  });
});
