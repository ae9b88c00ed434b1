import { connect, type Socket } from 'node:net';
import type { Loose } from '../../../src/broker/handler.js';
import { decodeResponse, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../../../src/protocol/api-codec.js';

/**
 * A bare Kafka connection speaking through the project's own codec: one request at a time,
 * exactly the bytes a client of that version would send.
 */
export class RawKafkaClient {
  private buffered = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | undefined;
  private correlationId = 1;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.drain();
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(bootstrap: string, clientId = 'raw-client'): Promise<RawKafkaClient> {
    const [host, port] = bootstrap.split(':');
    const socket = connect({ host: host!, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawKafkaClient(socket);
    client.clientId = clientId;
    return client;
  }

  clientId = 'raw-client';

  get isClosed(): boolean {
    return this.closed;
  }

  private drain(): void {
    if (!this.waiting || this.buffered.length < 4) return;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return;
    const frame = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    const w = this.waiting;
    this.waiting = undefined;
    w(frame);
  }

  /** Fields left out (at any depth) are encoded with Kafka's defaults. */
  async request<K extends ApiKey>(apiKey: K, apiVersion: number, body: Loose<RequestOf<K>>, timeoutMs = 15_000): Promise<ResponseOf<K>> {
    const correlationId = this.correlationId++;
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to API ${apiKey} v${apiVersion} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.socket.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body));
      this.drain();
    });
    const decoded = decodeResponse(apiKey, apiVersion, frame);
    if (decoded.correlationId !== correlationId) throw new Error(`correlation id ${decoded.correlationId}, expected ${correlationId}`);
    return decoded.body;
  }

  close(): void {
    this.socket.destroy();
  }
}
