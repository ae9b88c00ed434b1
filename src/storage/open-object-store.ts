import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalObjectStore } from './local/local-object-store.js';
import { MemoryObjectStore } from './memory/memory-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3/s3-object-store.js';
import { UnsupportedStoreError } from './storage-errors.js';

const SUPPORTED = 'file:///absolute/path, file://relative/path, s3://bucket/prefix, memory://';

/** Resolves `file://` URLs; `file://a/b` is read as the relative path `a/b`, not host `a`. */
export function localPathFromUrl(url: string): string {
  const rest = url.slice('file://'.length);
  if (rest.length === 0) throw new UnsupportedStoreError(`storage URL ${url} has no path (expected ${SUPPORTED})`);
  if (rest.includes('?') || rest.includes('#')) {
    throw new UnsupportedStoreError(`storage URL ${url} must not have a query or fragment`);
  }
  if (rest.startsWith('/')) return fileURLToPath(url);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new UnsupportedStoreError(`storage URL ${url} has invalid percent-encoding`);
  }
  return path.resolve(decoded);
}

/**
 * Opens the object store named by a `--storage` URL. `s3://` stores read their settings
 * from `env` (see docs/configuration.md) and check the bucket before returning.
 */
export async function openObjectStore(url: string, env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'file':
      if (!url.toLowerCase().startsWith('file://')) {
        throw new UnsupportedStoreError(`storage URL ${url} must start with file:// (expected ${SUPPORTED})`);
      }
      return LocalObjectStore.open(localPathFromUrl('file://' + url.slice('file://'.length)));
    case 'memory':
      if (url.toLowerCase() !== 'memory://') {
        throw new UnsupportedStoreError(`storage URL ${url} is not supported; use exactly memory://`);
      }
      return new MemoryObjectStore();
    case 's3':
      return S3ObjectStore.fromUrl(url, env);
    default:
      throw new UnsupportedStoreError(`unsupported storage URL ${JSON.stringify(url)} (expected ${SUPPORTED})`);
  }
}
