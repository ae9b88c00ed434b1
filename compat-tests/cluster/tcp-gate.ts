import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP relay that can be shut like a gate: while closed it cuts every relayed
 * connection and refuses new ones at once, as if the server behind it were down (a
 * connection refused), and opening it lets clients reconnect. For protocols that are not
 * Kafka (PostgreSQL here); test-kit/fault-proxy.ts speaks Kafka frames.
 */
export class TcpGate {
  private readonly pairs = new Set<[Socket, Socket]>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpGate> {
    let gate: TcpGate | undefined;
    const server = createServer((client) => gate?.accept(client, targetHost, targetPort));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : 0);
      });
    });
    gate = new TcpGate(server, port);
    return gate;
  }

  /** Cuts every relayed connection; new ones are dropped until open(). */
  shut(): void {
    this.closed = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  open(): void {
    this.closed = false;
  }

  async stop(): Promise<void> {
    this.shut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.closed) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
