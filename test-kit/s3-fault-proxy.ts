// An HTTP proxy in front of an S3 endpoint (s3rver) that injects faults by rule: error
// responses (500, 503 SlowDown…), added latency, connections dropped before the request
// is forwarded, responses lost after the upstream did the work, and truncated bodies.
// Clients sign requests for the proxy's Host; the proxy forwards the Host header as is,
// so SigV4 signatures still verify upstream.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction =
  /** Answer with an S3 XML error; the request never reaches the upstream. */
  | { kind: 'error'; status: number; code: string; message?: string }
  /** Wait, then forward normally. */
  | { kind: 'delay'; ms: number }
  /** Cut the client connection without forwarding anything. */
  | { kind: 'drop' }
  /** Forward, let the upstream finish (a PUT is stored), then cut the client connection. */
  | { kind: 'lose-response' }
  /** Forward, send the status, headers and the first `bytes` of the body, then cut. */
  | { kind: 'truncate'; bytes: number };

export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Matched against the decoded path, `/bucket/key` (a string matches as a substring). */
  path?: RegExp | string;
  /** How many matching requests to hit; every one when absent. */
  times?: number;
  action: FaultAction;
}

export interface FaultRuleHandle {
  /** Requests this rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

export interface ProxiedRequest {
  method: string;
  /** Decoded path, `/bucket/key`. */
  path: string;
  /** The fault applied, if any. */
  fault?: FaultAction['kind'];
  /** Status the client received (undefined if the connection was cut first). */
  status?: number;
}

export interface S3FaultProxyOptions {
  /** e.g. http://127.0.0.1:4568 */
  upstream: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /**
   * Enforce `If-None-Match: *` on PUT like AWS S3 does (412 PreconditionFailed when the
   * key exists), for upstreams such as s3rver that ignore it. Checked with an unsigned
   * HEAD (s3rver allows anonymous access) and serialised per key.
   */
  enforceIfNoneMatch?: boolean;
}

export interface S3FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** Every request seen, in arrival order. */
  readonly requests: ProxiedRequest[];
  /** Rules are tried in the order added; the first that matches applies. */
  addRule(rule: FaultRule): FaultRuleHandle;
  clearRules(): void;
  close(): Promise<void>;
}

interface ActiveRule {
  rule: FaultRule;
  hits: number;
}

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

// Hop-by-hop headers describe one connection, not the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

/** Reads and discards the rest of a request body. */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  req.resume();
  await new Promise<void>((r) => {
    req.once('end', r);
    req.once('close', r);
  });
}

function decodedPath(url: string): string {
  const path = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export async function startS3FaultProxy(options: S3FaultProxyOptions): Promise<S3FaultProxy> {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  const requests: ProxiedRequest[] = [];
  const keyLocks = new Map<string, Promise<void>>();

  const match = (req: IncomingMessage, path: string): ActiveRule | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (rule.times !== undefined && active.hits >= rule.times) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) continue;
      if (rule.path !== undefined) {
        const ok = typeof rule.path === 'string' ? path.includes(rule.path) : rule.path.test(path);
        if (!ok) continue;
      }
      active.hits += 1;
      return active;
    }
    return undefined;
  };

  const upstreamRequest = (req: IncomingMessage, method = req.method, body = true): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method,
          path: body ? req.url : (req.url ?? '/').split('?')[0],
          headers: body ? endToEnd(req.headers) : { host: req.headers.host ?? '' },
          agent,
        },
        resolve,
      );
      out.on('error', reject);
      if (body) req.pipe(out);
      else out.end();
    });

  const forward = async (req: IncomingMessage, res: ServerResponse, entry: ProxiedRequest, action?: FaultAction): Promise<void> => {
    const up = await upstreamRequest(req);
    if (action?.kind === 'lose-response') {
      // Drain the upstream answer so the work is surely done, then vanish.
      for await (const _ of up) void _;
      req.socket.destroy();
      return;
    }
    entry.status = up.statusCode;
    res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
    if (action?.kind === 'truncate') {
      let sent = 0;
      for await (const chunk of up) {
        const buf = chunk as Buffer;
        const take = Math.min(buf.length, action.bytes - sent);
        if (take > 0) res.write(buf.subarray(0, take));
        sent += take;
        if (sent >= action.bytes) break;
      }
      up.destroy();
      // Let the partial body reach the client before the cut.
      await new Promise<void>((r) => res.write('', () => r()));
      req.socket.destroy();
      return;
    }
    up.pipe(res);
    await new Promise<void>((r) => res.on('close', r));
  };

  const withKeyLock = async (path: string, fn: () => Promise<void>): Promise<void> => {
    const previous = keyLocks.get(path) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    keyLocks.set(path, tail);
    await previous;
    try {
      await fn();
    } finally {
      release();
      if (keyLocks.get(path) === tail) keyLocks.delete(path);
    }
  };

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodedPath(req.url ?? '/');
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path };
    requests.push(entry);
    const active = match(req, path);
    const action = active?.rule.action;
    if (action !== undefined) entry.fault = action.kind;
    switch (action?.kind) {
      case 'error': {
        const body = xmlError(action.code, action.message ?? `injected ${action.code}`);
        entry.status = action.status;
        // Drain the request first so the client is not cut off mid-upload.
        await drain(req);
        res.writeHead(action.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'drop':
        req.socket.destroy();
        return;
      case 'delay':
        await sleep(action.ms);
        if (req.socket.destroyed) return;
        break;
      default:
        break;
    }
    const conditional =
      options.enforceIfNoneMatch === true &&
      req.method === 'PUT' &&
      req.headers['if-none-match'] === '*' &&
      !/[?&](uploadId|partNumber)=/.test(req.url ?? '');
    if (!conditional) return forward(req, res, entry, action);
    await withKeyLock(path, async () => {
      const head = await upstreamRequest(req, 'HEAD', false);
      head.resume();
      if (head.statusCode === 200) {
        const body = xmlError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        entry.status = 412;
        await drain(req);
        res.writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      await forward(req, res, entry, action);
    });
  };

  const server = createServer((req, res) => {
    handleRequest(req, res).catch(() => {
      // Upstream unreachable or the client went away: cut the connection.
      req.socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    addRule(rule) {
      const active: ActiveRule = { rule, hits: 0 };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        remove() {
          const i = rules.indexOf(active);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    clearRules() {
      rules.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
