import { compressionsAlgorithms, Consumer, FetchIsolationLevels, Producer, ProduceAcks, type CompressionAlgorithmValue } from '@platformatic/kafka';
import { compress, decompress, CompressionType, snappyDecompress } from '../../src/protocol/records/compression.js';
import type { Codec, PlannedRecord, ReadRecord } from './matrix-layout.js';

/**
 * Two gaps in @platformatic/kafka 1.x on this machine, filled through its exported codec table
 * (the objects its record reader and writer look codecs up in):
 *  - zstd goes through node:zlib's zstd functions, which Node 20 does not have (22.15+), so
 *    the codec is marked unavailable; we back it with StreamHouse's zstd.
 *  - its snappy decoder (wasm) only understands raw snappy blocks, not the xerial framing the
 *    Java client, kafka-python and kafkajs-style snappy codecs write; raw blocks still go to
 *    its own decoder, xerial-framed data to ours.
 */
export function patchPlatformaticCodecs(): void {
  const zstd = compressionsAlgorithms.zstd as unknown as { compressSync: (d: Buffer) => Buffer; decompressSync: (d: Buffer) => Buffer; available: boolean };
  zstd.compressSync = (d) => compress(CompressionType.Zstd, d);
  zstd.decompressSync = (d) => decompress(CompressionType.Zstd, d);
  zstd.available = true;
  const snappy = compressionsAlgorithms.snappy as unknown as { decompressSync: (d: Buffer) => Buffer };
  const ownSnappy = snappy.decompressSync.bind(snappy);
  snappy.decompressSync = (d) => (isXerial(d) ? snappyDecompress(d) : ownSnappy(d));
}

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
function isXerial(d: Buffer): boolean {
  return d.length >= 16 && d.subarray(0, 8).equals(XERIAL_MAGIC);
}

export interface PlatformaticPartitionAck {
  partition: number;
  offset: string;
}

/** One Producer.send of all records (one batch per partition) with the given codec, acks=all, not idempotent. */
export async function platformaticProduce(bootstrap: string, topic: string, codec: Codec, records: PlannedRecord[]): Promise<PlatformaticPartitionAck[]> {
  const producer = new Producer({ clientId: 'streamhouse-compat-platformatic', bootstrapBrokers: [bootstrap], retries: 2, autocreateTopics: false });
  try {
    const result = await producer.send({
      acks: ProduceAcks.ALL,
      compression: codec as CompressionAlgorithmValue,
      messages: records.map((r) => ({
        topic,
        partition: r.partition,
        key: r.key,
        value: r.value,
        // its writer encodes a null header value as length -1
        headers: new Map<Buffer, Buffer>(r.headers.map(([k, v]) => [Buffer.from(k), v as Buffer])),
        timestamp: BigInt(r.timestamp!),
      })),
    });
    return (result.offsets ?? []).map((o) => ({ partition: o.partition, offset: String(o.offset) })).sort((a, b) => a.partition - b.partition);
  } finally {
    await producer.close();
  }
}

/**
 * Its Consumer.consume() always joins a consumer group, which StreamHouse does not offer yet;
 * Consumer.fetch() is its public group-less path (one Fetch to a given node, records decoded),
 * and Consumer.listOffsets() gives the high watermarks. The groupId is required by the
 * constructor but no group request is ever sent.
 */
export async function platformaticRead(bootstrap: string, topics: string[]): Promise<ReadRecord[]> {
  const consumer = new Consumer({ clientId: 'streamhouse-compat-platformatic', groupId: 'unused-no-group-apis', bootstrapBrokers: [bootstrap], retries: 2, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
  const out: ReadRecord[] = [];
  try {
    const metadata = await consumer.metadata({ topics });
    const ends = await consumer.listOffsets({ topics, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED });
    for (const topic of topics) {
      const info = metadata.topics.get(topic)!;
      for (let partition = 0; partition < info.partitionsCount; partition++) {
        const end = ends.get(topic)![partition]!;
        let next = 0n;
        while (next < end) {
          const res = await consumer.fetch({
            node: info.partitions[partition]!.leader,
            // Fetch v13+ names the topic by its id (v12 wrote this field as the topic name)
            topics: [{ topicId: info.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: 16 * 1024 * 1024 }] }],
            maxWaitTime: 0,
            minBytes: 0,
            isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          });
          const p = res.responses[0]!.partitions[0]!;
          if (p.errorCode !== 0) throw new Error(`platformatic fetch ${topic}-${partition}: error ${p.errorCode}`);
          const before = next;
          for (const batch of p.records ?? []) {
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < next) continue;
              out.push({
                topic,
                partition,
                offset: Number(offset),
                timestamp: Number(batch.firstTimestamp + r.timestampDelta),
                key: r.key === null ? null : r.key.toString('base64'),
                value: r.value === null ? null : r.value.toString('base64'),
                headers: r.headers.map(([k, v]) => [k === null ? '' : k.toString('utf8'), v === null ? null : v.toString('base64')]),
              });
              next = offset + 1n;
            }
          }
          if (next === before) throw new Error(`platformatic fetch ${topic}-${partition}@${next}: nothing below the end offset ${end}`);
        }
      }
    }
  } finally {
    await consumer.close();
  }
  return out;
}
