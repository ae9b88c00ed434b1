import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import * as fs from 'node:fs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3FaultProxy, type S3FaultProxy } from '../../../test-kit/s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../../../test-kit/s3rver-process.js';
import { runObjectStoreContract } from '../contract/object-store-contract.js';
import type { ObjectInfo } from '../object-store.js';
import { isStorageError } from '../storage-errors.js';
import type { S3ObjectStoreOptions } from './s3-config.js';
import { S3RequestError } from './s3-errors.js';
import { S3ObjectStore } from './s3-object-store.js';

let server: S3rverHandle | undefined;
let proxy: S3FaultProxy | undefined;
let counter = 0;

async function s3rver(): Promise<S3rverHandle> {
  server ??= await startS3rver({ bucket: 'unit' });
  return server;
}

/** s3rver fronted by a proxy that enforces If-None-Match like AWS S3. */
async function conditionalEndpoint(): Promise<string> {
  const s = await s3rver();
  proxy ??= await startS3FaultProxy({ upstream: s.endpoint, enforceIfNoneMatch: true });
  return proxy.endpoint;
}

function options(endpoint: string, prefix: string, extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStoreOptions {
  return {
    bucket: 'unit',
    prefix,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestTimeoutMs: 10_000,
    ...extra,
  };
}

function rawClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

// s3rver ignores If-None-Match, so `auto` settles on the emulated mode here…
runObjectStoreContract('s3 (s3rver, emulated conditional writes)', async () => {
  const s = await s3rver();
  const store = await S3ObjectStore.open(options(s.endpoint, `contract-e${++counter}/`));
  return { store };
});

// …and on the native one behind a proxy that answers 412 like AWS S3.
runObjectStoreContract('s3 (s3rver behind an If-None-Match proxy, native conditional writes)', async () => {
  const endpoint = await conditionalEndpoint();
  const store = await S3ObjectStore.open(options(endpoint, `contract-n${++counter}/`));
  return { store };
});

describe('S3ObjectStore on s3rver', () => {
  let endpoint: string;
  beforeAll(async () => {
    endpoint = (await s3rver()).endpoint;
  });

  it('detects whether the store honours If-None-Match', async () => {
    const plain = await S3ObjectStore.open(options(endpoint, 'probe-a/'));
    expect(await plain.conditionalWriteMode()).toBe('emulated');
    // The probe object is gone again.
    expect(await collect(plain.list())).toEqual([]);
    await plain.close();
    const strict = await S3ObjectStore.open(options(await conditionalEndpoint(), 'probe-b/'));
    expect(await strict.conditionalWriteMode()).toBe('native');
    await strict.close();
  });

  it('keeps keys under the URL prefix and lists them back relative to it', async () => {
    const store = await S3ObjectStore.open(options(endpoint, 'tenant/one/'));
    const other = await S3ObjectStore.open(options(endpoint, 'tenant/one-more/'));
    await store.put('3f/agent/x.seg', Buffer.from('abc'));
    await other.put('zz', Buffer.from('other'));
    const raw = rawClient(endpoint);
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: 'unit', Prefix: 'tenant/' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['tenant/one-more/zz', 'tenant/one/3f/agent/x.seg']);
    const got = await raw.send(new GetObjectCommand({ Bucket: 'unit', Key: 'tenant/one/3f/agent/x.seg' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe('abc');
    expect(await collect(store.list())).toMatchObject([{ key: '3f/agent/x.seg', size: 3 }]);
    expect(await collect(store.list('3f/'))).toMatchObject([{ key: '3f/agent/x.seg', size: 3 }]);
    expect(await collect(store.list('4'))).toEqual([]);
    raw.destroy();
    await store.close();
    await other.close();
  });

  it('works without a prefix (against s3rver in a child process)', async () => {
    const s = await startS3rver({ bucket: 'bare', mode: 'child' });
    try {
      const store = await S3ObjectStore.open({ ...options(s.endpoint, ''), bucket: 'bare' });
      await store.put('k', Buffer.from('v'));
      expect((await store.get('k')).toString()).toBe('v');
      expect((await collect(store.list())).map((o) => o.key)).toEqual(['k']);
      await store.close();
    } finally {
      await s.stop();
    }
    expect(existsSync(s.directory)).toBe(false);
    const err = await fetch(s.endpoint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
  });

  it('answers suffix reads even though s3rver reads bytes=-N as bytes=0-N', async () => {
    const store = await S3ObjectStore.open(options(endpoint, 'suffix/'));
    const body = Buffer.from('0123456789');
    await store.put('k', body);
    const before = store.stats().requests.GetObject ?? 0;
    expect((await store.get('k', { suffixLength: 3 })).toString()).toBe('789');
    // The misread first answer (bytes 0-3) is followed by an explicit bytes=7-9.
    expect((store.stats().requests.GetObject ?? 0) - before).toBe(2);
    expect((await store.get('k', { suffixLength: 10 })).toString()).toBe('0123456789');
    expect((await store.get('k', { suffixLength: 11 })).toString()).toBe('0123456789');
    // bytes=0-0 makes s3rver send the whole object; the store slices it.
    expect((await store.get('k', { start: 0, end: 1 })).toString()).toBe('0');
    await store.close();
  });

  it('reads ranges of an empty object although s3rver answers them with a malformed 206', async () => {
    const store = await S3ObjectStore.open(options(endpoint, 'empty-range/'));
    await store.put('empty', Buffer.alloc(0));
    expect((await store.get('empty', { suffixLength: 8 })).length).toBe(0);
    expect((await store.get('empty', { start: 0, end: 0 })).length).toBe(0);
    const err = await store.get('empty', { start: 0, end: 1 }).catch((e: unknown) => e);
    expect(isStorageError(err, 'INVALID_RANGE')).toBe(true);
    expect(store.stats().retries).toBe(0);
    await store.close();
  });

  it('reports OBJECT_EXISTS for a second put of identical bytes: only a retry of its own may find them', async () => {
    const store = await S3ObjectStore.open(options(endpoint, 'exists/'));
    await store.put('k', Buffer.from('first'));
    const err = await store.put('k', Buffer.from('first')).catch((e: unknown) => e);
    // Same bytes but a fresh put (not a retry of our own): still OBJECT_EXISTS.
    expect(isStorageError(err, 'OBJECT_EXISTS')).toBe(true);
    await store.close();
  });

  it('fails at open with one clear line for a missing bucket', async () => {
    const err = await S3ObjectStore.open({ ...options(endpoint, ''), bucket: 'no-such-bucket' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RequestError);
    const e = err as S3RequestError;
    expect(e.operation).toBe('HeadBucket');
    expect(e.status).toBe(404);
    expect(e.attempts).toBe(1);
    expect(e.message).toBe('S3 HeadBucket s3://no-such-bucket/ failed after 1 attempt: HTTP 404 NotFound: UnknownError');
  });

  it('fails with a coded error for wrong credentials', async () => {
    const err = await S3ObjectStore.open({
      ...options(endpoint, ''),
      credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'S3RVER' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RequestError);
    expect((err as S3RequestError).status).toBe(403);
    expect((err as S3RequestError).attempts).toBe(1);
  });

  it('reads an object right after its PUT although s3rver answers before its file write ends', async () => {
    // Make s3rver's file writes land 150 ms late, as on a busy machine.
    const s3rverRequire = createRequire(createRequire(import.meta.url).resolve('s3rver'));
    const fsExtra = s3rverRequire('fs-extra') as { createWriteStream: typeof fs.createWriteStream };
    const original = fsExtra.createWriteStream;
    const late = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
      setTimeout(() => fn(...args), 150);
    };
    fsExtra.createWriteStream = ((path: fs.PathLike) =>
      original(path, { fs: { open: fs.open, close: fs.close, write: late(fs.write), writev: late(fs.writev) } })) as typeof fs.createWriteStream;
    try {
      const store = await S3ObjectStore.open(options(endpoint, 'write-race/', { conditionalWrites: 'native' }));
      const body = Buffer.alloc(10_000, 'w');
      await store.put('k', body);
      expect((await store.get('k')).equals(body)).toBe(true);
      await store.close();
    } finally {
      fsExtra.createWriteStream = original;
    }
  });

  it('measures PUT and GET latency to s3rver', async () => {
    const store = await S3ObjectStore.open(options(endpoint, 'timing/'));
    const body = Buffer.alloc(256 * 1024, 7);
    const putsBefore = store.stats().requests.PutObject ?? 0;
    const putMs: number[] = [];
    const getMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      let t = performance.now();
      await store.put(`obj-${i}`, body);
      putMs.push(performance.now() - t);
      t = performance.now();
      const got = await store.get(`obj-${i}`, { start: 1000, end: 2000 });
      getMs.push(performance.now() - t);
      expect(got.length).toBe(1000);
    }
    const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `s3rver, 256 KiB objects, emulated conditional put (HEAD + PUT): put p50 ${p50(putMs).toFixed(1)} ms, ` +
        `1000-byte ranged get p50 ${p50(getMs).toFixed(1)} ms`,
    );
    expect((store.stats().requests.PutObject ?? 0) - putsBefore).toBe(40);
    await store.close();
  });
});
