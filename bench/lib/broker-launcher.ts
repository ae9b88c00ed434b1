import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, STREAMHOUSE_BIN } from '../../test-kit/broker-process.js';

export interface LaunchOptions {
  /** Extra `streamhouse start` flags, e.g. ['--flush-interval-ms', '5']. */
  readonly args?: readonly string[];
  /** Node flags for the broker process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  readonly nodeArgs?: readonly string[];
  readonly dataDir?: string;
}

export interface LaunchedBroker {
  readonly bootstrap: string;
  readonly host: string;
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  pid(): number;
  /** SIGTERM (the broker drains its flush buffer) and wait for the exit. */
  stop(): Promise<void>;
  /** Stops and starts again on the same ports and data directory. */
  restart(): Promise<void>;
  /** Stops and deletes the data directory if this launcher created it. */
  cleanup(): Promise<void>;
}

/**
 * Starts `node dist/cli/streamhouse.js start` in a temp directory, its output going to a log
 * file there (a long run must not pile the broker's output up in our memory).
 */
export async function launchBroker(opts: LaunchOptions = {}): Promise<LaunchedBroker> {
  if (!existsSync(STREAMHOUSE_BIN)) throw new Error(`${STREAMHOUSE_BIN} is missing: run npm run build first`);
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'streamhouse-bench-'));
  const logFile = join(dataDir, 'broker.log');
  const kafkaPort = await freePort();
  const httpPort = await freePort();
  const grpcPort = await freePort();
  let child: ChildProcess;
  let exited: Promise<void>;

  const start = async () => {
    const fd = openSync(logFile, 'a');
    const argv = [
      ...(opts.nodeArgs ?? []),
      STREAMHOUSE_BIN,
      'start',
      '--data-dir', dataDir,
      '--kafka-listener', `127.0.0.1:${kafkaPort}`,
      '--http-port', String(httpPort),
      '--grpc-port', String(grpcPort),
      '--log-level', 'warn',
      ...(opts.args ?? []),
    ];
    child = spawn(process.execPath, argv, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitReady(httpPort, child, logFile);
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    bootstrap: `127.0.0.1:${kafkaPort}`,
    host: '127.0.0.1',
    kafkaPort,
    httpPort,
    dataDir,
    logFile,
    pid: () => child.pid!,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async cleanup() {
      await stop();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitReady(httpPort: number, child: ChildProcess, logFile: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode} during start:\n${readFileSync(logFile, 'utf8')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`broker not ready after ${timeoutMs} ms:\n${readFileSync(logFile, 'utf8')}`);
}
