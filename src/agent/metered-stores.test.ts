import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-object-store.js';
import { ObjectNotFoundError } from '../storage/storage-errors.js';
import { meteredMetadataStore, meteredObjectStore, storeErrorLabel } from './metered-stores.js';

async function samples(registry: Registry, prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await registry.metrics()).split('\n')) {
    if (!line.startsWith(prefix) || line.includes('_bucket{')) continue;
    const at = line.lastIndexOf(' ');
    out[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return out;
}

describe('metered stores', () => {
  it('count, time and size every object store call by operation, errors by code, a listing until read', async () => {
    const registry = new Registry();
    const store = meteredObjectStore(new MemoryObjectStore(), registry);
    await store.put('a/1', Buffer.alloc(100));
    await store.put('a/2', Buffer.alloc(50));
    expect((await store.get('a/1', { start: 10, end: 30 })).length).toBe(20);
    await expect(store.get('a/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.put('a/1', Buffer.alloc(1))).rejects.toThrow();
    const keys: string[] = [];
    for await (const o of store.list('a/')) keys.push(o.key);
    expect(keys).toEqual(['a/1', 'a/2']);
    // a listing abandoned after its first entry is one call too
    for await (const o of store.list('a/')) {
      expect(o.key).toBe('a/1');
      break;
    }
    await store.delete('a/2');
    await store.close();
    expect(await samples(registry, 'streamhouse_object_store_')).toEqual({
      'streamhouse_object_store_requests_total{operation="put"}': 3,
      'streamhouse_object_store_requests_total{operation="get"}': 2,
      'streamhouse_object_store_requests_total{operation="list"}': 2,
      'streamhouse_object_store_requests_total{operation="delete"}': 1,
      'streamhouse_object_store_errors_total{operation="get",error="OBJECT_NOT_FOUND"}': 1,
      'streamhouse_object_store_errors_total{operation="put",error="OBJECT_EXISTS"}': 1,
      // bodies put (also the refused one, which was sent) and bytes got
      'streamhouse_object_store_bytes_total{operation="put"}': 151,
      'streamhouse_object_store_bytes_total{operation="get"}': 20,
      'streamhouse_object_store_request_duration_seconds_sum{operation="put"}': expect.any(Number) as number,
      'streamhouse_object_store_request_duration_seconds_count{operation="put"}': 3,
      'streamhouse_object_store_request_duration_seconds_sum{operation="get"}': expect.any(Number) as number,
      'streamhouse_object_store_request_duration_seconds_count{operation="get"}': 2,
      'streamhouse_object_store_request_duration_seconds_sum{operation="list"}': expect.any(Number) as number,
      'streamhouse_object_store_request_duration_seconds_count{operation="list"}': 2,
      'streamhouse_object_store_request_duration_seconds_sum{operation="delete"}': expect.any(Number) as number,
      'streamhouse_object_store_request_duration_seconds_count{operation="delete"}': 1,
    });
  });

  it('meter every sub-store method of the metadata store as <sub-store>.<method>', async () => {
    const registry = new Registry();
    const store = meteredMetadataStore(await openMetadataStore('sqlite::memory:'), registry);
    try {
      await store.topics.create({ name: 't', partitionCount: 2, configs: {} });
      await expect(store.topics.create({ name: 't', partitionCount: 2, configs: {} })).rejects.toThrow();
      expect(await store.partitions.list('t')).toHaveLength(2);
      expect(await store.cluster.getClusterId()).toBe(await store.cluster.getClusterId());
      const s = await samples(registry, 'streamhouse_metadata_store_');
      expect(s['streamhouse_metadata_store_requests_total{operation="topics.create"}']).toBe(2);
      expect(s['streamhouse_metadata_store_errors_total{operation="topics.create",error="TOPIC_ALREADY_EXISTS"}']).toBe(1);
      expect(s['streamhouse_metadata_store_requests_total{operation="partitions.list"}']).toBe(1);
      expect(s['streamhouse_metadata_store_requests_total{operation="cluster.getClusterId"}']).toBe(2);
      expect(s['streamhouse_metadata_store_request_duration_seconds_count{operation="topics.create"}']).toBe(2);
      // the same wrapped object each time: callers may keep a sub-store
      expect(store.topics).toBe(store.topics);
    } finally {
      await store.close();
    }
    await expect(store.topics.list()).rejects.toThrow();
    expect((await samples(registry, 'streamhouse_metadata_store_errors_total'))['streamhouse_metadata_store_errors_total{operation="topics.list",error="STORE_CLOSED"}']).toBe(1);
  });

  it('labels errors by their code, else their class, never by message', () => {
    expect(storeErrorLabel(new ObjectNotFoundError('k'))).toBe('OBJECT_NOT_FOUND');
    expect(storeErrorLabel(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(storeErrorLabel(new TypeError('the key "a b" is bad'))).toBe('TypeError');
    expect(storeErrorLabel(Object.assign(new Error('x'), { code: 'not a code!' }))).toBe('Error');
    expect(storeErrorLabel('boom')).toBe('UNKNOWN');
  });
});
