// Records and bytes in and out per topic, counted once for every door: appends that
// committed and reads that returned data. Counted per batch or per read, never per record.

import { Counter, type Registry } from 'prom-client';
import { BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, readBatchHeader } from '../protocol/records/record-batch.js';
import type { AppendRequest, MarkerRequest, AppendResult, LogService, PartitionOffsets, ReadRequest, ReadResult, TimestampLookup } from './log-service.js';

export class TopicTrafficMetrics {
  readonly recordsIn: Counter<'topic'>;
  readonly bytesIn: Counter<'topic'>;
  readonly recordsOut: Counter<'topic'>;
  readonly bytesOut: Counter<'topic'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.recordsIn = new Counter({ name: 'streamhouse_topic_records_in_total', help: 'Records appended and committed, by topic', labelNames: ['topic'], registers });
    this.bytesIn = new Counter({ name: 'streamhouse_topic_bytes_in_total', help: 'Record batch bytes appended and committed, by topic', labelNames: ['topic'], registers });
    this.recordsOut = new Counter({
      name: 'streamhouse_topic_records_out_total',
      help: 'Records read by consumers at or after the offset they asked for, by topic',
      labelNames: ['topic'],
      registers,
    });
    this.bytesOut = new Counter({ name: 'streamhouse_topic_bytes_out_total', help: 'Record batch bytes read by consumers (whole batches), by topic', labelNames: ['topic'], registers });
  }

  /** Drops a deleted topic's series, so the series count follows the topics that exist. */
  forget(topic: string): void {
    for (const c of [this.recordsIn, this.bytesIn, this.recordsOut, this.bytesOut]) c.remove({ topic });
  }
}

/**
 * Records at or after `from` in whole batches (a read starts with the batch holding `from`,
 * whose earlier records the consumer skips). Reads each batch's base offset and last offset
 * delta, not its records.
 */
export function recordsFrom(parts: readonly Buffer[], from: bigint): number {
  let n = 0;
  for (const part of parts) {
    for (let at = 0; at + LOG_OVERHEAD <= part.length; ) {
      const base = part.readBigInt64BE(at);
      const last = base + BigInt(part.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET));
      const first = base > from ? base : from;
      if (last >= first) n += Number(last - first) + 1;
      at += LOG_OVERHEAD + part.readInt32BE(at + BATCH_LENGTH_OFFSET);
    }
  }
  return n;
}

/** A LogService that counts what passes through the one it wraps. */
export class MeteredLog implements LogService {
  constructor(
    private readonly inner: LogService,
    private readonly traffic: TopicTrafficMetrics,
  ) {}

  async append(request: AppendRequest): Promise<AppendResult> {
    // read before the append: the log patches offsets into these buffers, not counts
    let records = 0;
    let bytes = 0;
    for (const b of request.batches) {
      records += readBatchHeader(b).recordCount;
      bytes += b.length;
    }
    const result = await this.inner.append(request);
    const topic = request.topic.name;
    this.traffic.recordsIn.inc({ topic }, records);
    this.traffic.bytesIn.inc({ topic }, bytes);
    return result;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const result = await this.inner.read(request);
    if (result.size > 0) {
      this.traffic.bytesOut.inc({ topic: request.topic }, result.size);
      this.traffic.recordsOut.inc({ topic: request.topic }, recordsFrom(result.parts, request.offset));
    }
    return result;
  }

  appendMarker(request: MarkerRequest): Promise<bigint> {
    return this.inner.appendMarker(request);
  }

  offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    return this.inner.offsets(topic, partition);
  }

  waitForData(positions: ReadonlyArray<{ topic: string; partition: number; offset: bigint; readCommitted?: boolean }>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.inner.waitForData(positions, timeoutMs, signal);
  }

  offsetForTimestamp(topic: string, partition: number, timestamp: bigint): Promise<TimestampLookup | undefined> {
    return this.inner.offsetForTimestamp(topic, partition, timestamp);
  }

  maxTimestampOffset(topic: string, partition: number): Promise<TimestampLookup | undefined> {
    return this.inner.maxTimestampOffset(topic, partition);
  }

  deleteRecords(topic: string, partition: number, offset: bigint): Promise<bigint> {
    return this.inner.deleteRecords(topic, partition, offset);
  }

  forgetTopic(topic: string): void {
    this.traffic.forget(topic);
    this.inner.forgetTopic(topic);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
