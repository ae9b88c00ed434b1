import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ReadinessReport } from '../agent/readiness.js';

export interface HealthSource {
  /** Whether the agent can serve now: its stores answer, its listeners are up, its cluster view is current. */
  ready(): Promise<ReadinessReport>;
  /** Details for /health (never secrets). */
  describe(): Record<string, unknown>;
}

/** /health, /ready and /metrics; the REST API and console come later. */
export class HttpServer {
  private server: Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly health: HealthSource,
  ) {}

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return addr && typeof addr === 'object' ? addr.port : port;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...this.health.describe() }));
    } else if (path === '/ready') {
      // 200 when the agent can serve; 503 naming what is not ready
      const report = await this.health.ready();
      res.writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(report));
    } else if (path === '/metrics') {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${path}` }));
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
