import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-kit/broker-process.js';
import { startS3FaultProxy, type S3FaultProxy } from '../../../test-kit/s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from '../../../test-kit/s3rver-process.js';
import { isStorageError } from '../storage-errors.js';
import type { S3ObjectStoreOptions } from './s3-config.js';
import { S3RequestError } from './s3-errors.js';
import { S3ObjectStore, type S3ObjectStoreHooks } from './s3-object-store.js';

let server: S3rverHandle;
/** Enforces If-None-Match like AWS S3: the store runs in native mode behind it. */
let strict: S3FaultProxy;
/** Passes If-None-Match through to s3rver, which ignores it: emulated mode. */
let lax: S3FaultProxy;
let counter = 0;
const stores: S3ObjectStore[] = [];

beforeAll(async () => {
  server = await startS3rver({ bucket: 'faults' });
  strict = await startS3FaultProxy({ upstream: server.endpoint, enforceIfNoneMatch: true });
  lax = await startS3FaultProxy({ upstream: server.endpoint });
});

afterAll(async () => {
  for (const store of stores) await store.close();
  await strict.close();
  await lax.close();
  await server.stop();
});

const FAST: Partial<S3ObjectStoreOptions> = {
  maxAttempts: 4,
  requestTimeoutMs: 1000,
  connectTimeoutMs: 500,
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 40,
};

function storeOn(
  endpoint: string,
  conditionalWrites: 'native' | 'emulated',
  extra: Partial<S3ObjectStoreOptions> = {},
  hooks: S3ObjectStoreHooks = {},
): { store: S3ObjectStore; prefix: string } {
  const prefix = `f${++counter}/`;
  const store = new S3ObjectStore({
    bucket: 'faults',
    prefix,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    conditionalWrites,
    ...FAST,
    ...extra,
  }, hooks);
  stores.push(store);
  return { store, prefix };
}

/** What the proxy saw for one object: `METHOD status|fault`. */
function trace(proxy: S3FaultProxy, prefix: string, key: string): string[] {
  return proxy.requests
    .filter((r) => r.path === `/faults/${prefix}${key}`)
    .map((r) => `${r.method} ${r.fault === undefined || r.fault === 'error' ? r.status : r.fault}`);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

async function putDirect(key: string, body: Buffer): Promise<void> {
  const raw = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await raw.send(new PutObjectCommand({ Bucket: 'faults', Key: key, Body: body }));
  raw.destroy();
}

describe('S3ObjectStore under injected faults', () => {
  it('puts through transient 500s and a 503 SlowDown', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    const rules = [
      strict.addRule({ method: 'PUT', path: prefix, times: 2, action: { kind: 'error', status: 500, code: 'InternalError' } }),
      strict.addRule({ method: 'PUT', path: prefix, times: 1, action: { kind: 'error', status: 503, code: 'SlowDown' } }),
    ];
    await store.put('k', Buffer.from('payload'));
    rules.forEach((r) => r.remove());
    expect(trace(strict, prefix, 'k')).toEqual(['PUT 500', 'PUT 500', 'PUT 503', 'PUT 200']);
    expect((await store.get('k')).toString()).toBe('payload');
    expect(store.stats()).toMatchObject({ retries: 3, recoveredPuts: 0 });
  });

  it('recognises a put whose response was lost as stored (native: the retry gets 412)', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    const rule = strict.addRule({ method: 'PUT', path: prefix, times: 1, action: { kind: 'lose-response' } });
    const body = Buffer.from('stored, but the answer never came');
    await store.put('k', body);
    rule.remove();
    expect(trace(strict, prefix, 'k')).toEqual(['PUT lose-response', 'PUT 412', 'HEAD 200']);
    expect((await store.get('k')).equals(body)).toBe(true);
    expect(store.stats().recoveredPuts).toBe(1);
  });

  it('recognises a put whose response was lost as stored (emulated: the HEAD finds it)', async () => {
    const { store, prefix } = storeOn(lax.endpoint, 'emulated');
    const rule = lax.addRule({ method: 'PUT', path: prefix, times: 1, action: { kind: 'lose-response' } });
    const body = Buffer.from('stored, but the answer never came');
    await store.put('k', body);
    rule.remove();
    expect(trace(lax, prefix, 'k')).toEqual(['HEAD 404', 'PUT lose-response', 'HEAD 200']);
    expect((await store.get('k')).equals(body)).toBe(true);
    expect(store.stats().recoveredPuts).toBe(1);
  });

  it('reports OBJECT_EXISTS when a retry finds other bytes under the key', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    await putDirect(`${prefix}shorter`, Buffer.from('theirs'));
    await putDirect(`${prefix}same-size`, Buffer.from('THEIRS, 17 bytes!'));
    const rules = ['shorter', 'same-size'].map((key) =>
      strict.addRule({ method: 'PUT', path: `${prefix}${key}`, times: 1, action: { kind: 'drop' } }),
    );
    const a = await failure(store.put('shorter', Buffer.from('mine, and longer')));
    const b = await failure(store.put('same-size', Buffer.from('mine, 17 bytes!!!')));
    rules.forEach((r) => r.remove());
    expect(isStorageError(a, 'OBJECT_EXISTS')).toBe(true);
    expect(isStorageError(b, 'OBJECT_EXISTS')).toBe(true);
    // Different size: the HEAD settles it. Same size, other MD5: the bytes are compared.
    expect(trace(strict, prefix, 'shorter')).toEqual(['PUT drop', 'PUT 412', 'HEAD 200']);
    expect(trace(strict, prefix, 'same-size')).toEqual(['PUT drop', 'PUT 412', 'HEAD 200', 'GET 200']);
    expect((await store.get('same-size')).toString()).toBe('THEIRS, 17 bytes!');
    expect(store.stats().recoveredPuts).toBe(0);
  });

  it('reports OBJECT_EXISTS at once when the first attempt is refused', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    await putDirect(`${prefix}k`, Buffer.from('same'));
    const err = await failure(store.put('k', Buffer.from('same')));
    expect(isStorageError(err, 'OBJECT_EXISTS')).toBe(true);
    expect(trace(strict, prefix, 'k')).toEqual(['PUT 412']);
  });

  it('retries gets through 503, a truncated body and a dropped connection', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    const body = Buffer.alloc(100_000, 'x');
    body.write('head', 0);
    body.write('tail', 99_996);
    await store.put('k', body);
    const rules = [
      strict.addRule({ method: 'GET', path: prefix, times: 1, action: { kind: 'error', status: 503, code: 'SlowDown' } }),
      strict.addRule({ method: 'GET', path: prefix, times: 1, action: { kind: 'truncate', bytes: 5 } }),
      strict.addRule({ method: 'GET', path: prefix, times: 1, action: { kind: 'drop' } }),
    ];
    const got = await store.get('k');
    rules.forEach((r) => r.remove());
    expect(got.equals(body)).toBe(true);
    expect(trace(strict, prefix, 'k')).toEqual(['PUT 200', 'GET 503', 'GET truncate', 'GET drop', 'GET 200']);
  });

  it('gives up on a slow attempt at its deadline and retries', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native', { requestTimeoutMs: 400 });
    await store.put('k', Buffer.from('slow'));
    const rule = strict.addRule({ method: 'GET', path: prefix, times: 1, action: { kind: 'delay', ms: 3000 } });
    const started = performance.now();
    expect((await store.get('k', { start: 1, end: 3 })).toString()).toBe('lo');
    const elapsed = performance.now() - started;
    rule.remove();
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1500);
    expect(trace(strict, prefix, 'k')).toEqual(['PUT 200', 'GET delay', 'GET 206']);
  });

  it('fails after the bounded attempts, quickly, with the last error named', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    const rule = strict.addRule({ path: prefix, action: { kind: 'error', status: 503, code: 'SlowDown', message: 'Reduce your request rate.' } });
    const started = performance.now();
    const err = await failure(store.put('k', Buffer.from('never')));
    const elapsed = performance.now() - started;
    rule.remove();
    expect(err).toBeInstanceOf(S3RequestError);
    const e = err as S3RequestError;
    expect(e.code).toBe('S3_REQUEST_FAILED');
    expect(e.message).toBe(
      `S3 PutObject s3://faults/${prefix}k failed after 4 attempts: HTTP 503 SlowDown: Reduce your request rate.`,
    );
    expect([e.operation, e.attempts, e.status, e.reason, e.retryable]).toEqual(['PutObject', 4, 503, 'SlowDown', true]);
    expect(trace(strict, prefix, 'k')).toEqual(['PUT 503', 'PUT 503', 'PUT 503', 'PUT 503']);
    // Backoff waits at most 10 + 20 + 40 ms here.
    expect(elapsed).toBeLessThan(1000);
  });

  it('fails after the bounded attempts when every attempt times out', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native', { requestTimeoutMs: 250, maxAttempts: 3 });
    const rule = strict.addRule({ path: prefix, action: { kind: 'delay', ms: 10_000 } });
    const started = performance.now();
    const err = await failure(store.get('k'));
    const elapsed = performance.now() - started;
    rule.remove();
    expect(err).toBeInstanceOf(S3RequestError);
    expect([(err as S3RequestError).attempts, (err as S3RequestError).reason]).toEqual([3, 'ATTEMPT_TIMEOUT']);
    expect((err as Error).message).toBe(
      `S3 GetObject s3://faults/${prefix}k failed after 3 attempts: ATTEMPT_TIMEOUT: no complete response within 250 ms`,
    );
    expect(elapsed).toBeGreaterThanOrEqual(750);
    expect(elapsed).toBeLessThan(2000);
  });

  it('fails after the bounded attempts when nothing listens', async () => {
    const port = await freePort();
    const { store } = storeOn(`http://127.0.0.1:${port}`, 'native');
    const started = performance.now();
    const err = await failure(store.get('k'));
    expect(err).toBeInstanceOf(S3RequestError);
    expect([(err as S3RequestError).attempts, (err as S3RequestError).reason]).toEqual([4, 'ECONNREFUSED']);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('does not retry a request the store refuses (403)', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    const rule = strict.addRule({ path: prefix, action: { kind: 'error', status: 403, code: 'AccessDenied', message: 'Access Denied' } });
    const err = await failure(store.get('k'));
    rule.remove();
    expect((err as Error).message).toBe(`S3 GetObject s3://faults/${prefix}k failed after 1 attempt: HTTP 403 AccessDenied: Access Denied`);
    expect((err as S3RequestError).retryable).toBe(false);
    expect(trace(strict, prefix, 'k')).toEqual(['GET 403']);
  });

  it('retries deletes and list pages', async () => {
    const { store, prefix } = storeOn(strict.endpoint, 'native');
    await store.put('a', Buffer.from('1'));
    await store.put('b', Buffer.from('22'));
    const del = strict.addRule({ method: 'DELETE', path: prefix, times: 2, action: { kind: 'error', status: 500, code: 'InternalError' } });
    await store.delete('a');
    del.remove();
    expect(trace(strict, prefix, 'a')).toEqual(['PUT 200', 'DELETE 500', 'DELETE 500', 'DELETE 204']);
    const list = strict.addRule({ method: 'GET', path: /^\/faults\/?$/, times: 1, action: { kind: 'drop' } });
    const keys: string[] = [];
    for await (const info of store.list()) keys.push(`${info.key}:${info.size}`);
    expect(list.hits).toBe(1);
    list.remove();
    expect(keys).toEqual(['b:2']);
  });

  it('stops retrying when the store is closed', async () => {
    const { store, prefix } = storeOn(
      strict.endpoint,
      'native',
      { retryBaseDelayMs: 5000, retryMaxDelayMs: 5000 },
      { random: () => 0.5 },
    );
    const rule = strict.addRule({ path: prefix, action: { kind: 'error', status: 500, code: 'InternalError' } });
    const started = performance.now();
    const pending = failure(store.get('k'));
    await sleep(200);
    await store.close();
    const err = await pending;
    rule.remove();
    expect(isStorageError(err, 'STORE_CLOSED')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
