// Picks the metadata backend from a URL (docs/architecture.md §11: `--metadata sqlite://path | postgres://...`).

import { resolve } from 'node:path';
import { MetadataStoreError, type MetadataStore } from './metadata-store.js';
import { openPostgresMetadataStore } from './postgres/postgres-metadata-store.js';
import { SQLITE_MEMORY_PATH, openSqliteMetadataStore } from './sqlite/sqlite-metadata-store.js';

export type MetadataStoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

const EXPECTED = 'expected sqlite://<path>, sqlite::memory: or postgres://...';

function unsupported(reason: string): MetadataStoreError {
  return new MetadataStoreError('UNSUPPORTED_URL', `Unsupported metadata store URL: ${reason}; ${EXPECTED}`);
}

/**
 * Parses a metadata URL without opening anything.
 * - `sqlite::memory:` or `sqlite://:memory:`: private in-memory database
 * - `sqlite://data/metadata.db`: relative to the working directory
 * - `sqlite:///var/lib/streamhouse/metadata.db`: absolute
 * - `postgres://...` / `postgresql://...`
 */
export function parseMetadataStoreUrl(url: string): MetadataStoreLocation {
  if (url === 'sqlite::memory:' || url === 'sqlite://:memory:') return { kind: 'sqlite', path: SQLITE_MEMORY_PATH };
  if (url.startsWith('sqlite://')) {
    const path = url.slice('sqlite://'.length);
    if (path.length === 0) throw unsupported('"sqlite://" has no file path');
    return { kind: 'sqlite', path: resolve(path) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { kind: 'postgres', url };
  // Only the scheme goes into the message: the rest of a URL may carry a password.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  throw unsupported(scheme === undefined ? 'no scheme' : `scheme "${scheme}"`);
}

/**
 * Opens the store the URL names and applies pending migrations. A PostgreSQL server that
 * cannot be used fails with a one-line PostgresUnavailableError (password redacted).
 * `postgres://...?pool_size=N` sets the pool size (default 10).
 */
export async function openMetadataStore(url: string): Promise<MetadataStore> {
  const location = parseMetadataStoreUrl(url);
  switch (location.kind) {
    case 'sqlite':
      return openSqliteMetadataStore({ path: location.path });
    case 'postgres':
      return openPostgresMetadataStore({ url: location.url });
  }
}
