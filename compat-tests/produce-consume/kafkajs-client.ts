import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type IHeaders } from 'kafkajs';
import { compress, decompress, CompressionType } from '../../src/protocol/records/compression.js';
import { CODEC_ID, type Codec, type PlannedRecord, type ReadRecord } from './matrix-layout.js';

/**
 * kafkajs ships only gzip; users plug other codecs into its CompressionCodecs table. We plug
 * in StreamHouse's own codecs (snappy in the xerial framing the Java client writes, LZ4 frame,
 * zstd), the same way a kafkajs user would plug in kafkajs-snappy or similar packages.
 */
export function registerKafkajsCodecs(): void {
  const codec = (type: CompressionType) => () => ({
    compress: async (encoder: { buffer: Buffer }) => compress(type, encoder.buffer),
    decompress: async (buffer: Buffer) => decompress(type, buffer),
  });
  CompressionCodecs[CompressionTypes.Snappy] = codec(CompressionType.Snappy);
  CompressionCodecs[CompressionTypes.LZ4] = codec(CompressionType.Lz4);
  CompressionCodecs[CompressionTypes.ZSTD] = codec(CompressionType.Zstd);
}

function newKafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'streamhouse-compat-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
}

export interface KafkajsPartitionAck {
  partition: number;
  errorCode: number;
  baseOffset: string;
}

/** One producer.send of all records (one batch per partition) with the given codec. */
export async function kafkajsProduce(bootstrap: string, topic: string, codec: Codec, records: PlannedRecord[]): Promise<KafkajsPartitionAck[]> {
  const producer = newKafka(bootstrap).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const acks = await producer.send({
      topic,
      acks: -1,
      compression: CODEC_ID[codec] as CompressionTypes,
      messages: records.map((r) => {
        // kafkajs writes a null header value as length -1; its types only admit Buffer | string
        const headers = Object.fromEntries(r.headers.map(([k, v]) => [k, v])) as unknown as IHeaders;
        return { partition: r.partition, key: r.key, value: r.value, headers, timestamp: String(r.timestamp) };
      }),
    });
    return acks.map((a) => ({ partition: a.partition, errorCode: a.errorCode, baseOffset: a.baseOffset! })).sort((a, b) => a.partition - b.partition);
  } finally {
    await producer.disconnect();
  }
}

interface KafkajsFetchedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
}

interface KafkajsBroker {
  fetch(request: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: Array<{ partition: number; errorCode: number; highWatermark: string; messages: KafkajsFetchedMessage[] }> }> }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addMultipleTargetTopics(topics: string[]): Promise<void>;
  findBroker(node: { nodeId: string | number }): Promise<KafkajsBroker>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>;
}

/**
 * kafkajs has no consumer without a consumer group, and StreamHouse has no group APIs yet, so
 * this reads with kafkajs's own cluster and broker objects (the code its consumer runs for each
 * fetch): metadata, then Fetch requests from offset 0 to the high watermark, decoded by kafkajs.
 */
export async function kafkajsRead(bootstrap: string, topics: string[]): Promise<ReadRecord[]> {
  const kafka = newKafka(bootstrap);
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!createCluster) throw new Error('kafkajs internals changed: no private:Kafka:createCluster');
  const cluster = (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[createCluster]!({ allowAutoTopicCreation: false, isolationLevel: 0 });
  await cluster.connect();
  const out: ReadRecord[] = [];
  try {
    await cluster.addMultipleTargetTopics(topics);
    for (const topic of topics) {
      for (const { partitionId, leader } of cluster.findTopicPartitionMetadata(topic)) {
        const broker = await cluster.findBroker({ nodeId: String(leader) });
        let next = 0n;
        for (;;) {
          const res = await broker.fetch({
            replicaId: -1,
            isolationLevel: 0,
            maxWaitTime: 0,
            minBytes: 0,
            maxBytes: 16 * 1024 * 1024,
            topics: [{ topic, partitions: [{ partition: partitionId, fetchOffset: String(next), maxBytes: 16 * 1024 * 1024 }] }],
          });
          const p = res.responses[0]!.partitions[0]!;
          if (p.errorCode !== 0) throw new Error(`kafkajs fetch ${topic}-${partitionId}: error ${p.errorCode}`);
          for (const m of p.messages) {
            if (BigInt(m.offset) < next) continue; // kafkajs returns whole batches
            out.push({
              topic,
              partition: partitionId,
              offset: Number(m.offset),
              timestamp: Number(m.timestamp),
              key: m.key === null ? null : m.key.toString('base64'),
              value: m.value === null ? null : m.value.toString('base64'),
              headers: Object.entries(m.headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string | null] => [k, x === null ? null : x.toString('base64')])),
            });
            next = BigInt(m.offset) + 1n;
          }
          if (next >= BigInt(p.highWatermark)) break;
          if (p.messages.length === 0) throw new Error(`kafkajs fetch ${topic}-${partitionId}@${next}: nothing below high watermark ${p.highWatermark}`);
        }
      }
    }
  } finally {
    await cluster.disconnect();
  }
  return out;
}
