import { createServer, type Server, type Socket } from 'node:net';
import type { AgentCore } from '../agent/agent-core.js';
import type { HandlerRegistry } from './handler-registry.js';
import { Connection } from './connection.js';
import type { HostPort } from '../agent/config/broker-config.js';

/** The Kafka TCP listener. */
export class KafkaServer {
  private server: Server | undefined;
  private closing: Promise<void> | undefined;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly services: AgentCore,
    private readonly registry: HandlerRegistry,
  ) {}

  async listen(listener: HostPort): Promise<HostPort> {
    const server = createServer((socket: Socket) => {
      const conn = new Connection(socket, this.services, this.registry);
      this.connections.add(conn);
      socket.on('close', () => this.connections.delete(conn));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listener.port, listener.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') return { host: addr.address, port: addr.port };
    return listener;
  }

  /** True while the listener takes new connections (after listen(), before stopAccepting()). */
  get accepting(): boolean {
    return this.server?.listening === true && this.closing === undefined;
  }

  /** Stops accepting new connections; existing ones keep being served. */
  stopAccepting(): void {
    // close() stops listening at once; its callback waits for every client to leave, which
    // is close()'s business, not this one's (a draining agent must not wait for clients).
    if (this.server && !this.closing) this.closing = new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const c of this.connections) c.close();
    await this.closing;
  }
}
