import type { Loose } from '../src/broker/handler.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { decodeResponse, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../src/protocol/api-codec.js';
import { readBatchHeader, LOG_OVERHEAD, type BatchHeader } from '../src/protocol/records/record-batch.js';
import { decodeRecords, type DecodedRecord } from '../src/protocol/records/record-codec.js';

/**
 * The test kit's Kafka client on our own protocol codec (and frame decoder): one socket, any
 * number of requests in flight, answered in order. Tests use it to send exactly the bytes a
 * client of some version would send (fields left out take Kafka's defaults), to see exactly
 * what the broker stored, to pipeline requests and to send byte-identical requests twice.
 */
export class RawKafkaClient {
  private readonly decoder = new FrameDecoder(1 << 30);
  private readonly waiting: Array<{ resolve: (frame: Buffer) => void; reject: (e: Error) => void }> = [];
  private nextCorrelationId = 1;
  private failure: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.waiting.shift()?.resolve(frame);
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => {
      this.closed = true;
      fail(new Error('connection closed by broker'));
    });
  }

  private closed = false;
  clientId = 'streamhouse-raw';

  /** `connect('127.0.0.1', 9092)` or `connect('127.0.0.1:9092')`. */
  static connect(host: string, port?: number, clientId?: string): Promise<RawKafkaClient> {
    let target = { host, port: port ?? 0 };
    if (port === undefined) {
      const colon = host.lastIndexOf(':');
      target = { host: host.slice(0, colon), port: Number(host.slice(colon + 1)) };
    }
    return new Promise((resolve, reject) => {
      const socket = connect(target);
      socket.once('connect', () => {
        const client = new RawKafkaClient(socket);
        if (clientId !== undefined) client.clientId = clientId;
        resolve(client);
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Encodes a request (fresh correlation id), sends it and decodes the response. */
  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: Loose<RequestOf<K>>, timeoutMs = 30_000): Promise<ResponseOf<K>> {
    const correlationId = this.nextCorrelationId++;
    let timer: NodeJS.Timeout | undefined;
    const frame = await Promise.race([
      this.sendFrame(encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to API ${apiKey} v${apiVersion} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const decoded = decodeResponse(apiKey, apiVersion, frame);
    if (decoded.correlationId !== correlationId) throw new Error(`correlation id ${decoded.correlationId}, expected ${correlationId}`);
    return decoded.body;
  }

  /** Sends an already encoded, size-prefixed request and resolves with the response frame (no size prefix). */
  sendFrame(frame: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Sends several encoded requests in one socket write (pipelined); resolves with their response frames in order. */
  sendFrames(frames: readonly Buffer[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const answers = frames.map(() => new Promise<Buffer>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.socket.write(Buffer.concat(frames));
    return Promise.all(answers);
  }

  close(): void {
    this.socket.destroy();
  }
}

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
