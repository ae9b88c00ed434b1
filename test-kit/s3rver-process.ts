// s3rver (a local S3 emulator, devDependency) on a free port with one bucket, for unit
// tests (in this process) and compat tests and benchmarks (a child process, so the
// emulator's CPU is not billed to the test's event loop).

import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');

/** s3rver checks SigV4 signatures against this fixed account. */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET_ACCESS_KEY = 'S3RVER';
/** s3rver's continuation tokens only accept this region. */
export const S3RVER_REGION = 'us-east-1';

export interface S3rverOptions {
  /** Created at start; default `streamhouse`. */
  bucket?: string;
  /** Reuse a directory (restart tests); a fresh temp dir, removed on stop, otherwise. */
  directory?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** `in-process` (default) or `child`. */
  mode?: 'in-process' | 'child';
}

export interface S3rverHandle {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  readonly directory: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Environment for a broker using `s3://<bucket>/...` on this server. */
  readonly env: Record<string, string>;
  /** Stops the server; removes the directory if this helper created it. Idempotent. */
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}

type S3rverConstructor = new (options: {
  port: number;
  address: string;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

interface StoredObjectRef {
  bucket: string;
  key: string;
}

interface FilesystemStoreClass {
  prototype: {
    putObject(this: FilesystemStoreInstance, object: StoredObjectRef): Promise<{ size: number; md5: string }>;
  };
}

interface FilesystemStoreInstance {
  getResourcePath(bucket: string, key: string, resource: string): string;
}

const PATCHED = Symbol.for('streamhouse.s3rver.put-race-fixed');

/**
 * s3rver 3.7 answers a PUT as soon as its hashing stream has seen the whole body, before
 * the file write has finished, so a GET right after the 200 can read a short or empty file
 * (or get 416 for a range). Make putObject wait until the file has its full size.
 * The child-process script below does the same.
 */
function fixPutRace(FilesystemStore: FilesystemStoreClass): void {
  const proto = FilesystemStore.prototype as FilesystemStoreClass['prototype'] & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  const original = proto.putObject;
  proto.putObject = async function putObject(object) {
    const result = await original.call(this, object);
    const file = this.getResourcePath(object.bucket, object.key, 'object');
    const deadline = Date.now() + 30_000;
    while ((await stat(file)).size < result.size && Date.now() < deadline) await sleep(1);
    return result;
  };
  proto[PATCHED] = true;
}

function loadS3rver(): S3rverConstructor {
  const require = createRequire(import.meta.url);
  const main = require.resolve('s3rver');
  fixPutRace(createRequire(main)('./stores/filesystem') as FilesystemStoreClass);
  return require(main) as S3rverConstructor;
}

function handle(
  port: number,
  bucket: string,
  directory: string,
  stopServer: () => Promise<void>,
  ownsDir: boolean,
): S3rverHandle {
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    bucket,
    directory,
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey: S3RVER_SECRET_ACCESS_KEY,
    region: S3RVER_REGION,
    env: {
      S3_ENDPOINT: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3RVER_SECRET_ACCESS_KEY,
      AWS_REGION: S3RVER_REGION,
    },
    stop() {
      stopped ??= stopServer().finally(() => {
        if (ownsDir) rmSync(directory, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

async function startInProcess(port: number, bucket: string, directory: string, ownsDir: boolean): Promise<S3rverHandle> {
  const S3rver = loadS3rver();
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] });
  const address = await server.run();
  return handle(
    address.port,
    bucket,
    directory,
    async () => {
      // Keep-alive sockets would hold close() open until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
    },
    ownsDir,
  );
}

// The child fixes the PUT race (see fixPutRace), prints its port as one JSON line once
// listening, and exits on SIGTERM.
const CHILD_SCRIPT = `
const { createRequire } = require('node:module');
const { stat } = require('node:fs/promises');
const S3rver = require(process.argv[1]);
const proto = createRequire(process.argv[1])('./stores/filesystem').prototype;
const original = proto.putObject;
proto.putObject = async function (object) {
  const result = await original.call(this, object);
  const file = this.getResourcePath(object.bucket, object.key, 'object');
  const deadline = Date.now() + 30000;
  while ((await stat(file)).size < result.size && Date.now() < deadline) await sleep(1);
  return result;
};
const [port, directory, bucket] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', directory, silent: true, configureBuckets: [{ name: bucket }] });
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'));
process.on('SIGTERM', () => { server.httpServer.closeAllConnections(); server.close().then(() => process.exit(0)); });
`;

async function startChild(port: number, bucket: string, directory: string, ownsDir: boolean): Promise<S3rverHandle> {
  const modulePath = createRequire(join(REPO, 'package.json')).resolve('s3rver');
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD_SCRIPT, modulePath, String(port), directory, bucket], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const actualPort = await new Promise<number>((resolvePort, reject) => {
    let line = '';
    const onData = (d: Buffer): void => {
      line += d.toString();
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      resolvePort((JSON.parse(line.slice(0, nl)) as { port: number }).port);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} during start:\n${output}`)));
    setTimeout(() => reject(new Error(`s3rver did not start within 15 s:\n${output}`)), 15000).unref();
  });
  return handle(
    actualPort,
    bucket,
    directory,
    () =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
      }),
    ownsDir,
  );
}

/** Starts s3rver with `bucket` created; see S3rverHandle. */
export async function startS3rver(options: S3rverOptions = {}): Promise<S3rverHandle> {
  const bucket = options.bucket ?? 'streamhouse';
  const ownsDir = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'streamhouse-s3rver-'));
  const port = options.port ?? 0;
  try {
    return options.mode === 'child'
      ? await startChild(port, bucket, directory, ownsDir)
      : await startInProcess(port, bucket, directory, ownsDir);
  } catch (err) {
    if (ownsDir) rmSync(directory, { recursive: true, force: true });
    throw err;
  }
}
