// A test's view of a broker's object store, whichever backend it runs on: the objects
// directory for file://, the bucket (ListObjectsV2, GetObject, PutObject) for s3://. Keys
// are relative to the store's root (the objects directory or the S3 prefix), as the broker
// names them, without the store's own temp files and probes.

import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { s3rverDirectoryFor } from './test-backend.js';

export interface InspectedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectInspector {
  /** `file` or `s3`. */
  readonly kind: 'file' | 's3';
  /** Every object, sorted by key. */
  list(): Promise<InspectedObject[]>;
  keys(): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  read(key: string): Promise<Buffer>;
  write(key: string, body: Buffer | string): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Makes an object look older (its modification time). S3 cannot do that; for an s3rver
   * started by test-backend.ts the file behind the object is touched instead.
   */
  backdate(key: string, when: Date): Promise<void>;
  close(): void;
}

/** Where the broker's stores live, as BrokerProcess reports them. */
export interface StorageLocation {
  readonly storageUrl: string;
  readonly storageEnv: Readonly<Record<string, string>>;
}

/** Temp files and probes the stores keep beside the objects. */
function isInternal(key: string): boolean {
  return key.startsWith('.streamhouse-tmp') || key.startsWith('.streamhouse-probe');
}

/** Every file below `dir`; directories the broker removes during the walk are skipped. */
function walk(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

function fileInspector(root: string): ObjectInspector {
  const list = async (): Promise<InspectedObject[]> => {
    return walk(root)
      .map((path) => ({ path, key: path.slice(root.length + 1) }))
      .filter(({ key }) => !isInternal(key))
      .flatMap(({ path, key }) => {
        // the broker may delete an object between the listing and the stat
        const st = statSync(path, { throwIfNoEntry: false });
        return st ? [{ key, size: st.size, lastModified: st.mtime }] : [];
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };
  return {
    kind: 'file',
    list,
    keys: async () => (await list()).map((o) => o.key),
    exists: async (key) => existsSync(join(root, key)),
    read: async (key) => readFileSync(join(root, key)),
    async write(key, body) {
      mkdirSync(dirname(join(root, key)), { recursive: true });
      writeFileSync(join(root, key), body);
    },
    delete: async (key) => rmSync(join(root, key), { force: true }),
    backdate: async (key, when) => utimesSync(join(root, key), when, when),
    close() {},
  };
}

function s3Inspector(url: URL, env: Readonly<Record<string, string>>): ObjectInspector {
  const bucket = url.hostname;
  const prefix = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  const keyPrefix = prefix === '' ? '' : `${prefix}/`;
  // the SDK's Node 20 end-of-support banner would land in every test's output
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = env.S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    region: env.AWS_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } } : {}),
  });
  const list = async (): Promise<InspectedObject[]> => {
    const out: InspectedObject[] = [];
    let token: string | undefined;
    do {
      // no MaxKeys: s3rver fails on it and returns everything in one page without it
      const page: ListObjectsV2CommandOutput = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) {
        const key = o.Key!.slice(keyPrefix.length);
        if (!isInternal(key)) out.push({ key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };
  const read = async (key: string): Promise<Buffer> => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyPrefix + key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  };
  return {
    kind: 's3',
    list,
    keys: async () => (await list()).map((o) => o.key),
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyPrefix + key }));
        return true;
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw err;
      }
    },
    read,
    async write(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyPrefix + key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyPrefix + key }));
    },
    async backdate(key, when) {
      const directory = endpoint === undefined ? undefined : s3rverDirectoryFor(endpoint);
      if (directory === undefined) throw new Error(`cannot backdate ${key}: ${endpoint ?? 'AWS'} is not an s3rver started by test-backend.ts`);
      // s3rver reports the mtime of <dir>/<bucket>/<key>._S3rver_object as LastModified
      const parts = (keyPrefix + key).split('/');
      const file = join(directory, bucket, ...parts.slice(0, -1), `${parts[parts.length - 1]}._S3rver_object`);
      utimesSync(file, when, when);
    },
    close: () => client.destroy(),
  };
}

/** An inspector for the store at `storageUrl` (file:// or s3://). */
export function inspectObjects(location: StorageLocation): ObjectInspector {
  const url = new URL(location.storageUrl);
  if (url.protocol === 'file:') return fileInspector(fileURLToPath(url));
  if (url.protocol === 's3:') return s3Inspector(url, location.storageEnv);
  throw new Error(`no inspector for ${location.storageUrl}`);
}
