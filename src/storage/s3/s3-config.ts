import { UnsupportedStoreError } from '../storage-errors.js';

/**
 * How "never overwrite" is enforced. `native`: PutObject carries `If-None-Match: *` and the
 * store answers 412 if the key exists (AWS S3 since 2024, recent MinIO). `emulated`: for
 * stores that ignore or reject that header (s3rver): a HEAD before each PUT, serialised per
 * key inside this process only. `auto`: probe the store once and pick one.
 */
export type ConditionalWriteMode = 'native' | 'emulated';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Prepended to every key; '' or ending in '/'. */
  prefix?: string;
  region?: string;
  /** e.g. http://127.0.0.1:9000 for MinIO or s3rver; AWS when absent. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** The SDK's default chain (environment, profile, instance role) when absent. */
  credentials?: S3Credentials;
  conditionalWrites?: ConditionalWriteMode | 'auto';
  /** Attempts per operation, the first included. */
  maxAttempts?: number;
  /** Deadline for one attempt, response body included. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Keep-alive sockets per endpoint. */
  maxSockets?: number;
}

export const S3_DEFAULTS = {
  region: 'us-east-1',
  maxAttempts: 5,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 5_000,
  maxSockets: 64,
} as const;

// AWS bucket naming rules (MinIO uses the same): 3-63 of [a-z0-9.-], alphanumeric ends.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Splits `s3://bucket/some/prefix` into the bucket and a key prefix ('' or ending in '/'). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(url);
  if (m === null) {
    throw new UnsupportedStoreError(`storage URL ${url} is not of the form s3://bucket/prefix (no query or fragment)`);
  }
  const bucket = m[1]!;
  if (!BUCKET_PATTERN.test(bucket) || bucket.includes('..')) {
    throw new UnsupportedStoreError(
      `storage URL ${url} has an invalid bucket name ${JSON.stringify(bucket)} (3-63 of a-z 0-9 . -)`,
    );
  }
  let path: string;
  try {
    path = decodeURIComponent((m[2] ?? '').replace(/^\/+/, '').replace(/\/+$/, ''));
  } catch {
    throw new UnsupportedStoreError(`storage URL ${url} has invalid percent-encoding`);
  }
  if (path.length === 0) return { bucket, prefix: '' };
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || /[\u0000-\u001f\u007f]/.test(segment)) {
      throw new UnsupportedStoreError(`storage URL ${url} has an invalid prefix ${JSON.stringify(path)}`);
    }
  }
  return { bucket, prefix: `${path}/` };
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UnsupportedStoreError(`${name}=${raw} is invalid: expected an integer >= ${min}`);
  }
  return value;
}

function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new UnsupportedStoreError(`${name}=${env[name]} is invalid: expected true or false`);
}

function envEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ['S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL']) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new UnsupportedStoreError(`${name}=${raw} is not a URL (expected e.g. http://127.0.0.1:9000)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UnsupportedStoreError(`${name}=${raw} must be an http:// or https:// URL`);
    }
    return raw;
  }
  return undefined;
}

/**
 * Options for `s3://bucket/prefix` from the environment: the standard AWS variables plus
 * the S3_* settings listed in docs/configuration.md. Throws UnsupportedStoreError with one
 * clear line for anything invalid.
 */
export function s3OptionsFromEnv(url: string, env: NodeJS.ProcessEnv = process.env): S3ObjectStoreOptions {
  const { bucket, prefix } = parseS3Url(url);
  const endpoint = envEndpoint(env);
  const mode = env.S3_CONDITIONAL_WRITES?.trim().toLowerCase() || 'auto';
  if (mode !== 'auto' && mode !== 'native' && mode !== 'emulated') {
    throw new UnsupportedStoreError(`S3_CONDITIONAL_WRITES=${env.S3_CONDITIONAL_WRITES} is invalid: expected auto, native or emulated`);
  }
  const options: S3ObjectStoreOptions = {
    bucket,
    prefix,
    region: env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || S3_DEFAULTS.region,
    // MinIO and s3rver serve buckets as paths, not as DNS names.
    forcePathStyle: envBool(env, 'S3_FORCE_PATH_STYLE') ?? endpoint !== undefined,
    conditionalWrites: mode,
  };
  if (endpoint !== undefined) options.endpoint = endpoint;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  // Passed explicitly so a caller-supplied env object wins over process.env; otherwise the
  // SDK's own chain (profiles, web identity, instance roles) applies.
  if (accessKeyId && secretAccessKey) {
    options.credentials = { accessKeyId, secretAccessKey };
    if (env.AWS_SESSION_TOKEN) options.credentials.sessionToken = env.AWS_SESSION_TOKEN;
  }
  const ints: [keyof S3ObjectStoreOptions, string, number][] = [
    ['maxAttempts', 'S3_MAX_ATTEMPTS', 1],
    ['requestTimeoutMs', 'S3_REQUEST_TIMEOUT_MS', 1],
    ['connectTimeoutMs', 'S3_CONNECT_TIMEOUT_MS', 1],
    ['retryBaseDelayMs', 'S3_RETRY_BASE_DELAY_MS', 0],
    ['retryMaxDelayMs', 'S3_RETRY_MAX_DELAY_MS', 0],
    ['maxSockets', 'S3_MAX_SOCKETS', 1],
  ];
  for (const [field, name, min] of ints) {
    const value = envInt(env, name, min);
    if (value !== undefined) (options as unknown as Record<string, number>)[field] = value;
  }
  return options;
}
