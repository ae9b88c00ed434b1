/**
 * What every producer of the client matrix writes, so that any reader can be checked against
 * it exactly. Each producer owns one topic with PARTITIONS partitions; for each codec in CODECS
 * order it writes RECORDS_PER_BATCH records to every partition (one batch per partition), so
 * the offset of each record is known in advance.
 */

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

export const CLIENTS = ['kafkajs', 'platformatic', 'kcat', 'confluent', 'kafka-python'] as const;
export type ClientName = (typeof CLIENTS)[number];

export const PARTITIONS = 3;
export const RECORDS_PER_BATCH = 3;
export const RECORDS_PER_PARTITION = CODECS.length * RECORDS_PER_BATCH;

/** Kafka's codec ids (record batch attributes bits 0-2). */
export const CODEC_ID: Record<Codec, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** Timestamps within a batch go up and down so negative timestamp deltas are exercised. */
const TIMESTAMP_STEPS = [30, 10, 20] as const;

/** One record as a client is asked to write it; `timestamp` null means the client stamps it (kcat). */
export interface PlannedRecord {
  partition: number;
  offset: number;
  key: Buffer;
  value: Buffer;
  /** In order; a null value is a header without a value. */
  headers: Array<[string, Buffer | null]>;
  timestamp: number | null;
}

/** A record as read back by some client, in a client-neutral form (bytes as base64). */
export interface ReadRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

/** The same shape for planned records, for exact comparison with what readers return. */
export function toReadRecord(topic: string, r: PlannedRecord, timestamp: number): ReadRecord {
  return {
    topic,
    partition: r.partition,
    offset: r.offset,
    timestamp,
    key: r.key.toString('base64'),
    value: r.value.toString('base64'),
    headers: r.headers.map(([k, v]) => [k, v === null ? null : v.toString('base64')]),
  };
}

/** Planned records serialised for a child process (bytes as base64). */
export interface WireRecord {
  partition: number;
  key: string;
  value: string;
  headers: Array<[string, string | null]>;
  timestamp: number | null;
}

export function toWire(r: PlannedRecord): WireRecord {
  return { partition: r.partition, key: r.key.toString('base64'), value: r.value.toString('base64'), headers: r.headers.map(([k, v]) => [k, v === null ? null : v.toString('base64')]), timestamp: r.timestamp };
}

/**
 * Bytes every client must carry unchanged: NUL, 0xff, newline, comma, '=', '|', tab, multi-byte
 * UTF-8, and enough repetition that every codec really shrinks the batch (librdkafka sends a
 * batch uncompressed when compression does not help). 0x1e/0x1f are left out: kcat uses them
 * as delimiters on its standard input.
 */
const AWKWARD = Buffer.from([0x00, 0xff, 0x0a, 0x2c, 0x3d, 0x7c, 0x09, 0x0d, 0x80, 0x7f]);

export function valueFor(client: ClientName, codec: Codec, partition: number, i: number): Buffer {
  const label = `${client}/${codec}/p${partition}/r${i}`;
  return Buffer.concat([Buffer.from(`${label}|`), AWKWARD, Buffer.from(' é✓ '), Buffer.from(`${label} lorem ipsum dolor sit amet `.repeat(8))]);
}

export function keyFor(client: ClientName, codec: Codec, partition: number, i: number): Buffer {
  return Buffer.from(`key-${client}-${codec}-${partition}-${i}-é`);
}

/**
 * Clients that cannot write a null header value: kafkajs 2.2.4 calls Buffer.byteLength(null)
 * before its own null check and throws; kafka-python 2.0.2's send() asserts bytes values.
 */
export const NO_NULL_HEADER_VALUES: ReadonlySet<ClientName> = new Set<ClientName>(['kafkajs', 'kafka-python']);

/**
 * Headers depend only on (client, codec, partition) because kcat applies its -H headers to all
 * messages of one invocation. They include an empty value and, where the client can write one,
 * a null value; text only, without ',', '=' or '|', so kcat's %h output splits unambiguously.
 */
export function headersFor(client: ClientName, codec: Codec, partition: number): Array<[string, Buffer | null]> {
  return [
    ['trace', Buffer.from(`${client}/${codec}/p${partition}/é`)],
    ['empty', Buffer.alloc(0)],
    ...(NO_NULL_HEADER_VALUES.has(client) ? [] : [['nul', null] as [string, null]]),
    ['codec', Buffer.from(codec)],
  ];
}

/** Explicit CreateTime for a record: distinct across the whole matrix. */
export function timestampFor(t0: number, client: ClientName, codec: Codec, partition: number, i: number): number {
  return t0 + CLIENTS.indexOf(client) * 100_000 + CODECS.indexOf(codec) * 1_000 + partition * 100 + TIMESTAMP_STEPS[i]!;
}

/** The records `client` writes with `codec`, ordered by partition then position. */
export function planBatch(client: ClientName, codec: Codec, t0: number, clientSetsTimestamps: boolean): PlannedRecord[] {
  const out: PlannedRecord[] = [];
  const c = CODECS.indexOf(codec);
  for (let p = 0; p < PARTITIONS; p++) {
    for (let i = 0; i < RECORDS_PER_BATCH; i++) {
      out.push({
        partition: p,
        offset: c * RECORDS_PER_BATCH + i,
        key: keyFor(client, codec, p, i),
        value: valueFor(client, codec, p, i),
        headers: headersFor(client, codec, p),
        timestamp: clientSetsTimestamps ? timestampFor(t0, client, codec, p, i) : null,
      });
    }
  }
  return out;
}

/** Sorts read records by topic, partition and offset (readers may interleave partitions). */
export function sortRecords(records: ReadRecord[]): ReadRecord[] {
  return [...records].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset);
}
