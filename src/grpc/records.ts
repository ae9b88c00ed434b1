import { CompressionType } from '../protocol/records/compression.js';
import { readableRecords, type ReadLimits } from '../agent/readable-records.js';
import { buildRecordBatch, type RecordInput } from '../protocol/records/record-codec.js';
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

/** Records at or after `from` in whole batches read from the log, as gRPC messages. */
export function consumedRecords(topic: string, partition: number, data: Buffer, from: bigint, limits: ReadLimits): ConsumedRange {
  const range = readableRecords([data], from, limits);
  const records = range.records.map((r) => {
    const msg: ConsumedRecordMsg = {
      topic,
      partition,
      offset: r.offset.toString(),
      timestampMs: r.timestamp.toString(),
      headers: r.headers.map((h) => (h.value === null ? { key: h.key } : { key: h.key, value: h.value })),
      timestampType: r.logAppendTime ? 'TIMESTAMP_TYPE_LOG_APPEND_TIME' : 'TIMESTAMP_TYPE_CREATE_TIME',
    };
    if (r.key !== null) msg.key = r.key;
    if (r.value !== null) msg.value = r.value;
    return msg;
  });
  return { records, nextOffset: range.nextOffset };
}
