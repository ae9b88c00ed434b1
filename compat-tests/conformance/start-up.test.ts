/**
 * `streamhouse start` refuses what it cannot use with one line on stderr and exit code 2:
 * a data directory that is a file, below a file, on a file system that refuses new
 * directories or files (/proc, /sys: these refuse root too, and the tests run as root, so a
 * chmod 0555 parent would not fail), one whose creation fails partway, an unknown flag and a
 * malformed listener. Nothing it created on the way is left behind, and nothing spins: every
 * run has a deadline.
 *
 * `--http-listener` / `--grpc-listener host:port` bind the HTTP and gRPC APIs to that host
 * only; `--http-port` / `--grpc-port` keep binding every interface.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, STREAMHOUSE_BIN, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand, type CommandResult } from '../../test-kit/run-command.js';

/** A failing start must end well before this; a spin (or a start that succeeds) fails the test. */
const DEADLINE_MS = 15_000;

/**
 * Runs `streamhouse start` on SQLite + a local directory (whatever this run's backend) with a
 * loopback Kafka listener and, unless `portFlags` is false, `--http-port 0 --grpc-port 0`.
 */
function start(args: string[], env: Record<string, string> = {}, portFlags = true): Promise<CommandResult> {
  const ports = portFlags ? ['--http-port', '0', '--grpc-port', '0'] : [];
  return runCommand(
    process.execPath,
    [STREAMHOUSE_BIN, 'start', '--kafka-listener', '127.0.0.1:0', ...ports, '--log-level', 'warn', ...args],
    {
      timeoutMs: DEADLINE_MS,
      // the defaults sqlite://<data-dir>/metadata.db and file://<data-dir>/objects, not a backend's
      env: {
        STREAMHOUSE_METADATA_URL: '',
        STREAMHOUSE_STORAGE_URL: '',
        DATABASE_URL: '',
        STREAMHOUSE_DATA_DIR: '',
        STREAMHOUSE_HTTP_LISTENER: '',
        STREAMHOUSE_HTTP_PORT: '',
        STREAMHOUSE_GRPC_LISTENER: '',
        STREAMHOUSE_GRPC_PORT: '',
        ...env,
      },
    },
  );
}

/** Exit code 2, exactly one line on stderr that contains `mentions`, no stack frames. */
function expectOneLineFailure(result: CommandResult, mentions: string): void {
  const summary = `exit ${result.code}\nstderr: ${result.stderr}\nstdout: ${result.stdout}`;
  expect(result.code, summary).toBe(2);
  expect(result.stderr.endsWith('\n'), summary).toBe(true);
  expect(result.stderr.slice(0, -1).split('\n'), summary).toHaveLength(1);
  expect(result.stderr, summary).toContain(mentions);
  expect(result.stderr, summary).not.toMatch(/^\s*at /m);
  expect(result.stderr, summary).not.toMatch(/\bat .*:\d+:\d+\)?$/m);
  expect(result.stdout, summary).toBe('');
}

/** Whether a TCP connection to host:port is accepted (true) or refused (false). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(5000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`connecting to ${host}:${port} timed out`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      if (err.code === 'ECONNREFUSED') resolve(false);
      else reject(err);
    });
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('streamhouse start: a data directory it cannot use', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'streamhouse-start-up-'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('a regular file: exit 2, one line naming it, the file untouched', async () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'not a directory');
    const result = await start(['--data-dir', file]);
    expectOneLineFailure(result, file);
    expect(readdirSync(root)).toEqual(['plain-file']);
    rmSync(file);
  });

  it('below a regular file: exit 2, one line naming it, nothing created', async () => {
    const file = join(root, 'parent-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data', 'dir');
    const result = await start(['--data-dir', dataDir]);
    expectOneLineFailure(result, dataDir);
    expect(readdirSync(root)).toEqual(['parent-file']);
    rmSync(file);
  });

  it('under /proc (new directories are refused with ENOENT): exit 2, one line, no spin', async () => {
    const result = await start(['--data-dir', '/proc/streamhouse-test']);
    expectOneLineFailure(result, '/proc/streamhouse-test');
    expect(existsSync('/proc/streamhouse-test')).toBe(false);
  });

  it('several levels under /proc: exit 2, one line, no spin', async () => {
    const result = await start(['--data-dir', '/proc/streamhouse-test/a/b']);
    expectOneLineFailure(result, '/proc/streamhouse-test/a/b');
    expect(existsSync('/proc/streamhouse-test')).toBe(false);
  });

  it('under /sys (new directories are refused even to root): exit 2, one line', async () => {
    const result = await start(['--data-dir', '/sys/streamhouse-test']);
    expectOneLineFailure(result, '/sys/streamhouse-test');
    expect(existsSync('/sys/streamhouse-test')).toBe(false);
  });

  it('an existing directory where no file can be created (/proc): exit 2, one line naming it', async () => {
    const result = await start(['--data-dir', '/proc']);
    expectOneLineFailure(result, '/proc');
  });

  it('creation fails partway (a name too long three levels down): exit 2, one line, the levels it made are removed', async () => {
    const dataDir = join(root, 'x', 'a', 'n'.repeat(300), 'b');
    const result = await start(['--data-dir', dataDir]);
    expectOneLineFailure(result, dataDir);
    expect(existsSync(join(root, 'x')), 'half-created directories left behind').toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('the data directory from STREAMHOUSE_DATA_DIR fails the same way', async () => {
    const result = await start([], { STREAMHOUSE_DATA_DIR: '/proc/streamhouse-test' });
    expectOneLineFailure(result, '/proc/streamhouse-test');
  });
});

describe('streamhouse start: usage errors', () => {
  it('an unknown flag: exit 2, one line naming it', async () => {
    expectOneLineFailure(await start(['--no-such-flag']), '--no-such-flag');
  });

  it('a flag without its value: exit 2, one line naming it', async () => {
    expectOneLineFailure(await start(['--data-dir']), '--data-dir');
  });

  it('a malformed --http-listener: exit 2, one line naming it', async () => {
    expectOneLineFailure(await start(['--http-listener', 'localhost']), '--http-listener');
  });

  it('a --grpc-listener port out of range: exit 2, one line naming it', async () => {
    expectOneLineFailure(await start(['--grpc-listener', '127.0.0.1:70000']), '--grpc-listener');
  });

  it('a malformed STREAMHOUSE_HTTP_LISTENER: exit 2, one line naming it', async () => {
    // no --http-port flag here: a flag would win over the environment variable
    expectOneLineFailure(await start([], { STREAMHOUSE_HTTP_LISTENER: '127.0.0.1:http' }, false), '--http-listener');
  });

  it('--http-listener and --http-port naming different ports: exit 2, one line', async () => {
    expectOneLineFailure(await start(['--http-listener', '127.0.0.1:18080', '--http-port', '18081'], {}, false), '--http-port');
  });

  it('STREAMHOUSE_HTTP_LISTENER and STREAMHOUSE_HTTP_PORT naming different ports: exit 2, one line', async () => {
    expectOneLineFailure(await start([], { STREAMHOUSE_HTTP_LISTENER: '127.0.0.1:18080', STREAMHOUSE_HTTP_PORT: '18081' }, false), '--http-port');
  });
});

describe('streamhouse start: --http-listener and --grpc-listener', () => {
  const outside = nonLoopbackAddress();
  let broker: BrokerProcess;

  beforeAll(async () => {
    const httpPort = await freePort();
    const grpcPort = await freePort();
    // startBrokerProcess also passes --http-port/--grpc-port with the same ports: they agree
    broker = await startBrokerProcess({
      httpPort,
      grpcPort,
      args: ['--http-listener', `127.0.0.1:${httpPort}`, '--grpc-listener', `127.0.0.1:${grpcPort}`],
    });
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('reports the loopback addresses it bound', () => {
    const started = broker
      .output()
      .split('\n')
      .filter((line) => line.includes('StreamHouse agent started'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ http: `127.0.0.1:${broker.httpPort}`, grpc: `127.0.0.1:${broker.grpcPort}` });
  });

  it('accepts connections on 127.0.0.1', async () => {
    expect(await accepts('127.0.0.1', broker.httpPort)).toBe(true);
    expect(await accepts('127.0.0.1', broker.grpcPort)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${broker.httpPort}/health`)).status).toBe(200);
  });

  // These need a non-loopback address of this machine (CI machines have one); without it they fail, never skip.
  it(`refuses connections on a non-loopback address of this machine (${outside ?? 'none'})`, async () => {
    expect(outside, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    expect(await accepts(outside!, broker.httpPort)).toBe(false);
    expect(await accepts(outside!, broker.grpcPort)).toBe(false);
  });

  it('without them, --http-port and --grpc-port still bind every interface', async () => {
    expect(outside, 'this test needs a non-loopback IPv4 address on the machine').toBeDefined();
    const other = await startBrokerProcess();
    try {
      expect(await accepts(outside!, other.httpPort)).toBe(true);
      expect(await accepts(outside!, other.grpcPort)).toBe(true);
      const started = other.output().split('\n').find((line) => line.includes('StreamHouse agent started'));
      expect(JSON.parse(started ?? '{}')).toMatchObject({ http: `0.0.0.0:${other.httpPort}`, grpc: `0.0.0.0:${other.grpcPort}` });
    } finally {
      await other.cleanup();
    }
  });
});
