// Records and bytes in and out per topic, counted once for every door: appends that
// committed and reads that returned data. Counted per batch or per read, never per record.

import { Counter, type Registry } from 'prom-client';
import { readBatchHeader } from '../protocol/records/record-batch.js';
import type { AppendRequest, AppendResult, LogService, PartitionOffsets, ReadRequest, ReadResult, TimestampLookup } from './log-service.js';

export class TopicTrafficMetrics {
  readonly recordsIn: Counter<'topic'>;
  readonly bytesIn: Counter<'topic'>;
  readonly bytesOut: Counter<'topic'>;

  constructor(registry: Registry) {
    this.recordsIn = new Counter({ name: 'streamhouse_topic_records_in_total', help: 'Records appended and committed, by topic', labelNames: ['topic'], registers: [registry] });
    this.bytesIn = new Counter({ name: 'streamhouse_topic_bytes_in_total', help: 'Record batch bytes appended and committed, by topic', labelNames: ['topic'], registers: [registry] });
    this.bytesOut = new Counter({ name: 'streamhouse_topic_bytes_out_total', help: 'Record batch bytes read by consumers, by topic', labelNames: ['topic'], registers: [registry] });
  }
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
    if (result.size > 0) this.traffic.bytesOut.inc({ topic: request.topic }, result.size);
    return result;
  }

  offsets(topic: string, partition: number): Promise<PartitionOffsets> {
    return this.inner.offsets(topic, partition);
  }

  waitForData(positions: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
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
    this.inner.forgetTopic(topic);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
