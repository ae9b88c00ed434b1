import { CompressionType } from '../protocol/records/compression.js';
import { TimestampType, readBatchHeader, splitBatches } from '../protocol/records/record-batch.js';
import { buildRecordBatch, decodeRecords, type RecordInput } from '../protocol/records/record-codec.js';
import { invalidArgument } from './grpc-status.js';
import type { ConsumedRecordMsg, RecordMsg } from './messages.js';

/** A record to write, checked and converted for a Kafka batch. */
export function recordInputOf(r: RecordMsg, nowMs: bigint, index: number): RecordInput {
  let timestamp = nowMs;
  if (r.timestampMs !== undefined) {
    timestamp = BigInt(r.timestampMs);
    if (timestamp < -1n) throw invalidArgument(`record ${index}: timestamp_ms ${timestamp} is negative`);
  }
  return {
    key: r.key ?? null,
    value: r.value ?? null,
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: h.value ?? null })),
    timestamp,
  };
}

/** One magic-v2 batch (base offset 0) holding `records` in order, exactly as a Kafka producer would send it. */
export function batchOfRecords(records: readonly RecordMsg[], nowMs: bigint, compression: CompressionType = CompressionType.None): Buffer {
  return buildRecordBatch({ baseOffset: 0n, records: records.map((r, i) => recordInputOf(r, nowMs, i)), compression });
}

export interface ConsumedRange {
  readonly records: ConsumedRecordMsg[];
  /** Where the next read starts: after the last returned record, or past skipped batches. */
  readonly nextOffset: bigint;
}

export interface ConsumeLimits {
  readonly maxRecords: number;
  /** Key and value bytes; the first record is always returned. */
  readonly maxBytes: number;
}

/**
 * Records at or after `from` in whole batches read from the log. Control batches are
 * skipped, and a gap left by compaction at the end of a batch moves `nextOffset` past it.
 */
export function consumedRecords(topic: string, partition: number, data: Buffer, from: bigint, limits: ConsumeLimits): ConsumedRange {
  const records: ConsumedRecordMsg[] = [];
  let next = from;
  let bytes = 0;
  for (const batch of splitBatches(data).batches) {
    const header = readBatchHeader(batch);
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    if (lastOffset < next) continue;
    if (header.isControl) {
      next = lastOffset + 1n;
      continue;
    }
    const timestampType = header.timestampType === TimestampType.LogAppendTime ? 'TIMESTAMP_TYPE_LOG_APPEND_TIME' : 'TIMESTAMP_TYPE_CREATE_TIME';
    for (const r of decodeRecords(batch, { verify: false }).records) {
      if (r.offset < next) continue;
      const size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
      if (records.length >= limits.maxRecords || (records.length > 0 && bytes + size > limits.maxBytes)) return { records, nextOffset: next };
      const msg: ConsumedRecordMsg = {
        topic,
        partition,
        offset: r.offset.toString(),
        timestampMs: r.timestamp.toString(),
        headers: r.headers.map((h) => (h.value === null ? { key: h.key } : { key: h.key, value: h.value })),
        timestampType,
      };
      if (r.key !== null) msg.key = r.key;
      if (r.value !== null) msg.value = r.value;
      records.push(msg);
      bytes += size;
      next = r.offset + 1n;
    }
    if (lastOffset + 1n > next) next = lastOffset + 1n;
  }
  return { records, nextOffset: next };
}
