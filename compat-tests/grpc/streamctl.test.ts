import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/protocol/murmur2.js';
import { VERSION } from '../../src/version.js';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand, type CommandResult } from '../../test-kit/run-command.js';

const STREAMCTL = join(resolve(import.meta.dirname, '../..'), 'dist/cli/streamctl.js');

let broker: BrokerProcess;
let address: string;

function streamctl(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [STREAMCTL, ...args], { env: { STREAMHOUSE_ADDR: address, ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs: 30_000 });
}

/** Runs and expects success with nothing on stderr; returns stdout. */
async function ok(args: string[], input?: string): Promise<string> {
  const r = await streamctl(args, input !== undefined ? { input } : {});
  expect({ code: r.code, stderr: r.stderr }, `streamctl ${args.join(' ')}`).toEqual({ code: 0, stderr: '' });
  return r.stdout;
}

beforeAll(async () => {
  broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  address = `http://127.0.0.1:${broker.grpcPort}`;
});

afterAll(async () => {
  await broker?.cleanup();
});

describe('streamctl against a broker', () => {
  it('health and --version', async () => {
    expect(await ok(['health'])).toMatch(/^SERVING {2}agent \S+ {2}cluster [A-Za-z0-9_-]{22} {2}version \S+ {2}up \d+s\n$/);
    const h = JSON.parse(await ok(['health', '--json'])) as Record<string, unknown>;
    expect(h).toMatchObject({ status: 'SERVING', version: VERSION });
    expect(await ok(['--version'])).toBe(`${VERSION}\n`);
  });

  it('topic create, list, describe (tables and --json)', async () => {
    expect(await ok(['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=3600000'])).toBe('created topic orders with 3 partitions\n');
    const one = JSON.parse(await ok(['topic', 'create', 'audit', '-p', '1', '--json'])) as { name: string; partitionCount: number; partitions: unknown[] };
    expect(one).toMatchObject({ name: 'audit', partitionCount: 1, configs: {}, partitions: [{ partition: 0, logStartOffset: 0, highWatermark: 0, leaderNodeId: 0 }] });
    expect(await ok(['topic', 'list'])).toBe(['TOPIC   PARTITIONS  RECORDS', 'audit            1        0', 'orders           3        0', ''].join('\n'));
    expect(JSON.parse(await ok(['topic', 'list', '--json']))).toEqual([
      { name: 'audit', partitionCount: 1, recordCount: 0 },
      { name: 'orders', partitionCount: 3, recordCount: 0 },
    ]);
    const d = JSON.parse(await ok(['--json', 'topic', 'describe', 'orders'])) as { topicId: string; partitions: Array<{ leaderAgentId: string }> };
    const agent = d.partitions[0]!.leaderAgentId;
    expect(await ok(['topic', 'describe', 'orders'])).toBe(
      [
        `Topic: orders  Id: ${d.topicId}  Partitions: 3`,
        'Configs: retention.ms=3600000',
        'PARTITION  LOG-START  HIGH-WATERMARK  RECORDS  LEADER',
        `        0          0               0        0  ${agent}`,
        `        1          0               0        0  ${agent}`,
        `        2          0               0        0  ${agent}`,
        '',
      ].join('\n'),
    );
  });

  it('topic errors exit 1 with one line on stderr', async () => {
    const dup = await streamctl(['topic', 'create', 'orders', '-p', '1']);
    expect(dup).toEqual({ code: 1, stdout: '', stderr: "streamctl: Topic 'orders' already exists.\n" });
    const bad = await streamctl(['topic', 'create', 'bad name']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: `streamctl: Topic name "bad name" contains characters other than ASCII alphanumerics, '.', '_' and '-'\n` });
    expect(await streamctl(['topic', 'describe', 'ghost'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: topic 'ghost' does not exist\n" });
    expect(await streamctl(['topic', 'delete', 'ghost'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: topic 'ghost' does not exist\n" });
  });

  it('produce one record with a key (murmur2 partition), or stdin lines', async () => {
    const p = partitionForKey(Buffer.from('user-1'), 3);
    expect(await ok(['produce', 'orders', '--key', 'user-1', '--value', 'first', '-H', 'src=cli'])).toBe(`produced to orders partition ${p} at offset 0\n`);
    expect(await ok(['produce', 'audit', '--partition', '0'], 'a\nb\nc\n')).toBe('produced 3 records to audit (partition 0)\n');
    expect(JSON.parse(await ok(['produce', 'audit', '--json', '-K', ':'], 'k1:v1\nk2:v:2\n'))).toEqual([
      { topic: 'audit', partition: 0, offset: 3 },
      { topic: 'audit', partition: 0, offset: 4 },
    ]);
  });

  it('consume prints records until caught up; --partition, --offset, --limit, --json', async () => {
    expect(await ok(['consume', 'audit'])).toBe(
      [
        'partition=0 offset=0 key=null value=a',
        'partition=0 offset=1 key=null value=b',
        'partition=0 offset=2 key=null value=c',
        'partition=0 offset=3 key=k1 value=v1',
        'partition=0 offset=4 key=k2 value=v:2',
        '',
      ].join('\n'),
    );
    expect(await ok(['consume', 'audit', '--partition', '0', '--offset', '3'])).toBe('partition=0 offset=3 key=k1 value=v1\npartition=0 offset=4 key=k2 value=v:2\n');
    expect(await ok(['consume', 'audit', '--offset', '1', '--limit', '2'])).toBe('partition=0 offset=1 key=null value=b\npartition=0 offset=2 key=null value=c\n');
    expect(await ok(['consume', 'audit', '--offset', 'latest'])).toBe('');
    const p = partitionForKey(Buffer.from('user-1'), 3);
    const lines = (await ok(['consume', 'orders', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ topic: 'orders', partition: p, offset: 0, key: 'user-1', value: 'first', headers: [{ key: 'src', value: 'cli' }] });
    expect(typeof lines[0]!['timestamp']).toBe('number');
  });

  it('consume --group commits what it printed; group list, describe and reset-offsets', async () => {
    expect(await ok(['consume', 'audit', '--group', 'readers', '--limit', '2'])).toBe('partition=0 offset=0 key=null value=a\npartition=0 offset=1 key=null value=b\n');
    expect(await ok(['group', 'describe', 'readers'])).toMatch(
      new RegExp(['^Group: readers  State: \\S+  Members: 0  Total lag: 3', 'TOPIC  PARTITION  COMMITTED  HIGH-WATERMARK  LAG', 'audit          0          2               5    3', '$'].join('\n')),
    );
    expect(await ok(['consume', 'audit', '-g', 'readers'])).toBe(
      ['partition=0 offset=2 key=null value=c', 'partition=0 offset=3 key=k1 value=v1', 'partition=0 offset=4 key=k2 value=v:2', ''].join('\n'),
    );
    expect(await ok(['consume', 'audit', '-g', 'readers'])).toBe('');
    expect(await ok(['group', 'list'])).toMatch(/^GROUP {4}STATE +MEMBERS  PARTITIONS  LAG\nreaders +\S+ +0 +1 +0\n$/);
    const listed = JSON.parse(await ok(['group', 'list', '--json'])) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ groupId: 'readers', memberCount: 0, partitionCount: 1, totalLag: 0 })]);

    expect(await ok(['group', 'reset-offsets', 'readers', '--topic', 'audit', '--to-offset', '3', '--dry-run'])).toBe(
      ['would reset group readers (dry run, nothing committed):', 'TOPIC  PARTITION  COMMITTED  HIGH-WATERMARK  LAG', 'audit          0          3               5    2', ''].join('\n'),
    );
    expect(await ok(['group', 'reset-offsets', 'readers', '-t', 'audit', '--to-earliest'])).toBe(
      ['reset group readers:', 'TOPIC  PARTITION  COMMITTED  HIGH-WATERMARK  LAG', 'audit          0          0               5    5', ''].join('\n'),
    );
    const reset = JSON.parse(await ok(['group', 'reset-offsets', 'readers', '-t', 'audit', '-p', '0', '--to-latest', '--json'])) as { offsets: unknown[] };
    expect(reset).toMatchObject({ groupId: 'readers', dryRun: false, offsets: [{ topic: 'audit', partition: 0, committedOffset: 5, highWatermark: 5, lag: 0 }] });
    const described = JSON.parse(await ok(['group', 'describe', 'readers', '--json'])) as { totalLag: number; offsets: Array<{ committedOffset: number }> };
    expect([described.totalLag, described.offsets.map((o) => o.committedOffset)]).toEqual([0, [5]]);
    expect(await streamctl(['group', 'describe', 'nobody'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: consumer group 'nobody' does not exist\n" });
    expect(await streamctl(['group', 'reset-offsets', 'readers', '-t', 'ghost', '--to-earliest'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: topic 'ghost' does not exist\n" });
  });

  it('consume --follow prints new records until interrupted, then exits 0', async () => {
    await ok(['topic', 'create', 'live', '-p', '1']);
    const child = spawn(process.execPath, [STREAMCTL, 'consume', 'live', '--follow'], { env: { ...process.env, STREAMHOUSE_ADDR: address }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await sleep(1500);
    await ok(['produce', 'live', '--value', 'one']);
    await ok(['produce', 'live', '--value', 'two']);
    const deadline = Date.now() + 10_000;
    while (!out.includes('two') && Date.now() < deadline) await sleep(50);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(err).toBe('');
    expect(out).toBe('partition=0 offset=0 key=null value=one\npartition=0 offset=1 key=null value=two\n');
  });

  it('agent list', async () => {
    const rows = (await ok(['agent', 'list'])).split('\n');
    expect(rows[0]).toMatch(/^AGENT +NODE +KAFKA +GRPC +HTTP +RACK +PARTITIONS$/);
    expect(rows[1]).toMatch(new RegExp(`^\\S+ +0 +\\S+:${broker.kafkaPort} +${broker.grpcPort} +${broker.httpPort} +- +5$`));
    expect(rows).toHaveLength(3);
    const agents = JSON.parse(await ok(['agent', 'list', '--json'])) as Array<Record<string, unknown>>;
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatchObject({ nodeId: 0, grpcPort: broker.grpcPort, httpPort: broker.httpPort, rack: null });
    expect((agents[0]!['partitions'] as unknown[]).length).toBe(5);
  });

  it('topic delete', async () => {
    expect(await ok(['topic', 'delete', 'live'])).toBe('deleted topic live\n');
    expect(JSON.parse(await ok(['topic', 'delete', 'audit', '--json']))).toEqual({ deleted: 'audit' });
    expect(await streamctl(['consume', 'audit'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: topic 'audit' does not exist\n" });
    expect(await streamctl(['produce', 'audit', '-v', 'x'])).toEqual({ code: 1, stdout: '', stderr: "streamctl: topic 'audit' does not exist\n" });
  });
});

describe('streamctl usage errors exit 2', () => {
  const cases: Array<[string[], string]> = [
    [['topic', 'lst'], "streamctl: unknown command 'lst'\n(Did you mean list?)\n(run with --help for usage)\n"],
    [['topic', 'list', '--bogus'], "streamctl: unknown option '--bogus'\n(run with --help for usage)\n"],
    [['topic', 'create'], "streamctl: missing required argument 'name'\n(run with --help for usage)\n"],
    [['topic', 'create', 't', '-p', '0'], `streamctl: option '-p, --partitions <n>' argument '0' is invalid. --partitions must be between 1 and 100000, got 0\n(run with --help for usage)\n`],
    [['consume', 't', '--offset', 'soon'], `streamctl: option '-o, --offset <offset>' argument 'soon' is invalid. --offset must be earliest, latest or an offset (0 or more), got "soon"\n(run with --help for usage)\n`],
    [['consume', 't', '--partition', '-1'], `streamctl: option '-p, --partition <n>' argument '-1' is invalid. --partition must be between 0 and 9007199254740991, got -1\n(run with --help for usage)\n`],
    [['produce', 't', '-H', 'novalue'], `streamctl: option '-H, --header <key=value>' argument 'novalue' is invalid. --header must look like key=value, got "novalue"\n(run with --help for usage)\n`],
    [['produce', 't'], 'streamctl: nothing to produce: stdin had no lines\n'],
    [['group', 'reset-offsets', 'g', '--topic', 't'], 'streamctl: give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime\n'],
    [['group', 'reset-offsets', 'g', '--topic', 't', '--to-earliest', '--to-latest'], 'streamctl: give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime\n'],
    [['group', 'reset-offsets', 'g', '--to-earliest'], "streamctl: required option '-t, --topic <topic>' not specified\n(run with --help for usage)\n"],
    [['--timeout', '0', 'health'], `streamctl: option '--timeout <ms>' argument '0' is invalid. --timeout must be between 1 and 9007199254740991, got 0\n(run with --help for usage)\n`],
    [['nonsense'], "streamctl: unknown command 'nonsense'\n(run with --help for usage)\n"],
  ];
  for (const [args, stderr] of cases) {
    it(args.join(' '), async () => {
      expect(await streamctl(args)).toEqual({ code: 2, stdout: '', stderr });
    });
  }
});

describe('streamctl with no server', () => {
  it('prints one line naming the address and exits 1, for every command', async () => {
    const port = await freePort();
    const nowhere = `http://127.0.0.1:${port}`;
    const line = `streamctl: cannot reach StreamHouse at ${nowhere} (connection refused)\n`;
    const commands = [
      ['health'],
      ['topic', 'list'],
      ['topic', 'create', 'x'],
      ['topic', 'describe', 'x'],
      ['topic', 'delete', 'x'],
      ['produce', 'x', '--value', 'v'],
      ['consume', 'x'],
      ['group', 'list'],
      ['group', 'describe', 'g'],
      ['group', 'reset-offsets', 'g', '-t', 'x', '--to-earliest'],
      ['agent', 'list'],
    ];
    for (const args of commands) {
      expect(await streamctl(args, { env: { STREAMHOUSE_ADDR: nowhere } }), args.join(' ')).toEqual({ code: 1, stdout: '', stderr: line });
    }
    expect(await streamctl(['--addr', nowhere, 'health'])).toEqual({ code: 1, stdout: '', stderr: line });
  });

  it('--addr wins over STREAMHOUSE_ADDR', async () => {
    const r = await streamctl(['health', '--addr', 'http://127.0.0.1:1']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'streamctl: cannot reach StreamHouse at http://127.0.0.1:1 (connection refused)\n' });
  });
});
