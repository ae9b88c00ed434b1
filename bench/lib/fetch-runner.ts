import { writeFileSync } from 'node:fs';
import { errorInfo } from '../../src/protocol/error-codes.js';
import { BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD } from '../../src/protocol/records/record-batch.js';
import { KafkaConnection, type SecureConnectOptions } from '../../test-kit/kafka-connection.js';
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js';

const FETCH_VERSION = 12;

export interface FetchPassOptions {
  readonly host: string;
  readonly port: number;
  readonly topic: string;
  readonly partitions: number;
  readonly consumers: number;
  /** 'group': partitions split over the consumers; 'fanout': every consumer reads every partition. */
  readonly mode: 'group' | 'fanout';
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  /** TLS and/or a SASL login for every connection (a listener that is not PLAINTEXT). */
  readonly secure?: SecureConnectOptions;
}

export interface FetchPassResult {
  readonly seconds: number;
  readonly bytes: number;
  readonly fetches: number;
  readonly mbPerSecond: number;
  readonly latency: LatencySummary;
  readonly errors: Record<string, number>;
  /** CPU share this (client) process used during the pass. */
  readonly clientCpu: number;
}

/** Offset after the last whole batch in `records` (undefined when there is none). */
export function nextOffsetAfter(records: Buffer): bigint | undefined {
  let pos = 0;
  let next: bigint | undefined;
  while (pos + LOG_OVERHEAD <= records.length) {
    const size = records.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
    if (pos + size > records.length) break;
    next = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)) + 1n;
    pos += size;
  }
  return next;
}

/** The high watermark of every partition (ListOffsets, latest). */
export async function highWatermarks(conn: KafkaConnection, topic: string, partitions: number): Promise<bigint[]> {
  const res = await conn.request(2, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n })) }],
  });
  const out = new Array<bigint>(partitions).fill(0n);
  for (const p of res.topics[0]?.partitions ?? []) {
    if (p.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${p.partitionIndex}: ${errorInfo(p.errorCode).name}`);
    out[p.partitionIndex] = p.offset;
  }
  return out;
}

/**
 * One pass: each consumer reads its partitions from offset 0 to the high watermark with
 * one Fetch in flight at a time (as a consumer does), advancing past the last whole batch.
 */
export async function fetchPass(opts: FetchPassOptions, hwms: bigint[]): Promise<FetchPassResult> {
  const consumers = Math.min(opts.consumers, opts.mode === 'group' ? opts.partitions : opts.consumers);
  const conns = await Promise.all(Array.from({ length: consumers }, (_, i) => KafkaConnection.connect(opts.host, opts.port, `bench-fetch-${i}`, opts.secure)));
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let bytes = 0;
  let fetches = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    await Promise.all(
      conns.map(async (conn, ci) => {
        const mine = Array.from({ length: opts.partitions }, (_, p) => p).filter((p) => opts.mode === 'fanout' || p % consumers === ci);
        const position = new Map(mine.map((p) => [p, 0n]));
        for (;;) {
          const open = mine.filter((p) => position.get(p)! < hwms[p]!);
          if (open.length === 0) return;
          const started = performance.now();
          const res = await conn.request(1, FETCH_VERSION, {
            replicaId: -1,
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: opts.maxBytes,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [{ topic: opts.topic, partitions: open.map((p) => ({ partition: p, fetchOffset: position.get(p)!, partitionMaxBytes: opts.partitionMaxBytes })) }],
          });
          latency.record(performance.now() - started);
          fetches++;
          let progressed = false;
          for (const t of res.responses) {
            for (const p of t.partitions) {
              if (p.errorCode !== 0) {
                const name = errorInfo(p.errorCode).name;
                errors[name] = (errors[name] ?? 0) + 1;
                continue;
              }
              const records = p.records ?? Buffer.alloc(0);
              bytes += records.length;
              const next = nextOffsetAfter(records);
              if (next !== undefined && next > position.get(p.partitionIndex)!) {
                position.set(p.partitionIndex, next);
                progressed = true;
              }
            }
          }
          if (!progressed) throw new Error(`fetch made no progress at ${JSON.stringify(Object.fromEntries(position))}: ${JSON.stringify(errors)}`);
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, bytes, fetches, mbPerSecond: bytes / 1e6 / seconds, latency: latency.summary(), errors, clientCpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** Empties the OS page cache so that "cold" really reads the disk (needs root; false if refused). */
export function dropPageCache(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}
