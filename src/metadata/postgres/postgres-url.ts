// StreamHouse reads one parameter of its own from a postgres:// URL (`pool_size`) and hands
// everything else to pg untouched, byte for byte, so percent-encoding in passwords and
// libpq-style parameters (sslmode, options, application_name, ...) keep their meaning.

import { redactUrl } from '../../common/redact-url.js';
import { MetadataStoreError } from '../metadata-store.js';

export const DEFAULT_POOL_SIZE = 10;
const MAX_POOL_SIZE = 1000;

export interface PostgresUrl {
  /** The URL without StreamHouse's own parameters, for pg. */
  readonly connectionString: string;
  /** From `?pool_size=N`, when given. */
  readonly poolSize: number | undefined;
}

export function parsePostgresUrl(url: string): PostgresUrl {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new MetadataStoreError('UNSUPPORTED_URL', `Not a PostgreSQL URL: ${redactUrl(url)}`);
  }
  const q = url.indexOf('?');
  if (q < 0) return { connectionString: url, poolSize: undefined };
  let poolSize: number | undefined;
  const kept: string[] = [];
  for (const param of url.slice(q + 1).split('&')) {
    const eq = param.indexOf('=');
    const name = eq < 0 ? param : param.slice(0, eq);
    if (name !== 'pool_size') {
      if (param.length > 0) kept.push(param);
      continue;
    }
    const value = eq < 0 ? '' : param.slice(eq + 1);
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_POOL_SIZE) {
      throw new MetadataStoreError('UNSUPPORTED_URL', `pool_size must be an integer from 1 to ${MAX_POOL_SIZE}, got "${value}"`);
    }
    poolSize = n;
  }
  const base = url.slice(0, q);
  return { connectionString: kept.length === 0 ? base : `${base}?${kept.join('&')}`, poolSize };
}
