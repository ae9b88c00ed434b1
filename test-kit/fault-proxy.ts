import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between Kafka clients and a broker that can lose responses on purpose.
 *
 * Bytes flow both ways unchanged. Client->broker bytes are forwarded as they arrive and also
 * split into frames, so the proxy knows each request's api key, version and correlation id.
 * Broker->client bytes are forwarded one whole frame at a time: a response matched by a drop
 * rule is swallowed, and then the connection is cut, as if the network failed after the
 * broker had done the work. Clients reach the broker only through the proxy if the broker
 * advertises the proxy's address (`--advertised-listener`).
 */

export interface ProxiedRequest {
  /** 1-based id of the client connection, in accept order. */
  connection: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Frame size without the 4-byte length prefix. */
  size: number;
  /** 1-based count of requests with this api key across all connections, this one included. */
  nthOfApi: number;
  /** The whole request frame (with its length prefix), if the proxy was started with keepFrames. */
  frame?: Buffer;
}

export interface DroppedResponse {
  request: ProxiedRequest;
  /** The response frame the client never saw (without its length prefix). */
  response: Buffer;
}

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
  listenHost?: string;
  /** 0 (default) picks a free port. */
  listenPort?: number;
  /** Keep a copy of every request frame in `requests` (for tests that decode what was sent). */
  keepFrames?: boolean;
}

interface DropRule {
  apiKey: number;
  nth: number;
  cut: boolean;
  resolve: (d: DroppedResponse) => void;
}

/** Accumulates a byte stream and hands back complete size-prefixed frames (prefix included). */
class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Buffer[] = [];
    while (this.buf.length >= 4) {
      const size = this.buf.readInt32BE(0);
      if (size < 0) throw new Error(`negative frame size ${size}`);
      if (this.buf.length < 4 + size) break;
      frames.push(this.buf.subarray(0, 4 + size));
      this.buf = this.buf.subarray(4 + size);
    }
    return frames;
  }
}

export class FaultProxy {
  /** Every request seen on the client->broker direction, in arrival order. */
  readonly requests: ProxiedRequest[] = [];
  /** Every response the proxy swallowed. */
  readonly dropped: DroppedResponse[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly counts = new Map<number, number>();
  private readonly rules: DropRule[] = [];
  private connections = 0;
  readonly host: string;
  readonly port: number;

  private constructor(server: Server, host: string, port: number, private readonly options: FaultProxyOptions) {
    this.server = server;
    this.host = host;
    this.port = port;
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const host = options.listenHost ?? '127.0.0.1';
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
    const proxy = new FaultProxy(server, host, port, options);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** host:port for clients (and for the broker's advertised listener). */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** How many requests with this api key went through so far. */
  countOf(apiKey: number): number {
    return this.counts.get(apiKey) ?? 0;
  }

  /**
   * Swallows the response to the `nth` (1-based, counted over the proxy's lifetime) request
   * with `apiKey`; with `cut` (default) the client and broker sockets of that connection are
   * then destroyed. Resolves once the response has been dropped.
   */
  dropResponse(apiKey: number, nth: number, options: { cut?: boolean } = {}): Promise<DroppedResponse> {
    if (!Number.isInteger(nth) || nth < 1) throw new RangeError(`nth must be a positive integer, got ${nth}`);
    if (nth <= this.countOf(apiKey)) throw new Error(`request #${nth} of api ${apiKey} already went through`);
    return new Promise((resolve) => this.rules.push({ apiKey, nth, cut: options.cut ?? true, resolve }));
  }

  /** Stops accepting and destroys every open connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const connection = ++this.connections;
    const upstream = connect(this.options.targetPort, this.options.targetHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // correlation id -> request, for responses on this connection
    const inFlight = new Map<number, { request: ProxiedRequest; rule: DropRule | undefined }>();
    const requestFrames = new FrameSplitter();
    const responseFrames = new FrameSplitter();
    let cut = false;

    const teardown = () => {
      cut = true;
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);

    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      let frames: Buffer[];
      try {
        frames = requestFrames.push(chunk);
      } catch {
        teardown();
        return;
      }
      for (const frame of frames) {
        if (frame.length < 12) continue; // too short for a header: the broker will deal with it
        const apiKey = frame.readInt16BE(4);
        const nthOfApi = (this.counts.get(apiKey) ?? 0) + 1;
        this.counts.set(apiKey, nthOfApi);
        const request: ProxiedRequest = { connection, apiKey, apiVersion: frame.readInt16BE(6), correlationId: frame.readInt32BE(8), size: frame.length - 4, nthOfApi };
        if (this.options.keepFrames) request.frame = Buffer.from(frame);
        this.requests.push(request);
        const ruleAt = this.rules.findIndex((r) => r.apiKey === apiKey && r.nth === nthOfApi);
        const rule = ruleAt >= 0 ? this.rules.splice(ruleAt, 1)[0] : undefined;
        inFlight.set(request.correlationId, { request, rule });
      }
      upstream.write(chunk);
    });

    upstream.on('data', (chunk: Buffer) => {
      if (cut) return;
      let frames: Buffer[];
      try {
        frames = responseFrames.push(chunk);
      } catch {
        teardown();
        return;
      }
      for (const frame of frames) {
        const correlationId = frame.length >= 8 ? frame.readInt32BE(4) : -1;
        const entry = inFlight.get(correlationId);
        inFlight.delete(correlationId);
        if (entry?.rule) {
          const dropped = { request: entry.request, response: Buffer.from(frame.subarray(4)) };
          this.dropped.push(dropped);
          entry.rule.resolve(dropped);
          if (entry.rule.cut) {
            teardown();
            return;
          }
          continue;
        }
        client.write(frame);
      }
    });
  }
}
