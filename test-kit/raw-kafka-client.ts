import { setTimeout as sleep } from 'node:timers/promises';
import { readBatchHeader, LOG_OVERHEAD, type BatchHeader } from '../src/protocol/records/record-batch.js';
import { decodeRecords, type DecodedRecord } from '../src/protocol/records/record-codec.js';

/** The test kit's one raw Kafka client (kafka-connection.ts), under the name the tests use. */
export { KafkaConnection as RawKafkaClient } from './kafka-connection.js';
import type { KafkaConnection as RawKafkaClient } from './kafka-connection.js';

export interface StoredBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

/** Splits a Fetch response's records field into batches and decodes each (CRC checked). */
export function storedBatches(records: Buffer | null): StoredBatch[] {
  const out: StoredBatch[] = [];
  if (!records) return out;
  let pos = 0;
  while (records.length - pos >= LOG_OVERHEAD) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break; // a partial trailing batch is legal in Fetch responses
    const batch = records.subarray(pos, pos + size);
    out.push({ header: readBatchHeader(batch), records: decodeRecords(batch).records });
    pos += size;
  }
  return out;
}

/** Fetches one partition from `offset` to its high watermark with Fetch v12 and returns every stored batch. */
export async function fetchAllBatches(client: RawKafkaClient, topic: string, partition: number, offset = 0n): Promise<{ highWatermark: bigint; batches: StoredBatch[] }> {
  const batches: StoredBatch[] = [];
  let next = offset;
  for (;;) {
    const res = await client.request(1, 12, {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1n },
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 16 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 16 * 1024 * 1024, replicaDirectoryId: '00000000-0000-0000-0000-000000000000' }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const p = res.responses[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`Fetch ${topic}-${partition}@${next}: error ${p.errorCode}`);
    const got = storedBatches(p.records);
    for (const b of got) {
      const last = b.header.baseOffset + BigInt(b.header.lastOffsetDelta);
      if (last >= next) batches.push(b);
      next = last + 1n;
    }
    if (next >= p.highWatermark) return { highWatermark: p.highWatermark, batches };
    if (got.length === 0) throw new Error(`Fetch ${topic}-${partition}@${next} returned no batch below the high watermark ${p.highWatermark}`);
  }
}

/** ListOffsets v7 for one partition: -1 latest, -2 earliest, or a timestamp. */
export async function listOffset(client: RawKafkaClient, topic: string, partition: number, timestamp: bigint): Promise<{ errorCode: number; offset: bigint; timestamp: bigint }> {
  const res = await client.request(2, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    timeoutMs: 0,
  });
  const p = res.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, offset: p.offset, timestamp: p.timestamp };
}

/** DeleteRecords v2 for one partition: the new low watermark, or the error code. */
export async function deleteRecordsBefore(client: RawKafkaClient, topic: string, partition: number, offset: bigint): Promise<{ errorCode: number; lowWatermark: bigint }> {
  const res = await client.request(21, 2, { topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset }] }], timeoutMs: 5000 });
  const p = res.topics[0]!.partitions[0]!;
  return { errorCode: p.errorCode, lowWatermark: p.lowWatermark };
}

/**
 * Waits until the broker behind `client` leads the partitions (a restarted cluster agent takes
 * its leases back within a few heartbeats). Probes with DeleteRecords to offset 0, which only
 * the leader accepts and which removes nothing.
 */
export async function waitUntilLeading(client: RawKafkaClient, topic: string, partitions: readonly number[], timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const partition of partitions) {
    for (;;) {
      const { errorCode } = await deleteRecordsBefore(client, topic, partition, 0n);
      if (errorCode === 0) break;
      if (errorCode !== 6 || Date.now() > until) throw new Error(`${topic}-${partition}: DeleteRecords probe answered error ${errorCode}`);
      await sleep(100);
    }
  }
}
