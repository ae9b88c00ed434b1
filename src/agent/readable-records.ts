// Records as an application reads them from whole batches of the log, for the doors that
// hand out records rather than batches (gRPC, REST): control batches skipped, records before
// the asked offset dropped, a gap left by compaction stepped over.

import { TimestampType, readBatchHeader, splitBatches } from '../protocol/records/record-batch.js';
import { decodeRecords } from '../protocol/records/record-codec.js';

export interface ReadableRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly logAppendTime: boolean;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Buffer | null }>;
}

export interface ReadableRange {
  readonly records: ReadableRecord[];
  /** Where the next read starts: after the last returned record, or past skipped batches. */
  readonly nextOffset: bigint;
}

export interface ReadLimits {
  readonly maxRecords: number;
  /** Key and value bytes; the first record is always returned. */
  readonly maxBytes: number;
}

/**
 * Records at or after `from` in `parts` (each of whole batches, in log order), within
 * `limits`. The parts are walked as they are: a read is never joined into one buffer, and
 * batches after the limit is reached are not looked at.
 */
export function readableRecords(parts: readonly Buffer[], from: bigint, limits: ReadLimits): ReadableRange {
  const records: ReadableRecord[] = [];
  let next = from;
  let bytes = 0;
  for (const batch of parts.flatMap((part) => splitBatches(part).batches)) {
    if (records.length >= limits.maxRecords) break;
    const header = readBatchHeader(batch);
    const lastOffset = header.baseOffset + BigInt(header.lastOffsetDelta);
    if (lastOffset < next) continue;
    if (header.isControl) {
      next = lastOffset + 1n;
      continue;
    }
    const logAppendTime = header.timestampType === TimestampType.LogAppendTime;
    for (const r of decodeRecords(batch, { verify: false }).records) {
      if (r.offset < next) continue;
      const size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
      if (records.length >= limits.maxRecords || (records.length > 0 && bytes + size > limits.maxBytes)) return { records, nextOffset: next };
      records.push({ offset: r.offset, timestamp: r.timestamp, logAppendTime, key: r.key, value: r.value, headers: r.headers });
      bytes += size;
      next = r.offset + 1n;
    }
    if (lastOffset + 1n > next) next = lastOffset + 1n;
  }
  return { records, nextOffset: next };
}
