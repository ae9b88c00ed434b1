import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetadataStoreError } from './metadata-store.js';
import { openMetadataStore, parseMetadataStoreUrl } from './open-metadata-store.js';
import { PostgresUnavailableError } from './postgres/postgres-errors.js';

async function failure(promise: Promise<unknown>): Promise<MetadataStoreError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MetadataStoreError);
  return err as MetadataStoreError;
}

describe('parseMetadataStoreUrl', () => {
  it('parses the SQLite forms', () => {
    expect(parseMetadataStoreUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseMetadataStoreUrl('sqlite://:memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseMetadataStoreUrl('sqlite://data/metadata.db')).toEqual({ kind: 'sqlite', path: resolve('data/metadata.db') });
    expect(parseMetadataStoreUrl('sqlite:///var/lib/sh/metadata.db')).toEqual({ kind: 'sqlite', path: '/var/lib/sh/metadata.db' });
  });

  it('recognises PostgreSQL URLs', () => {
    expect(parseMetadataStoreUrl('postgres://u:p@db:5432/sh')).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/sh' });
    expect(parseMetadataStoreUrl('postgresql://db/sh')).toEqual({ kind: 'postgres', url: 'postgresql://db/sh' });
  });

  it('rejects other URLs without echoing credentials', () => {
    expect(() => parseMetadataStoreUrl('mysql://root:hunter2@db/sh')).toThrow(
      'Unsupported metadata store URL: scheme "mysql"; expected sqlite://<path>, sqlite::memory: or postgres://...',
    );
    expect(() => parseMetadataStoreUrl('metadata.db')).toThrow('Unsupported metadata store URL: no scheme;');
    expect(() => parseMetadataStoreUrl('sqlite://')).toThrow('"sqlite://" has no file path');
  });
});

describe('openMetadataStore', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'streamhouse-open-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a SQLite file by absolute URL and finds its data again', async () => {
    const url = `sqlite://${join(dir, 'metadata.db')}`;
    const store = await openMetadataStore(url);
    await store.topics.create({ name: 'orders', partitionCount: 1, configs: {} });
    const id = await store.cluster.getClusterId();
    await store.close();
    const again = await openMetadataStore(url);
    expect((await again.topics.get('orders'))?.partitionCount).toBe(1);
    expect(await again.cluster.getClusterId()).toBe(id);
    await again.close();
  });

  it('opens an in-memory SQLite store', async () => {
    const store = await openMetadataStore('sqlite::memory:');
    expect(await store.topics.list()).toEqual([]);
    await store.close();
  });

  it('opens PostgreSQL URLs, reporting an unreachable server in one line without the password', async () => {
    const err = await openMetadataStore('postgres://sh:hunter2@127.0.0.1:1/sh?pool_size=2').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PostgresUnavailableError);
    expect((err as Error).message).toBe(
      'Cannot open PostgreSQL metadata store postgres://sh:***@127.0.0.1:1/sh: connect ECONNREFUSED 127.0.0.1:1',
    );
  });

  it('rejects a bad pool_size before connecting', async () => {
    const err = await failure(openMetadataStore('postgres://127.0.0.1:1/sh?pool_size=many'));
    expect(err.code).toBe('UNSUPPORTED_URL');
    expect(err.message).toBe('pool_size must be an integer from 1 to 1000, got "many"');
  });

  it('rejects unknown schemes with a coded error', async () => {
    const err = await failure(openMetadataStore('redis://localhost'));
    expect(err.code).toBe('UNSUPPORTED_URL');
    expect(err.message).toContain('scheme "redis"');
  });
});
