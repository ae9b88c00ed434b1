import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { kcatRead } from '../produce-consume/kcat-client.js';
import { sortRecords } from '../produce-consume/matrix-layout.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';

const PROTO_DIR = resolve(import.meta.dirname, '../../src/grpc');

let broker: BrokerProcess;
let stubs: string;

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  stubs = mkdtempSync(join(tmpdir(), 'streamhouse-pystubs-'));
  // generated now, from the proto in the tree: the stubs can never be stale
  const gen = await runCommand(PYTHON, ['-m', 'grpc_tools.protoc', `-I${PROTO_DIR}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, 'streamhouse.proto'], { timeoutMs: 60_000 });
  expect(gen, 'grpc_tools.protoc').toMatchObject({ code: 0 });
});

afterAll(async () => {
  await broker?.cleanup();
  if (stubs) rmSync(stubs, { recursive: true, force: true });
});

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('a Python grpcio program with stubs generated from streamhouse.proto', () => {
  it('produces and consumes, with Kafka-compatible partitions, offsets and statuses', async () => {
    const res = await runCommand(PYTHON, [join(import.meta.dirname, 'grpc-streamhouse-client.py'), stubs, `127.0.0.1:${broker.grpcPort}`], { timeoutMs: 60_000 });
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as {
      keyed: Array<{ key: string; partition: number; offset: number }>;
      consumed: { records: Array<Record<string, unknown>>; high_watermark: number; next_offset: number };
      [k: string]: unknown;
    };
    expect(out['health']).toBe('SERVING');
    expect(out['created']).toEqual({ name: 'py-events', partitions: 3, configs: { 'retention.ms': '86400000' } });

    // murmur2 partitions, offsets counting up per partition
    const perPartition = new Map<number, number>();
    const keyed = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((key) => {
      const partition = partitionForKey(Buffer.from(key), 3);
      const offset = perPartition.get(partition) ?? 0;
      perPartition.set(partition, offset + 1);
      return { key, partition, offset };
    });
    expect(out.keyed).toEqual(keyed);
    const base = perPartition.get(0) ?? 0;
    expect(out['batch']).toEqual({ partition: 0, base_offset: base, record_count: 4 });

    const onZero = keyed
      .map((k, i) => ({ ...k, i }))
      .filter((k) => k.partition === 0)
      .map((k) => ({ offset: k.offset, partition: 0, timestamp_ms: 1700000000000 + k.i, key: hex(k.key), value: hex(`order ${k.i}`), headers: [['lang', hex('python')]] }));
    expect(out.consumed).toEqual({
      records: [
        ...onZero,
        { offset: base, partition: 0, timestamp_ms: 1700000001000, key: hex('bin'), value: Buffer.from([...Array(256).keys()]).toString('hex'), headers: [] },
        { offset: base + 1, partition: 0, timestamp_ms: 1700000001001, key: '', value: hex('empty key'), headers: [] },
        { offset: base + 2, partition: 0, timestamp_ms: 1700000001002, key: hex('tombstone'), value: null, headers: [['null-header', null]] },
        { offset: base + 3, partition: 0, timestamp_ms: 1700000001003, key: null, value: hex('no key'), headers: [] },
      ],
      high_watermark: base + 4,
      next_offset: base + 4,
    });
    expect(out['subscribed_offsets']).toEqual([...Array(base + 4).keys()]);
    expect(out['committed']).toEqual({ offset: 2, found: true, high_watermark: base + 4 });
    expect(out['group']).toEqual({ total_lag: base + 2, offsets: [['py-events', 0, 2, base + 2, 'from python']] });
    expect(out['errors']).toEqual({
      unknown_topic: ['NOT_FOUND', "topic 'nope' does not exist"],
      bad_offset: ['OUT_OF_RANGE', `Offset 999 is outside the log 0..${base + 4} of py-events-0`],
      exists: ['ALREADY_EXISTS', "Topic 'py-events' already exists."],
      bad_partition: ['INVALID_ARGUMENT', 'partition must be 0 or more, got -1'],
    });

    // the same log: kcat reads what Python wrote at the same offsets
    const viaKcat = sortRecords(await kcatRead(broker.bootstrap, ['py-events'])).filter((r) => r.partition === 0);
    expect(viaKcat.map((r) => [r.offset, r.key === null ? null : Buffer.from(r.key, 'base64').toString('hex'), r.value === null ? null : Buffer.from(r.value, 'base64').toString('hex')])).toEqual(
      out.consumed.records.map((r) => [r['offset'], r['key'], r['value']]),
    );
  });
});
