// Which storage the compat suite's brokers use. STREAMHOUSE_TEST_BACKEND=postgres-s3 puts
// every broker that startBrokerProcess() launches (unless the caller chose --metadata or
// --storage itself) on a PostgreSQL cluster and an s3rver shared by the test file: started
// lazily on first use, stopped after the file (setup.ts) or at exit. Each broker gets its
// own database and key prefix, keyed by its data directory, so restarting a broker on the
// same data directory finds its metadata and objects again while tests stay isolated.
// Those brokers run in cluster mode (leases), the product default with postgres://, unless
// STREAMHOUSE_CLUSTER=false; the embedded backend is the single-agent path without leases.

import { randomUUID } from 'node:crypto';
import { startPostgres, type PostgresProcess } from '../../test-kit/postgres-process.js';
import { startS3rver, type S3rverHandle } from '../../test-kit/s3rver-process.js';

export type TestBackendName = 'embedded' | 'postgres-s3';

export const TEST_BACKEND_ENV = 'STREAMHOUSE_TEST_BACKEND';

/** The backend selected for this run; `embedded` (SQLite + local directory) by default. */
export function testBackendName(): TestBackendName {
  const value = process.env[TEST_BACKEND_ENV];
  if (value === undefined || value === '' || value === 'embedded') return 'embedded';
  if (value === 'postgres-s3') return 'postgres-s3';
  throw new Error(`${TEST_BACKEND_ENV} must be "embedded" or "postgres-s3", got "${value}"`);
}

/** Where one broker keeps its metadata and objects. */
export interface BrokerStorage {
  readonly metadataUrl: string;
  readonly storageUrl: string;
  /** Environment the broker needs for storageUrl (S3 endpoint and credentials); empty for file://. */
  readonly env: Readonly<Record<string, string>>;
}

export interface AllocatedStorage extends BrokerStorage {
  readonly database: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, without a trailing slash. */
  readonly prefix: string;
}

export interface PostgresS3 {
  readonly postgres: PostgresProcess;
  readonly s3: S3rverHandle;
  /** A fresh, empty database and key prefix. */
  allocate(label?: string): Promise<AllocatedStorage>;
  /** Stops s3rver and PostgreSQL and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

/** The s3rvers started here, by endpoint, so helpers can reach their files (see object-inspector.ts). */
const s3rverDirectories = new Map<string, string>();

/** s3rver's directory for an endpoint this module started, if any. */
export function s3rverDirectoryFor(endpoint: string): string | undefined {
  return s3rverDirectories.get(endpoint.replace(/\/+$/, ''));
}

/**
 * Starts a PostgreSQL cluster and an s3rver (in a child process, so serving S3 does not
 * load the test's event loop). Callers own the result; most want sharedPostgresS3().
 */
export async function startPostgresS3(): Promise<PostgresS3> {
  const [postgres, s3] = await Promise.all([startPostgres({ database: 'unused' }), startS3rver({ mode: 'child' })]);
  s3rverDirectories.set(s3.endpoint, s3.directory);
  // s3rver runs in a child process: do not leave it behind if this process exits early
  // (PostgreSQL has its own exit hook). stop() signals the child synchronously.
  const onExit = (): void => void s3.stop();
  process.once('exit', onExit);
  let counter = 0;
  let stopped: Promise<void> | undefined;
  return {
    postgres,
    s3,
    async allocate(label = 'broker') {
      const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 20).toLowerCase() || 'broker'}_${++counter}_${randomUUID().slice(0, 8)}`;
      const metadataUrl = await postgres.createDatabase(id);
      const prefix = `t/${id}`;
      return { metadataUrl, storageUrl: `s3://${s3.bucket}/${prefix}`, env: { ...s3.env }, database: id, bucket: s3.bucket, prefix };
    },
    stop() {
      stopped ??= (async () => {
        s3rverDirectories.delete(s3.endpoint);
        process.removeListener('exit', onExit);
        await Promise.allSettled([s3.stop(), postgres.stop()]);
      })();
      return stopped;
    },
  };
}

let shared: Promise<PostgresS3> | undefined;
const byDataDir = new Map<string, Promise<AllocatedStorage>>();

/** The PostgreSQL cluster and s3rver of this test file, started on first use. */
export function sharedPostgresS3(): Promise<PostgresS3> {
  if (!shared) {
    shared = startPostgresS3();
    // if start failed, let the next caller try again instead of inheriting the failure
    shared.catch(() => (shared = undefined));
  }
  return shared;
}

/** Stops the shared cluster and s3rver if they were started. */
export async function stopSharedPostgresS3(): Promise<void> {
  const current = shared;
  shared = undefined;
  byDataDir.clear();
  if (!current) return;
  const backend = await current.catch(() => undefined);
  await backend?.stop();
}

/**
 * The database and prefix of the broker that uses `dataDir`: the same ones for every start
 * on that directory (restarts), fresh ones for a new directory.
 */
export function storageForDataDir(dataDir: string): Promise<AllocatedStorage> {
  let storage = byDataDir.get(dataDir);
  if (!storage) {
    storage = sharedPostgresS3().then((b) => b.allocate('broker'));
    storage.catch(() => byDataDir.delete(dataDir));
    byDataDir.set(dataDir, storage);
  }
  return storage;
}
