import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STREAMHOUSE_BIN, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

export interface LaunchOptions {
  /** Extra `streamhouse start` flags, e.g. ['--flush-interval-ms', '5']. */
  readonly args?: readonly string[];
  /** Node flags for the broker process, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  readonly nodeArgs?: readonly string[];
  readonly dataDir?: string;
  /** Kafka's `listeners` (one may use `{port}` for the launcher's free port), instead of one PLAINTEXT listener. */
  readonly listeners?: string;
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
 * The test kit's broker launcher as the benchmarks use it: log level warn, the output going to
 * a log file in the data directory (a long run must not pile it up in our memory), and a
 * restart that keeps this handle.
 */
export async function launchBroker(opts: LaunchOptions = {}): Promise<LaunchedBroker> {
  if (!existsSync(STREAMHOUSE_BIN)) throw new Error(`${STREAMHOUSE_BIN} is missing: run npm run build first`);
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'streamhouse-bench-'));
  const logFile = join(dataDir, 'broker.log');
  const launch = (ports?: { kafkaPort: number; httpPort: number; grpcPort: number }): Promise<BrokerProcess> =>
    startBrokerProcess({ dataDir, logFile, logLevel: 'warn', readyTimeoutMs: 30_000, args: [...(opts.args ?? [])], nodeArgs: [...(opts.nodeArgs ?? [])], ...(opts.listeners !== undefined ? { listeners: opts.listeners } : {}), ...ports });
  let broker = await launch();
  return {
    bootstrap: broker.bootstrap,
    host: '127.0.0.1',
    kafkaPort: broker.kafkaPort,
    httpPort: broker.httpPort,
    dataDir,
    logFile,
    pid: () => broker.process.pid!,
    async stop() {
      await broker.stop();
    },
    async restart() {
      await broker.stop();
      broker = await launch({ kafkaPort: broker.kafkaPort, httpPort: broker.httpPort, grpcPort: broker.grpcPort });
    },
    async cleanup() {
      await broker.stop();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
