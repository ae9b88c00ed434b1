import { connect, type Socket } from 'node:net';

/** The idempotence fields of one stored record batch. */
export interface BatchHeader {
  baseOffset: number;
  lastOffset: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
}

/** A batch as the broker serves it, with its exact bytes. */
export interface StoredBatch extends BatchHeader {
  bytes: Buffer;
}

const FETCH_API_KEY = 1;
const FETCH_VERSION = 4;
// record batch v2 header field positions
const LAST_OFFSET_DELTA = 23;
const PRODUCER_ID = 43;
const PRODUCER_EPOCH = 51;
const BASE_SEQUENCE = 53;
const BATCH_HEADER_SIZE = 61;

/** One request/response at a time over a plain socket (responses come back in order). */
class RawConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | undefined;
  private failure: Error | undefined;
  private correlationId = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.deliver();
    });
    socket.on('error', (err) => (this.failure = err));
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  private deliver(): void {
    if (!this.waiting || this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting(frame);
  }

  request(apiKey: number, apiVersion: number, body: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const clientId = Buffer.from('batch-headers');
    const header = Buffer.alloc(10);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(++this.correlationId, 4);
    header.writeInt16BE(clientId.length, 8);
    const size = Buffer.alloc(4);
    size.writeInt32BE(header.length + clientId.length + body.length);
    const expected = this.correlationId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no Fetch response within 15 s')), 15_000);
      this.waiting = (frame) => {
        clearTimeout(timer);
        if (frame.readInt32BE(0) !== expected) reject(new Error(`response for correlation id ${frame.readInt32BE(0)}, expected ${expected}`));
        else resolve(frame.subarray(4));
      };
      this.socket.write(Buffer.concat([size, header, clientId, body]));
      this.deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function fetchBody(topic: string, partition: number, offset: number): Buffer {
  const name = Buffer.from(topic);
  const body = Buffer.alloc(4 + 4 + 4 + 4 + 1 + 4 + 2 + name.length + 4 + 4 + 8 + 4);
  let pos = 0;
  pos = body.writeInt32BE(-1, pos); // replica id
  pos = body.writeInt32BE(0, pos); // max wait
  pos = body.writeInt32BE(1, pos); // min bytes
  pos = body.writeInt32BE(4 * 1024 * 1024, pos); // max bytes
  pos = body.writeInt8(0, pos); // read uncommitted
  pos = body.writeInt32BE(1, pos); // one topic
  pos = body.writeInt16BE(name.length, pos);
  pos += name.copy(body, pos);
  pos = body.writeInt32BE(1, pos); // one partition
  pos = body.writeInt32BE(partition, pos);
  pos = body.writeBigInt64BE(BigInt(offset), pos);
  body.writeInt32BE(1024 * 1024, pos); // partition max bytes
  return body;
}

/** Fetch v4 response for one topic and one partition: its high watermark and record bytes. */
function parseFetch(body: Buffer): { errorCode: number; highWatermark: number; records: Buffer } {
  let pos = 4; // throttle time
  if (body.readInt32BE(pos) !== 1) throw new Error('expected one topic in the Fetch response');
  pos += 4;
  pos += 2 + body.readInt16BE(pos); // topic name
  if (body.readInt32BE(pos) !== 1) throw new Error('expected one partition in the Fetch response');
  pos += 4;
  pos += 4; // partition index
  const errorCode = body.readInt16BE(pos);
  pos += 2;
  const highWatermark = Number(body.readBigInt64BE(pos));
  pos += 8 + 8; // high watermark, last stable offset
  const aborted = body.readInt32BE(pos);
  pos += 4 + Math.max(0, aborted) * 16;
  const size = body.readInt32BE(pos);
  pos += 4;
  return { errorCode, highWatermark, records: size < 0 ? Buffer.alloc(0) : body.subarray(pos, pos + size) };
}

/**
 * Every batch of one partition from the one holding `fromOffset` to the high watermark,
 * read with plain Fetch v4 requests (the consumer clients show neither producer ids,
 * epochs and sequences nor the bytes as stored).
 */
export async function readBatches(bootstrap: string, topic: string, partition: number, fromOffset = 0): Promise<StoredBatch[]> {
  const [host, port] = bootstrap.split(':') as [string, string];
  const conn = await RawConnection.open(host, Number(port));
  try {
    const out: StoredBatch[] = [];
    let next = fromOffset;
    for (;;) {
      const res = parseFetch(await conn.request(FETCH_API_KEY, FETCH_VERSION, fetchBody(topic, partition, next)));
      if (res.errorCode !== 0) throw new Error(`Fetch ${topic}-${partition} at ${next}: error ${res.errorCode}`);
      if (next >= res.highWatermark) return out;
      let pos = 0;
      const before = next;
      while (pos + BATCH_HEADER_SIZE <= res.records.length) {
        const size = 12 + res.records.readInt32BE(pos + 8);
        if (pos + size > res.records.length) break; // cut off by the size limit: fetch it next time
        const batch = res.records.subarray(pos, pos + size);
        const baseOffset = Number(batch.readBigInt64BE(0));
        const lastOffset = baseOffset + batch.readInt32BE(LAST_OFFSET_DELTA);
        if (lastOffset >= next) {
          out.push({
            baseOffset,
            lastOffset,
            producerId: batch.readBigInt64BE(PRODUCER_ID),
            producerEpoch: batch.readInt16BE(PRODUCER_EPOCH),
            baseSequence: batch.readInt32BE(BASE_SEQUENCE),
            bytes: Buffer.from(batch),
          });
          next = lastOffset + 1;
        }
        pos += size;
      }
      if (next === before) throw new Error(`Fetch ${topic}-${partition} at ${next} returned no whole batch below the high watermark ${res.highWatermark}`);
    }
  } finally {
    conn.close();
  }
}
