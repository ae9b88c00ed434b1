import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local/local-object-store.js';
import { MemoryObjectStore } from './memory/memory-object-store.js';
import { localPathFromUrl, openObjectStore } from './open-object-store.js';
import { isStorageError } from './storage-errors.js';
import { S3ObjectStore } from './s3/s3-object-store.js';
import { startS3rver } from '../../test-kit/s3rver-process.js';

async function openError(url: string): Promise<unknown> {
  return openObjectStore(url).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('openObjectStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sh-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens an absolute file:// URL, creating the directory', async () => {
    const root = path.join(dir, 'objects');
    const store = await openObjectStore(`file://${root}`);
    expect(store).toBeInstanceOf(LocalObjectStore);
    expect((store as LocalObjectStore).root).toBe(root);
    expect((await stat(root)).isDirectory()).toBe(true);
    await store.put('k', Buffer.from('v'));
    expect((await store.get('k')).toString()).toBe('v');
    await store.close();
  });

  it('resolves file://relative/path against the working directory', () => {
    expect(localPathFromUrl('file://data/objects')).toBe(path.resolve('data/objects'));
    expect(localPathFromUrl('file://./data')).toBe(path.resolve('data'));
    expect(localPathFromUrl('file:///abs/p%20q')).toBe('/abs/p q');
    expect(localPathFromUrl('file://rel%20dir/x')).toBe(path.resolve('rel dir/x'));
  });

  it('opens a fresh in-memory store for memory://', async () => {
    const a = await openObjectStore('memory://');
    const b = await openObjectStore('memory://');
    expect(a).toBeInstanceOf(MemoryObjectStore);
    await a.put('k', Buffer.from('v'));
    const err = await b.get('k').catch((e: unknown) => e);
    expect(isStorageError(err, 'OBJECT_NOT_FOUND')).toBe(true);
  });

  it('opens s3://bucket/prefix with settings from the environment', async () => {
    const s3 = await startS3rver({ bucket: 'open-test' });
    try {
      const store = await openObjectStore('s3://open-test/some/prefix/', { ...s3.env, S3_MAX_ATTEMPTS: '2' });
      expect(store).toBeInstanceOf(S3ObjectStore);
      expect((store as S3ObjectStore).bucket).toBe('open-test');
      expect((store as S3ObjectStore).prefix).toBe('some/prefix/');
      await store.put('k', Buffer.from('v'));
      expect((await store.get('k')).toString()).toBe('v');
      await store.close();
      const reopened = await openObjectStore('s3://open-test/some/prefix', s3.env);
      expect((await reopened.get('k')).toString()).toBe('v');
      await reopened.close();
    } finally {
      await s3.stop();
    }
  });

  it('rejects invalid S3 settings before any request', async () => {
    const err = await openObjectStore('s3://bucket/p', { S3_MAX_ATTEMPTS: 'many' }).catch((e: unknown) => e);
    expect(isStorageError(err, 'UNSUPPORTED_STORE')).toBe(true);
    expect((err as Error).message).toBe('S3_MAX_ATTEMPTS=many is invalid: expected an integer >= 1');
  });

  it('rejects unknown or malformed URLs with a clear message', async () => {
    for (const url of [
      'gs://bucket',
      '/plain/path',
      'data/objects',
      'file:',
      'file://',
      'file:/x',
      'memory://x',
      'file:///a?b=1',
      's3://',
      's3:bucket',
      's3://Bucket/p',
      's3://bucket/p?region=x',
      's3://bucket/a//b',
    ]) {
      const err = await openError(url);
      expect(isStorageError(err, 'UNSUPPORTED_STORE'), url).toBe(true);
      expect((err as Error).message).toContain(url);
    }
  });
});
