import { KeyedMutex } from '../../common/keyed-mutex.js';
import { backoffDelayMs } from '../../common/backoff.js';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { checkRangeShape, resolveRange } from '../byte-range.js';
import { compareKeys, validateObjectKey } from '../object-key.js';
import type { ByteRange, ObjectInfo, ObjectStore, SuffixRange } from '../object-store.js';
import {
  InvalidRangeError,
  ObjectExistsError,
  ObjectNotFoundError,
  StorageError,
  StoreClosedError,
} from '../storage-errors.js';
import {
  S3_DEFAULTS,
  s3OptionsFromEnv,
  type ConditionalWriteMode,
  type S3ObjectStoreOptions,
} from './s3-config.js';
import { S3RequestError } from './s3-errors.js';
import { parseContentRange, planRangeAnswer, rangeHeader, type ServedRange } from './s3-range.js';
import {
  AttemptTimeoutError,
  TruncatedResponseError,
  errorCodeOf,
  httpStatusOf,
  isRetryableS3Error,
} from './s3-retry.js';

export interface S3RetryEvent {
  operation: string;
  /** Full key (URL prefix included), if the request named one. */
  key: string | undefined;
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface S3ObjectStoreHooks {
  /** A preconfigured client (tests); the store destroys it on close. */
  client?: S3Client;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (event: S3RetryEvent) => void;
}

export interface S3StoreStats {
  /** Requests sent, by S3 operation, retries included. */
  requests: Record<string, number>;
  retries: number;
  /** Puts whose response was lost but whose object was found stored with our bytes. */
  recoveredPuts: number;
}

interface HeadInfo {
  size: number;
  etag: string | undefined;
}

interface Fetched {
  body: Buffer;
  served: ServedRange;
}

function isNotFound(err: unknown): boolean {
  if (httpStatusOf(err) !== 404) return false;
  const code = errorCodeOf(err);
  return code === 'NoSuchKey' || code === 'NotFound';
}

function isPreconditionFailed(err: unknown): boolean {
  return httpStatusOf(err) === 412 || errorCodeOf(err) === 'PreconditionFailed';
}

function isInvalidRange(err: unknown): boolean {
  return httpStatusOf(err) === 416 || errorCodeOf(err) === 'InvalidRange';
}

function describeRange(range: ByteRange | SuffixRange | undefined): string {
  if (range === undefined) return 'whole object';
  return 'suffixLength' in range ? `last ${range.suffixLength} bytes` : `[${range.start}, ${range.end})`;
}

/** Reads a response body whole, giving up when `signal` fires (a stalled body is a timeout). */
async function readBody(stream: Readable | undefined, expected: number | undefined, signal: AbortSignal): Promise<Buffer> {
  if (stream === undefined) return Buffer.alloc(0);
  if (signal.aborted) {
    stream.destroy();
    throw signal.reason;
  }
  const onAbort = (): void => {
    stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      length += buf.length;
    }
    if (expected !== undefined && length !== expected) throw new TruncatedResponseError(expected, length);
    return Buffer.concat(chunks, length);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * ObjectStore on S3 (or MinIO, s3rver…), for `s3://bucket/prefix` URLs. Every key is
 * stored under the URL prefix. Each operation makes at most `maxAttempts` attempts, each
 * bounded by `requestTimeoutMs`, with full-jitter exponential backoff in between; the
 * SDK's own retries are off so the bound is exact and a put knows whether an earlier
 * attempt of its own may already have stored the object.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly agents: { http?: HttpAgent; https?: HttpsAgent } = {};
  private readonly maxAttempts: number;
  private readonly requestTimeoutMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly random: () => number;
  private readonly onRetry: ((event: S3RetryEvent) => void) | undefined;
  private readonly configuredMode: ConditionalWriteMode | 'auto';
  private modePromise: Promise<ConditionalWriteMode> | undefined;
  private resolvedMode: ConditionalWriteMode | undefined;
  /** Serialises emulated conditional puts of one key within this process. */
  private readonly keyLocks = new KeyedMutex<string>();
  private readonly closing = new AbortController();
  private closed = false;
  private readonly counters: S3StoreStats = { requests: {}, retries: 0, recoveredPuts: 0 };

  constructor(options: S3ObjectStoreOptions, hooks: S3ObjectStoreHooks = {}) {
    this.bucket = options.bucket;
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.maxAttempts = options.maxAttempts ?? S3_DEFAULTS.maxAttempts;
    this.requestTimeoutMs = options.requestTimeoutMs ?? S3_DEFAULTS.requestTimeoutMs;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? S3_DEFAULTS.retryBaseDelayMs;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? S3_DEFAULTS.retryMaxDelayMs;
    this.random = hooks.random ?? Math.random;
    this.onRetry = hooks.onRetry;
    this.configuredMode = options.conditionalWrites ?? 'auto';
    if (this.configuredMode !== 'auto') this.resolvedMode = this.configuredMode;
    if (hooks.client !== undefined) {
      this.client = hooks.client;
    } else {
      const maxSockets = options.maxSockets ?? S3_DEFAULTS.maxSockets;
      // Keep-alive: a PUT per flush should not pay a TCP (and TLS) handshake each time.
      this.agents.http = new HttpAgent({ keepAlive: true, maxSockets });
      this.agents.https = new HttpsAgent({ keepAlive: true, maxSockets });
      this.client = new S3Client({
        region: options.region ?? S3_DEFAULTS.region,
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        maxAttempts: 1,
        // We send Content-MD5 ourselves; the newer default CRC headers trip up older
        // S3-compatible servers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          connectionTimeout: options.connectTimeoutMs ?? S3_DEFAULTS.connectTimeoutMs,
          requestTimeout: this.requestTimeoutMs,
          throwOnRequestTimeout: true,
          httpAgent: this.agents.http,
          httpsAgent: this.agents.https,
        },
      });
    }
  }

  /**
   * A store that has reached the bucket and settled how it prevents overwrites, so a
   * wrong endpoint, bucket or credential fails here, at start, with one clear line.
   */
  static async open(options: S3ObjectStoreOptions, hooks?: S3ObjectStoreHooks): Promise<S3ObjectStore> {
    const store = new S3ObjectStore(options, hooks);
    try {
      await store.withRetries('HeadBucket', undefined, (signal) =>
        store.client.send(new HeadBucketCommand({ Bucket: store.bucket }), store.request('HeadBucket', signal)),
      );
      await store.conditionalWriteMode();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** `s3://bucket/prefix` configured from the environment (see docs/configuration.md). */
  static async fromUrl(url: string, env: NodeJS.ProcessEnv = process.env, hooks?: S3ObjectStoreHooks): Promise<S3ObjectStore> {
    return S3ObjectStore.open(s3OptionsFromEnv(url, env), hooks);
  }

  /** How puts avoid overwriting; probes the store the first time when configured `auto`. */
  async conditionalWriteMode(): Promise<ConditionalWriteMode> {
    if (this.resolvedMode !== undefined) return this.resolvedMode;
    this.modePromise ??= this.probeConditionalWrites().then(
      (mode) => {
        this.resolvedMode = mode;
        return mode;
      },
      (err: unknown) => {
        this.modePromise = undefined;
        throw err;
      },
    );
    return this.modePromise;
  }

  stats(): S3StoreStats {
    return { ...this.counters, requests: { ...this.counters.requests } };
  }

  async put(key: string, body: Buffer): Promise<void> {
    this.assertOpen();
    validateObjectKey(key);
    const mode = await this.conditionalWriteMode();
    const fullKey = this.prefix + key;
    // `body` is sent as is (no copy): callers hand over segment buffers they do not reuse.
    const md5 = createHash('md5').update(body).digest();
    const run = (): Promise<void> => this.putWithRetries(key, fullKey, body, md5, mode);
    await (mode === 'emulated' ? this.keyLocks.run(fullKey, run) : run());
  }

  async get(key: string, range?: ByteRange | SuffixRange): Promise<Buffer> {
    this.assertOpen();
    validateObjectKey(key);
    checkRangeShape(range);
    const fullKey = this.prefix + key;
    if (range !== undefined && !('suffixLength' in range) && range.start === range.end) {
      // HTTP cannot ask for zero bytes: learn the size to tell "empty" from "out of bounds".
      const info = await this.withRetries('HeadObject', fullKey, (signal) => this.headOnce(fullKey, signal));
      if (info === undefined) throw new ObjectNotFoundError(key);
      resolveRange(range, info.size);
      return Buffer.alloc(0);
    }
    return this.withRetries('GetObject', fullKey, (signal) => this.getAttempt(key, fullKey, range, signal));
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    validateObjectKey(key);
    const fullKey = this.prefix + key;
    await this.withRetries('DeleteObject', fullKey, async (signal) => {
      try {
        await this.client.send(
          new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKey }),
          this.request('DeleteObject', signal),
        );
      } catch (err) {
        // S3 answers 204 for a missing key; tolerate stores that say 404.
        if (!isNotFound(err)) throw err;
      }
    });
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    this.assertOpen();
    const listPrefix = this.prefix + prefix;
    let token: string | undefined;
    let previous: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.withRetries('ListObjectsV2', listPrefix, (signal) =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ContinuationToken: token }),
          this.request('ListObjectsV2', signal),
        ),
      );
      const items: ObjectInfo[] = [];
      for (const entry of page.Contents ?? []) {
        const fullKey = entry.Key;
        // Keys ending in '/' are "folder" markers other tools create; never ours.
        if (fullKey === undefined || !fullKey.startsWith(listPrefix) || fullKey.endsWith('/')) continue;
        items.push({
          key: fullKey.slice(this.prefix.length),
          size: entry.Size ?? 0,
          lastModified: entry.LastModified ?? new Date(0),
        });
      }
      // S3 pages are already in UTF-8 byte order; s3rver's are in directory order.
      items.sort((a, b) => compareKeys(a.key, b.key));
      for (const item of items) {
        if (previous !== undefined && compareKeys(item.key, previous) <= 0) {
          throw new S3RequestError({
            operation: 'ListObjectsV2',
            target: this.target(listPrefix),
            attempts: 1,
            reason: 'UnorderedListing',
            detail: `key ${JSON.stringify(item.key)} came after ${JSON.stringify(previous)} across pages`,
            retryable: false,
          });
        }
        previous = item.key;
        yield item;
      }
      if (page.IsTruncated === true && !page.NextContinuationToken) {
        throw new S3RequestError({
          operation: 'ListObjectsV2',
          target: this.target(listPrefix),
          attempts: 1,
          reason: 'MissingContinuationToken',
          detail: 'a truncated listing page carried no continuation token',
          retryable: false,
        });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      this.assertOpen();
    } while (token !== undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new StoreClosedError());
    this.client.destroy();
    this.agents.http?.destroy();
    this.agents.https?.destroy();
  }

  // --- put -------------------------------------------------------------------------

  private async putWithRetries(
    key: string,
    fullKey: string,
    body: Buffer,
    md5: Buffer,
    mode: ConditionalWriteMode,
  ): Promise<void> {
    // True once a PUT of ours went out without a definite "not stored" answer: from then
    // on an existing object may be our own, stored by an attempt whose response was lost.
    let mayHaveStored = false;
    await this.withRetries('PutObject', fullKey, async (signal) => {
      const ownEarlierAttempt = mayHaveStored;
      if (mode === 'emulated') {
        const existing = await this.headOnce(fullKey, signal);
        if (existing !== undefined) {
          return this.settleExisting(key, fullKey, body, md5, ownEarlierAttempt, existing, signal);
        }
      }
      mayHaveStored = true;
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: fullKey,
            Body: body,
            ContentLength: body.length,
            ContentMD5: md5.toString('base64'),
            ...(mode === 'native' ? { IfNoneMatch: '*' } : {}),
          }),
          this.request('PutObject', signal),
        );
      } catch (err) {
        if (!isPreconditionFailed(err)) throw err;
        // 412 means this attempt stored nothing.
        mayHaveStored = ownEarlierAttempt;
        if (!ownEarlierAttempt) throw new ObjectExistsError(key);
        const existing = await this.headOnce(fullKey, signal);
        if (existing === undefined) {
          // Deleted between the 412 and the HEAD: the key is free again, so try again.
          throw Object.assign(new Error('object vanished after 412 Precondition Failed'), {
            Code: 'ConditionalRequestConflict',
          });
        }
        return this.settleExisting(key, fullKey, body, md5, ownEarlierAttempt, existing, signal);
      }
    });
  }

  /**
   * The key is taken. It is ours only if an earlier attempt of this put may have stored it
   * and it holds exactly our bytes (same size and MD5 ETag, or same bytes when the ETag is
   * not a plain MD5, as with SSE-KMS); anything else is OBJECT_EXISTS.
   */
  private async settleExisting(
    key: string,
    fullKey: string,
    body: Buffer,
    md5: Buffer,
    ownEarlierAttempt: boolean,
    existing: HeadInfo,
    signal: AbortSignal,
  ): Promise<void> {
    if (!ownEarlierAttempt || existing.size !== body.length) throw new ObjectExistsError(key);
    const etag = existing.etag?.replace(/"/g, '').toLowerCase();
    let same = etag === md5.toString('hex');
    if (!same) same = (await this.fetch(fullKey, undefined, signal)).body.equals(body);
    if (!same) throw new ObjectExistsError(key);
    this.counters.recoveredPuts += 1;
  }

  private async probeConditionalWrites(): Promise<ConditionalWriteMode> {
    const probeKey = `${this.prefix}.streamhouse-probe/${randomUUID()}`;
    const body = Buffer.from('streamhouse conditional write probe\n');
    const putIfAbsent = (): Promise<unknown> =>
      this.withRetries('PutObject', probeKey, (signal) =>
        this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: probeKey, Body: body, IfNoneMatch: '*' }),
          this.request('PutObject', signal),
        ),
      );
    const refused = (err: unknown): boolean => err instanceof S3RequestError && err.status === 412;
    // Stores that reject the header outright (400/501) need emulation too.
    const unsupported = (err: unknown): boolean =>
      err instanceof S3RequestError && (err.status === 400 || err.status === 501 || err.reason === 'NotImplemented');
    try {
      try {
        await putIfAbsent();
      } catch (err) {
        // Our first try stored it but its response was lost, and the retry was refused.
        if (refused(err)) return 'native';
        if (unsupported(err)) return 'emulated';
        throw err;
      }
      try {
        await putIfAbsent();
      } catch (err) {
        if (refused(err)) return 'native';
        if (unsupported(err)) return 'emulated';
        throw err;
      }
      return 'emulated';
    } finally {
      await this.withRetries('DeleteObject', probeKey, (signal) =>
        this.client.send(
          new DeleteObjectCommand({ Bucket: this.bucket, Key: probeKey }),
          this.request('DeleteObject', signal),
        ),
      ).catch(() => undefined);
    }
  }

  // --- get -------------------------------------------------------------------------

  private async getAttempt(
    key: string,
    fullKey: string,
    range: ByteRange | SuffixRange | undefined,
    signal: AbortSignal,
  ): Promise<Buffer> {
    let first: Fetched;
    try {
      first = await this.fetch(fullKey, range === undefined ? undefined : rangeHeader(range), signal);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(key);
      if (!isInvalidRange(err)) throw err;
      // 416: the range starts past the end, or (on some stores) any range of an empty object.
      if (range !== undefined && 'suffixLength' in range) {
        const info = await this.headOnce(fullKey, signal);
        if (info === undefined) throw new ObjectNotFoundError(key);
        if (info.size === 0) return Buffer.alloc(0);
      }
      throw new InvalidRangeError(`range ${describeRange(range)} is outside object ${key}`);
    }
    const plan = planRangeAnswer(range, first.served);
    if (plan.kind === 'slice') return sliceCopy(first.body, plan.from, plan.to);
    const header = `bytes=${plan.start}-${plan.end - 1}`;
    const second = await this.fetch(fullKey, header, signal);
    const again = planRangeAnswer({ start: plan.start, end: plan.end }, second.served);
    if (again.kind !== 'slice') {
      throw new S3RequestError({
        operation: 'GetObject',
        target: this.target(fullKey),
        key: fullKey,
        attempts: 1,
        reason: 'UnexpectedContentRange',
        detail: `asked for ${header}, got bytes ${second.served.start}-${second.served.end - 1}/${second.served.total}`,
        retryable: false,
      });
    }
    return sliceCopy(second.body, again.from, again.to);
  }

  /** One GET; the body is read whole and checked against what the headers announced. */
  private async fetch(fullKey: string, range: string | undefined, signal: AbortSignal): Promise<Fetched> {
    const out = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: fullKey, Range: range }),
      this.request('GetObject', signal),
    );
    const stream = out.Body as Readable | undefined;
    if (out.$metadata.httpStatusCode === 206 && /^bytes \S+\/0$/.test(out.ContentRange?.trim() ?? '')) {
      // s3rver answers any range of an empty object with a malformed 206 (`bytes 0-0/0`,
      // Content-Length 1, no body): the size is all we need.
      stream?.destroy();
      return { body: Buffer.alloc(0), served: { start: 0, end: 0, total: 0 } };
    }
    const body = await readBody(stream, out.ContentLength, signal);
    if (out.$metadata.httpStatusCode === 206) {
      const served = parseContentRange(out.ContentRange);
      if (served === undefined) {
        throw new S3RequestError({
          operation: 'GetObject',
          target: this.target(fullKey),
          key: fullKey,
          attempts: 1,
          reason: 'UnexpectedContentRange',
          detail: `206 response with Content-Range ${JSON.stringify(out.ContentRange)}`,
          retryable: false,
        });
      }
      if (served.end - served.start !== body.length) throw new TruncatedResponseError(served.end - served.start, body.length);
      return { body, served };
    }
    // 200: the server sent the whole object (no Range asked, or Range ignored).
    return { body, served: { start: 0, end: body.length, total: body.length } };
  }

  private async headOnce(fullKey: string, signal: AbortSignal): Promise<HeadInfo | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }),
        this.request('HeadObject', signal),
      );
      return { size: out.ContentLength ?? 0, etag: out.ETag };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  // --- plumbing --------------------------------------------------------------------

  /** Per-request options; counts the request for stats(). */
  private request(operation: string, signal: AbortSignal): { abortSignal: AbortSignal } {
    this.counters.requests[operation] = (this.counters.requests[operation] ?? 0) + 1;
    return { abortSignal: signal };
  }

  /**
   * Runs `attempt` up to maxAttempts times. Each attempt gets a signal that fires at its
   * deadline or when the store closes. StorageErrors are final answers and pass through;
   * transient failures are retried after a full-jitter backoff; the rest, and the last
   * transient one, become an S3RequestError.
   */
  private async withRetries<T>(
    operation: string,
    fullKey: string | undefined,
    attempt: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      this.assertOpen();
      // One controller per attempt, fired by its deadline or by close() (AbortSignal.any
      // would tie every attempt's signal to the long-lived close signal).
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new AttemptTimeoutError(this.requestTimeoutMs)),
        this.requestTimeoutMs,
      );
      const onClose = (): void => controller.abort(new StoreClosedError());
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      let error: unknown;
      try {
        return await attempt(controller.signal);
      } catch (err) {
        error = controller.signal.reason instanceof AttemptTimeoutError ? controller.signal.reason : err;
      } finally {
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      }
      if (this.closed) throw new StoreClosedError();
      if (error instanceof StorageError || error instanceof S3RequestError) throw error;
      const retryable = isRetryableS3Error(error);
      if (!retryable || n >= this.maxAttempts) {
        throw new S3RequestError({
          operation,
          target: this.target(fullKey),
          ...(fullKey !== undefined ? { key: fullKey } : {}),
          attempts: n,
          ...(httpStatusOf(error) !== undefined ? { status: httpStatusOf(error)! } : {}),
          reason: errorCodeOf(error),
          detail: error instanceof Error ? error.message : String(error),
          retryable,
          cause: error,
        });
      }
      const delayMs = backoffDelayMs(n, { baseMs: this.retryBaseDelayMs, maxMs: this.retryMaxDelayMs, jitter: 'full' }, this.random);
      this.counters.retries += 1;
      this.onRetry?.({ operation, key: fullKey, attempt: n, delayMs, error });
      await this.sleep(delayMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0 || this.closing.signal.aborted) return resolve();
      const onClose = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.closing.signal.removeEventListener('abort', onClose);
        resolve();
      }, ms);
      this.closing.signal.addEventListener('abort', onClose, { once: true });
    });
  }

  private target(fullKey: string | undefined): string {
    return `s3://${this.bucket}/${fullKey ?? this.prefix}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function sliceCopy(body: Buffer, from: number, to: number): Buffer {
  if (from === 0 && to === body.length) return body;
  // Copy so a small range does not pin the whole response buffer in memory.
  return Buffer.from(body.subarray(from, to));
}
