import { CompressionType } from '../../protocol/records/compression.js';
import { buildRecordBatch, type RecordInput } from '../../protocol/records/record-codec.js';
import type { Acks } from '../messages.js';
import { partitionForKey } from '../../protocol/murmur2.js';
import { toBuffer, toOptionalBuffer, type Bytes } from './bytes.js';
import { RpcChannel, type ChannelOptions } from './rpc-channel.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { StreamHouseError } from './streamhouse-error.js';
import { status } from '@grpc/grpc-js';
import { ProducerMetrics, type ClientMetricsOptions } from './client-metrics.js';

export interface ProducerRecord {
  readonly topic: string;
  readonly value: Bytes | null;
  readonly key?: Bytes | null;
  /** Unset: murmur2 of the key (as Kafka's producers), or a sticky partition for a null key. */
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, Bytes | null>> | ReadonlyArray<{ readonly key: string; readonly value: Bytes | null }>;
  /** Create time; defaults to now. */
  readonly timestamp?: number | Date;
}

export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** -1 with acks 'none'. */
  readonly offset: bigint;
}

export interface ProducerOptions extends ChannelOptions, ClientMetricsOptions {
  /** A partition's batch is sent once it holds this many records (default 1000)... */
  readonly batchMaxRecords?: number;
  /** ...or this many bytes of keys, values and headers (default 512 KiB)... */
  readonly batchMaxBytes?: number;
  /** ...or when its first record has waited this long (default 5 ms). */
  readonly lingerMs?: number;
  /** LZ4-compress batches of at least 256 bytes on the wire and in the log (default 'lz4'). */
  readonly compression?: 'lz4' | 'none';
  readonly acks?: 'all' | 'leader' | 'none';
  /** Retries of a batch after UNAVAILABLE / DEADLINE_EXCEEDED (default 5), with exponential backoff and jitter. */
  readonly retries?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long a topic's partition count is trusted before it is asked again (default 60000 ms). */
  readonly metadataMaxAgeMs?: number;
}

/** Batches smaller than this are not worth compressing. */
const COMPRESS_MIN_BYTES = 256;
/** Varint lengths, attributes, deltas: a record's bytes beyond its key, value and headers. */
const RECORD_OVERHEAD = 24;

interface Pending {
  readonly input: RecordInput;
  readonly topic: string;
  readonly partition: number;
  /** performance.now() at send(), for the send-duration histogram. */
  readonly sentAt: number;
  readonly resolve: (m: RecordMetadata) => void;
  readonly reject: (e: unknown) => void;
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: Pending[];
  openBytes: number;
  timer: NodeJS.Timeout | undefined;
  readonly sealed: Pending[][];
  sending: boolean;
}

const ACKS: Record<NonNullable<ProducerOptions['acks']>, Acks> = { all: 'ACKS_ALL', leader: 'ACKS_LEADER', none: 'ACKS_NONE' };

/**
 * Sends records in batches, one batch in flight per partition (so retries keep order).
 * `send()` resolves once the record is committed in the log.
 */
export class Producer {
  private readonly channel: RpcChannel;
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();
  private readonly metadataLoads = new Map<string, Promise<number | undefined>>();
  private readonly sticky = new Map<string, number>();
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly retry: RetryPolicy;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly lingerMs: number;
  private readonly compression: CompressionType;
  private readonly acks: Acks;
  private readonly metadataMaxAgeMs: number;
  private closed = false;
  private flushing = 0;
  private readonly metrics: ProducerMetrics;

  constructor(options: ProducerOptions = {}) {
    this.channel = new RpcChannel(options);
    this.metrics = new ProducerMetrics(options, () => this.outstanding.size);
    this.maxRecords = positive(options.batchMaxRecords ?? 1000, 'batchMaxRecords');
    this.maxBytes = positive(options.batchMaxBytes ?? 512 * 1024, 'batchMaxBytes');
    this.lingerMs = nonNegative(options.lingerMs ?? 5, 'lingerMs');
    this.compression = (options.compression ?? 'lz4') === 'lz4' ? CompressionType.Lz4 : CompressionType.None;
    this.acks = ACKS[options.acks ?? 'all'];
    this.retry = {
      retries: nonNegative(options.retries ?? 5, 'retries'),
      initialBackoffMs: nonNegative(options.initialBackoffMs ?? 100, 'initialBackoffMs'),
      maxBackoffMs: nonNegative(options.maxBackoffMs ?? 5000, 'maxBackoffMs'),
    };
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 60_000;
  }

  get address(): string {
    return this.channel.address;
  }

  /** The client_id label of this producer's metrics. */
  get clientId(): string {
    return this.metrics.clientId;
  }

  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    const p = this.enqueue(record);
    this.outstanding.add(p);
    const forget = () => this.outstanding.delete(p);
    p.then(forget, () => {
      forget();
      this.metrics.sendFailed(record.topic ?? '', 1);
    });
    return p;
  }

  /** Sends everything buffered now and waits until every record sent so far has its answer. */
  async flush(): Promise<void> {
    const waiting = [...this.outstanding];
    // records still waiting for their topic's metadata are sent as soon as they are queued
    this.flushing++;
    try {
      for (const q of this.queues.values()) this.seal(q);
      await Promise.allSettled(waiting);
    } finally {
      this.flushing--;
    }
  }

  /** Flushes, then closes the connection; later sends fail. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.channel.close();
    this.metrics.close();
  }

  private async enqueue(record: ProducerRecord): Promise<RecordMetadata> {
    if (!record.topic) throw new TypeError('record.topic is required');
    const sentAt = performance.now();
    const input: RecordInput = {
      key: toOptionalBuffer(record.key),
      value: toOptionalBuffer(record.value),
      headers: headersOf(record.headers),
      timestamp: BigInt(record.timestamp instanceof Date ? record.timestamp.getTime() : (record.timestamp ?? Date.now())),
    };
    if (record.partition !== undefined && (!Number.isInteger(record.partition) || record.partition < 0)) {
      throw new TypeError(`partition must be 0 or more, got ${record.partition}`);
    }
    let partition = record.partition;
    if (partition === undefined) {
      const count = await this.partitionCount(record.topic);
      if (count === undefined) return this.produceAlone(record.topic, input, sentAt);
      partition = input.key !== null ? partitionForKey(input.key, count) : this.stickyPartition(record.topic, count);
    }
    return new Promise<RecordMetadata>((resolve, reject) => {
      this.add({ input, topic: record.topic, partition: partition!, sentAt, resolve, reject });
    });
  }

  private add(p: Pending): void {
    const key = `${p.topic}\u0000${p.partition}`;
    let q = this.queues.get(key);
    if (!q) {
      q = { topic: p.topic, partition: p.partition, open: [], openBytes: 0, timer: undefined, sealed: [], sending: false };
      this.queues.set(key, q);
    }
    const size = recordSize(p.input);
    if (q.open.length > 0 && q.openBytes + size > this.maxBytes) this.seal(q);
    q.open.push(p);
    q.openBytes += size;
    if (this.flushing > 0 || q.open.length >= this.maxRecords || q.openBytes >= this.maxBytes) this.seal(q);
    else if (q.timer === undefined) {
      const queue = q;
      q.timer = setTimeout(() => this.seal(queue), this.lingerMs);
    }
  }

  /** Closes the open batch of a partition and starts sending if it is idle. */
  private seal(q: PartitionQueue): void {
    if (q.timer !== undefined) clearTimeout(q.timer);
    q.timer = undefined;
    if (q.open.length > 0) {
      q.sealed.push(q.open);
      q.open = [];
      q.openBytes = 0;
      if (this.sticky.get(q.topic) === q.partition) this.sticky.delete(q.topic);
    }
    this.pump(q);
  }

  private pump(q: PartitionQueue): void {
    if (q.sending) return;
    let batch = q.sealed.shift();
    if (!batch) return;
    // batches sealed by the linger timer while the previous one was in flight go out together,
    // up to the batch limits: else many concurrent small sends would wait one round trip each
    if (q.sealed.length > 0) {
      const bytesOf = (ps: readonly Pending[]): number => ps.reduce((n, p) => n + recordSize(p.input), 0);
      const out = [...batch];
      let bytes = bytesOf(out);
      while (q.sealed.length > 0) {
        const next = q.sealed[0]!;
        const nextBytes = bytesOf(next);
        if (out.length + next.length > this.maxRecords || bytes + nextBytes > this.maxBytes) break;
        out.push(...next);
        bytes += nextBytes;
        q.sealed.shift();
      }
      batch = out;
    }
    q.sending = true;
    void this.sendBatch(q, batch).finally(() => {
      q.sending = false;
      this.pump(q);
    });
  }

  private async sendBatch(q: PartitionQueue, batch: Pending[]): Promise<void> {
    try {
      const inputs = batch.map((p) => p.input);
      let bytes = 0;
      for (const i of inputs) bytes += recordSize(i);
      const kafkaRecordBatch = buildRecordBatch({ baseOffset: 0n, records: inputs, compression: bytes >= COMPRESS_MIN_BYTES ? this.compression : CompressionType.None });
      const started = performance.now();
      const res = await withRetries(
        () => this.channel.call('ProduceBatch', { topic: q.topic, partition: q.partition, kafkaRecordBatch, acks: this.acks }),
        this.retry,
      );
      const now = performance.now();
      this.metrics.batchSent(q.topic, batch.length, kafkaRecordBatch.length, (now - started) / 1000, batch.map((p) => p.sentAt), now, true);
      const base = BigInt(res.baseOffset);
      batch.forEach((p, i) => p.resolve({ topic: q.topic, partition: q.partition, offset: base < 0n ? -1n : base + BigInt(i) }));
    } catch (err) {
      if (err instanceof StreamHouseError && err.code === status.NOT_FOUND) this.partitionCounts.delete(q.topic);
      for (const p of batch) p.reject(err);
    }
  }

  /** A topic the broker does not know yet: one Produce call, which auto-creates it if the broker does that. */
  private async produceAlone(topic: string, input: RecordInput, sentAt: number): Promise<RecordMetadata> {
    const started = performance.now();
    const res = await withRetries(
      () =>
        this.channel.call('Produce', {
          topic,
          record: {
            ...(input.key !== null ? { key: input.key } : {}),
            ...(input.value !== null ? { value: input.value } : {}),
            headers: (input.headers ?? []).map((h) => (h.value === null ? { key: h.key } : { key: h.key, value: h.value })),
            timestampMs: input.timestamp.toString(),
          },
          acks: this.acks,
        }),
      this.retry,
    );
    const now = performance.now();
    // sent as one record, not a batch: its key, value and header bytes
    this.metrics.batchSent(topic, 1, recordSize(input) - RECORD_OVERHEAD, (now - started) / 1000, [sentAt], now, false);
    this.partitionCounts.delete(topic);
    return { topic, partition: res.partition, offset: BigInt(res.offset) };
  }

  /** The topic's partition count, or undefined when the topic does not exist (yet). */
  private partitionCount(topic: string): Promise<number | undefined> {
    const known = this.partitionCounts.get(topic);
    if (known && Date.now() - known.at < this.metadataMaxAgeMs) return Promise.resolve(known.count);
    let load = this.metadataLoads.get(topic);
    if (!load) {
      load = withRetries(() => this.channel.call('DescribeTopic', { name: topic }), this.retry)
        .then(
          (t) => {
            this.partitionCounts.set(topic, { count: t.partitionCount, at: Date.now() });
            return t.partitionCount;
          },
          (err: unknown) => {
            if (err instanceof StreamHouseError && err.code === status.NOT_FOUND) return undefined;
            throw err;
          },
        )
        .finally(() => this.metadataLoads.delete(topic));
      this.metadataLoads.set(topic, load);
    }
    return load;
  }

  /** Kafka's sticky partitioning for null keys: one partition until its batch is sealed. */
  private stickyPartition(topic: string, count: number): number {
    let p = this.sticky.get(topic);
    if (p === undefined || p >= count) {
      p = Math.floor(Math.random() * count);
      this.sticky.set(topic, p);
    }
    return p;
  }
}

function headersOf(headers: ProducerRecord['headers']): Array<{ key: string; value: Buffer | null }> {
  if (!headers) return [];
  if (Array.isArray(headers)) return (headers as ReadonlyArray<{ key: string; value: Bytes | null }>).map((h) => ({ key: h.key, value: toOptionalBuffer(h.value) }));
  return Object.entries(headers as Readonly<Record<string, Bytes | null>>).map(([key, value]) => ({ key, value: value === null ? null : toBuffer(value) }));
}

function recordSize(r: RecordInput): number {
  let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) size += h.key.length + (h.value?.length ?? 0) + 2;
  return size;
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  return n;
}

function nonNegative(n: number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what} must be 0 or more, got ${n}`);
  return n;
}
