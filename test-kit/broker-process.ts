import { get as httpsGet } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const STREAMHOUSE_BIN = join(REPO, 'dist/cli/streamhouse.js');

/** Below Linux's ephemeral range (32768-60999): outgoing connections never take these ports. */
const PORT_RANGE = { from: 20_000, to: 32_000 };
/** Ports this process handed out already (a broker may not have bound them yet). */
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    // every interface, as the brokers bind their HTTP and gRPC ports
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port nobody listens on right now, for a broker to bind. Not an ephemeral one: CI saw a
 * broker fail with EADDRINUSE on a port the OS had handed out as free and then gave to an
 * outgoing connection before the broker bound it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.from}-${PORT_RANGE.to} after 200 tries`);
}

export interface BrokerProcessOptions {
  /** Reuse a data directory (for restart tests); a fresh temp dir otherwise. */
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Keep the same ports across restarts. */
  kafkaPort?: number;
  httpPort?: number;
  grpcPort?: number;
  /** Node flags for the broker process, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
  /** Write the broker's output to this file instead of keeping it in memory (long benchmark runs). */
  logFile?: string;
  /** --log-level (default info). */
  logLevel?: string;
  /** How long to wait for /ready (default 20 s). */
  readyTimeoutMs?: number;
  /**
   * Kafka's `--listeners` instead of `--kafka-listener 127.0.0.1:<kafkaPort>` (security
   * tests); `{port}` stands for kafkaPort, which should be a PLAINTEXT listener's.
   */
  listeners?: string;
}

export interface BrokerProcess {
  readonly bootstrap: string;
  readonly kafkaPort: number;
  readonly httpPort: number;
  /** The native gRPC API (streamctl, the typed client). */
  readonly grpcPort: number;
  readonly dataDir: string;
  /** Where the broker keeps its metadata: sqlite://<dataDir>/metadata.db by default. */
  readonly metadataUrl: string;
  /** Where it keeps its objects: file://<dataDir>/objects by default. */
  readonly storageUrl: string;
  /** Environment the broker got for its storage (S3 endpoint, credentials); empty for file://. */
  readonly storageEnv: Readonly<Record<string, string>>;
  readonly process: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops (if running) and starts again on the same ports and data directory. */
  restart(): Promise<BrokerProcess>;
  /** Stops and removes the data directory if this harness created it. */
  cleanup(): Promise<void>;
}

/** GET /ready's status; over HTTPS (the broker's --http-tls) without checking the certificate: tests check it themselves. */
function readyStatus(httpPort: number, tls: boolean): Promise<number> {
  if (!tls) return fetch(`http://127.0.0.1:${httpPort}/ready`).then((r) => r.status);
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port: httpPort, path: '/ready', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

async function waitReady(httpPort: number, child: ChildProcess, output: () => string, timeoutMs = 20000, tls = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode} during start:\n${output()}`);
    try {
      if ((await readyStatus(httpPort, tls)) === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`broker not ready after ${timeoutMs} ms:\n${output()}`);
}

/** The value of `--flag value` or `--flag=value` in args (the last one wins, as for the CLI). */
function flagValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((a, i) => {
    if (a === flag && i + 1 < args.length) value = args[i + 1];
    else if (a.startsWith(`${flag}=`)) value = a.slice(flag.length + 1);
  });
  return value;
}

interface ResolvedStorage {
  metadataUrl: string;
  storageUrl: string;
  /** Flags to add (empty when the caller chose the storage). */
  args: string[];
  env: Record<string, string>;
}

/**
 * The caller's --metadata/--storage (flags or environment) when given; otherwise the
 * backend of this test run (STREAMHOUSE_TEST_BACKEND, see compat-tests/backends/test-backend.ts).
 */
async function resolveStorage(dataDir: string, opts: BrokerProcessOptions): Promise<ResolvedStorage> {
  const args = opts.args ?? [];
  const env = { ...process.env, ...opts.env };
  const metadata = flagValue(args, '--metadata') ?? (env.STREAMHOUSE_METADATA_URL || env.DATABASE_URL || undefined);
  const storage = flagValue(args, '--storage') ?? (env.STREAMHOUSE_STORAGE_URL || undefined);
  const storageEnv = (): Record<string, string> => {
    const picked: Record<string, string> = {};
    for (const name of ['S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'S3_FORCE_PATH_STYLE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
      const v = env[name];
      if (v !== undefined) picked[name] = v;
    }
    return picked;
  };
  if (metadata !== undefined || storage !== undefined) {
    const storageUrl = storage ?? `file://${dataDir}/objects`;
    return { metadataUrl: metadata ?? `sqlite://${dataDir}/metadata.db`, storageUrl, args: [], env: storageUrl.startsWith('s3://') ? storageEnv() : {} };
  }
  // imported lazily: the backend module needs postgres-process.ts, which imports this file
  const backend = await import('../compat-tests/backends/test-backend.js');
  if (backend.testBackendName() === 'embedded') {
    return { metadataUrl: `sqlite://${dataDir}/metadata.db`, storageUrl: `file://${dataDir}/objects`, args: [], env: {} };
  }
  const allocated = await backend.storageForDataDir(dataDir);
  // The product default for postgres://: the broker runs as a (one-agent) cluster with
  // leases. STREAMHOUSE_CLUSTER=false (or passing --cluster) chooses otherwise.
  return {
    metadataUrl: allocated.metadataUrl,
    storageUrl: allocated.storageUrl,
    args: ['--metadata', allocated.metadataUrl, '--storage', allocated.storageUrl],
    env: { ...allocated.env },
  };
}

/**
 * Starts `streamhouse start` exactly as a user would, on free ports and a temp data dir.
 * With STREAMHOUSE_TEST_BACKEND=postgres-s3 and no --metadata/--storage from the caller, the
 * broker gets its own database and S3 prefix, the same ones on every start with this data dir.
 */
export async function startBrokerProcess(opts: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const ownsDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'streamhouse-test-'));
  const kafkaPort = opts.kafkaPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const grpcPort = opts.grpcPort ?? (await freePort());
  const storage = await resolveStorage(dataDir, opts);
  const args = [
    ...(opts.nodeArgs ?? []),
    STREAMHOUSE_BIN,
    'start',
    '--data-dir', dataDir,
    ...(opts.listeners !== undefined ? ['--listeners', opts.listeners.replace('{port}', String(kafkaPort))] : ['--kafka-listener', `127.0.0.1:${kafkaPort}`]),
    '--http-port', String(httpPort),
    '--grpc-port', String(grpcPort),
    '--log-level', opts.logLevel ?? 'info',
    ...storage.args,
    ...(opts.args ?? []),
  ];
  const env = { ...process.env, ...storage.env, ...opts.env };
  let out = '';
  let child: ChildProcess;
  if (opts.logFile !== undefined) {
    const fd = openSync(opts.logFile, 'a');
    child = spawn(process.execPath, args, { env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
  } else {
    child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  }
  const logFile = opts.logFile;
  const output = (): string => (logFile !== undefined ? readFileSync(logFile, 'utf8') : out);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitReady(httpPort, child, output, opts.readyTimeoutMs, flagValue(args, '--http-tls') === 'true');
  const self: BrokerProcess = {
    bootstrap: `127.0.0.1:${kafkaPort}`,
    kafkaPort,
    httpPort,
    grpcPort,
    dataDir,
    metadataUrl: storage.metadataUrl,
    storageUrl: storage.storageUrl,
    storageEnv: storage.env,
    process: child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async restart() {
      await self.stop();
      return startBrokerProcess({ ...opts, dataDir, kafkaPort, httpPort, grpcPort });
    },
    async cleanup() {
      await self.stop();
      if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
