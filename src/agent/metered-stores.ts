// Requests, errors and latency of the object store and the metadata store, by operation:
// a decorator over every method of the store's interface (no method is listed here, so a
// method added to ObjectStore or MetadataStore is metered without touching this file).
// Applied once, in src/server/start-agent.ts, around the stores opened by URL.

import { Counter, Histogram, type Registry } from 'prom-client';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { REQUEST_SECONDS_BUCKETS } from './broker-metrics.js';

export interface StoreMeterOptions {
  readonly registry: Registry;
  /** Metric name prefix, e.g. `streamhouse_object_store`. */
  readonly prefix: string;
  /** What the store is, for help texts ("object store"). */
  readonly what: string;
  /** Count the bytes of Buffer arguments and Buffer results (object bodies) per operation. */
  readonly countBytes?: boolean;
}

/** Methods not worth a series: called once per process. */
const UNMETERED = new Set(['close']);

/** A bounded label for what a store call threw: its error code, else its class name. */
export function storeErrorLabel(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  for (const v of [e?.code, e?.name]) if (typeof v === 'string' && /^[A-Za-z0-9_]{1,48}$/.test(v)) return v;
  return 'UNKNOWN';
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** The metrics of one store and the generic method wrapper that feeds them. */
export class StoreMeter {
  private readonly requests: Counter<'operation'>;
  private readonly errors: Counter<'operation' | 'error'>;
  private readonly duration: Histogram<'operation'>;
  private readonly bytes: Counter<'operation'> | undefined;

  constructor(opts: StoreMeterOptions) {
    const registers = [opts.registry];
    this.requests = new Counter({ name: `${opts.prefix}_requests_total`, help: `Calls to the ${opts.what}, by operation`, labelNames: ['operation'], registers });
    this.errors = new Counter({ name: `${opts.prefix}_errors_total`, help: `Calls to the ${opts.what} that failed, by operation and error code`, labelNames: ['operation', 'error'], registers });
    this.duration = new Histogram({
      name: `${opts.prefix}_request_duration_seconds`,
      help: `Time of calls to the ${opts.what} (a listing until it is read to the end), by operation`,
      labelNames: ['operation'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    });
    this.bytes = opts.countBytes
      ? new Counter({ name: `${opts.prefix}_bytes_total`, help: `Object bytes sent to (put) or received from (get) the ${opts.what}, by operation`, labelNames: ['operation'], registers })
      : undefined;
  }

  /**
   * `target` with every method metered as operation `<prefix><method>`; with `depth` > 0 the
   * objects it holds (a MetadataStore's sub-stores) are metered too, as `<property>.<method>`.
   * Methods run bound to the real object, so private state works as before.
   */
  wrap<T extends object>(target: T, depth = 0, prefix = ''): T {
    const wrapped = new Map<string, unknown>();
    return new Proxy(target, {
      get: (t, prop) => {
        const value: unknown = Reflect.get(t, prop, t);
        if (typeof prop !== 'string' || UNMETERED.has(prop)) return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
        const known = wrapped.get(prop);
        if (known !== undefined) return known;
        let out: unknown;
        if (typeof value === 'function') out = this.method(`${prefix}${prop}`, (value as (...a: unknown[]) => unknown).bind(t));
        else if (depth > 0 && typeof value === 'object' && value !== null) out = this.wrap(value, depth - 1, `${prefix}${prop}.`);
        else return value;
        wrapped.set(prop, out);
        return out;
      },
    });
  }

  private method(operation: string, fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const requests = this.requests.labels({ operation });
    const duration = this.duration.labels({ operation });
    const bytes = this.bytes?.labels({ operation });
    const failed = (err: unknown) => this.errors.inc({ operation, error: storeErrorLabel(err) });
    return (...args: unknown[]) => {
      requests.inc();
      if (bytes) for (const a of args) if (Buffer.isBuffer(a)) bytes.inc(a.length);
      const started = performance.now();
      const end = (err?: unknown) => {
        duration.observe((performance.now() - started) / 1000);
        if (err !== undefined) failed(err);
      };
      let result: unknown;
      try {
        result = fn(...args);
      } catch (err) {
        end(err);
        throw err;
      }
      if (isPromiseLike(result)) {
        return Promise.resolve(result).then(
          (v) => {
            if (bytes && Buffer.isBuffer(v)) bytes.inc(v.length);
            end();
            return v;
          },
          (err: unknown) => {
            end(err);
            throw err;
          },
        );
      }
      if (isAsyncIterable(result)) return meteredIterable(result, end);
      end();
      return result;
    };
  }
}

/** `source`, calling `end` once when it is read to the end, fails, or is abandoned. */
function meteredIterable<T>(source: AsyncIterable<T>, end: (err?: unknown) => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = source[Symbol.asyncIterator]();
      let ended = false;
      const finish = (err?: unknown) => {
        if (ended) return;
        ended = true;
        end(err);
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          try {
            const r = await it.next();
            if (r.done) finish();
            return r;
          } catch (err) {
            finish(err);
            throw err;
          }
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          finish();
          return it.return ? it.return(value) : { done: true, value: value as T };
        },
      };
    },
  };
}

/** The object store with `streamhouse_object_store_*` metrics (operations put, get, delete, list). */
export function meteredObjectStore(store: ObjectStore, registry: Registry): ObjectStore {
  return new StoreMeter({ registry, prefix: 'streamhouse_object_store', what: 'object store', countBytes: true }).wrap(store);
}

/** The metadata store with `streamhouse_metadata_store_*` metrics (operations `<sub-store>.<method>`, e.g. partitions.commitFlush). */
export function meteredMetadataStore(store: MetadataStore, registry: Registry): MetadataStore {
  return new StoreMeter({ registry, prefix: 'streamhouse_metadata_store', what: 'metadata store' }).wrap(store, 1);
}
