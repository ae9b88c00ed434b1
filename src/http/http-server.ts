// The HTTP door: /health, /ready and /metrics for operators, the REST API under /api/v1 (its
// OpenAPI document at /api/v1/openapi.json), and the web console at / (static files built
// into dist/console, a client of the REST API only). Built on fastify: routes declare JSON
// schemas, fastify validates requests against them, @fastify/swagger describes them.

import { existsSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AgentCore } from '../agent/agent-core.js';
import type { ReadinessReport } from '../agent/readiness.js';
import type { DoorAuthenticator } from '../agent/security/door-authenticator.js';
import type { TlsFiles, TlsMaterial } from '../agent/security/tls-files.js';
import type { SslClientAuth } from '../agent/config/security-config.js';
import { MetadataStoreError } from '../metadata/metadata-store.js';
import { StorageError } from '../storage/storage-errors.js';
import { VERSION } from '../version.js';
import { fromKafkaError, HttpError, kafkaCodeOf } from './http-errors.js';
import { authenticateRequests } from './http-security.js';
import { clusterRoutes } from './routes/cluster.js';
import { groupRoutes } from './routes/groups.js';
import { produceRoutes } from './routes/produce.js';
import { recordRoutes } from './routes/records.js';
import { topicRoutes } from './routes/topics.js';
import { ThroughputSampler } from './throughput-sampler.js';

export interface HealthSource {
  /** Whether the agent can serve now: its stores answer, its listeners are up, its cluster view is current. */
  ready(): Promise<ReadinessReport>;
  /** Details for /health (never secrets). */
  describe(): Record<string, unknown>;
}

export interface HttpServerOptions {
  readonly core: AgentCore;
  readonly health: HealthSource;
  /** Largest request body accepted (413 above); default 16 MiB. */
  readonly bodyLimitBytes?: number;
  /** Where the built console is; default dist/console beside this module's folder. */
  readonly consoleDir?: string;
  /** Throughput sample interval for the console's charts; default 2000 ms. */
  readonly sampleIntervalMs?: number;
  /** Who REST requests are (absent: everyone ANONYMOUS). */
  readonly authenticator?: DoorAuthenticator;
  /** HTTPS with these files (reloaded: new connections get new material). */
  readonly tls?: TlsFiles;
}

function httpsOptions(m: TlsMaterial, clientAuth: SslClientAuth) {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.passphrase !== undefined ? { passphrase: m.passphrase } : {}),
    // ssl.client.auth as on the Kafka listeners: a certificate is asked for, or required
    ...(clientAuth !== 'none' && m.ca ? { ca: m.ca, requestCert: true, rejectUnauthorized: clientAuth === 'required' } : {}),
  };
}

export const DEFAULT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
/** The route label of HTTP requests no route matched (404s). */
export const UNMATCHED_ROUTE = 'unmatched';
export const API_PREFIX = '/api/v1';

const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

/** The JSON error answer for anything a route or fastify threw. */
function errorAnswer(err: FastifyError | Error, logger: Logger, bodyLimit: number): HttpError {
  if (err instanceof HttpError) return err;
  const kafka = kafkaCodeOf(err);
  if (kafka !== undefined) return fromKafkaError(kafka, err.message);
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return new HttpError(400, 'INVALID_REQUEST', err.message);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'REQUEST_TOO_LARGE', `request body is larger than ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'INVALID_JSON', 'the body is empty; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) return new HttpError(400, 'INVALID_JSON', 'the body is not valid JSON');
  if (err instanceof MetadataStoreError) {
    logger.warn({ err }, 'REST request failed: metadata store');
    return new HttpError(503, 'METADATA_STORE_UNAVAILABLE', 'the metadata store did not answer; try again');
  }
  if (err instanceof StorageError) {
    logger.warn({ err }, 'REST request failed: object store');
    return new HttpError(503, 'OBJECT_STORE_UNAVAILABLE', 'the object store did not answer; try again');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new HttpError(fe.statusCode, 'INVALID_REQUEST', err.message);
  logger.error({ err }, 'REST request failed');
  return new HttpError(500, 'INTERNAL_ERROR', 'the request failed inside the agent; the agent log has the details');
}

export class HttpServer {
  private readonly app: FastifyInstance;
  private readonly sampler: ThroughputSampler;
  private readonly ready: Promise<void>;

  constructor(
    private readonly registry: Registry,
    options: HttpServerOptions,
  ) {
    const { core } = options;
    const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
    this.sampler = new ThroughputSampler(registry, options.sampleIntervalMs ?? 2000, core.logger);
    // no type coercion: a string where a number belongs is a 400, not a guess
    const tls = options.tls;
    let https: HttpsServer | undefined;
    this.app = Fastify({
      bodyLimit,
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
      // HTTPS through a server we create, so that reloaded files can replace its context
      ...(tls ? { serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) => (https = createHttpsServer(httpsOptions(tls.material, tls.config.clientAuth), handler)) as unknown as import('node:http').Server } : {}),
    });
    if (tls) tls.onChange((m) => https?.setSecureContext(httpsOptions(m, tls.config.clientAuth)));
    // JSON only: a text/plain body is a 415, not a string the schemas then reject
    this.app.removeContentTypeParser('text/plain');
    // the error_code of each JSON error answer, for the metrics hook below
    const errorCodes = new WeakMap<object, string>();
    this.app.setErrorHandler((err: FastifyError, req, reply) => {
      const answer = errorAnswer(err, core.logger, bodyLimit);
      errorCodes.set(req.raw, answer.errorCode);
      // Answered before the body was read. Fastify asks to close the connection, but closing
      // with unread data resets it, and the reset can discard this answer before the client
      // reads it (fetch reports EPIPE): keep it open, and Node reads and drops the rest.
      if (answer.statusCode === 413) void reply.removeHeader('connection');
      void reply.code(answer.statusCode).type('application/json').send({ error_code: answer.errorCode, message: answer.message });
    });
    this.app.setNotFoundHandler((req, reply) => {
      errorCodes.set(req.raw, 'NOT_FOUND');
      void reply.code(404).send({ error_code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
    });
    // requests, errors and latency by route template: never the raw URL, whose paths and
    // query strings are unbounded (a request no route matched is route="unmatched")
    const metrics = core.metrics;
    this.app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
      const method = req.method;
      metrics.httpRequests.inc({ method, route, status: String(reply.statusCode) });
      metrics.httpRequestDuration.observe({ method, route }, reply.elapsedTime / 1000);
      const errorCode = errorCodes.get(req.raw);
      if (errorCode !== undefined) metrics.httpRequestErrors.inc({ method, route, error_code: errorCode });
      done();
    });
    this.ready = this.build(options);
  }

  private async build(options: HttpServerOptions): Promise<void> {
    const { core, health } = options;
    const app = this.app;
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'StreamHouse REST API', version: VERSION, description: 'Topics, records, consumer groups, agents and storage of a StreamHouse cluster.' },
        servers: [{ url: '/' }],
      },
      hideUntagged: true,
    });

    app.get('/health', async () => ({ status: 'ok', ...health.describe() }));
    app.get('/ready', async (_req, reply) => {
      // 200 when the agent can serve; 503 naming what is not ready
      const report = await health.ready();
      void reply.code(report.ready ? 200 : 503).header('cache-control', 'no-store');
      return report;
    });
    app.get('/metrics', async (_req, reply) => {
      const body = await this.registry.metrics();
      void reply.type(this.registry.contentType);
      return body;
    });

    await app.register(
      async (api) => {
        if (options.authenticator) authenticateRequests(api, options.authenticator);
        topicRoutes(api, core);
        produceRoutes(api, core);
        recordRoutes(api, core);
        groupRoutes(api, core);
        clusterRoutes(api, core, this.sampler);
        api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
      },
      { prefix: API_PREFIX },
    );

    const consoleDir = options.consoleDir ?? DEFAULT_CONSOLE_DIR;
    if (existsSync(consoleDir)) {
      await app.register(fastifyStatic, { root: consoleDir, prefix: '/', index: 'index.html', wildcard: false });
    } else {
      app.get('/', async (_req, reply) => {
        void reply.code(503);
        return { error_code: 'CONSOLE_NOT_BUILT', message: 'the web console is not built; run npm run build' };
      });
    }
    await app.ready();
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await this.ready;
    await this.app.listen({ port, host });
    this.sampler.start();
    const addr = this.app.server.address();
    return addr && typeof addr === 'object' ? addr.port : port;
  }

  async close(): Promise<void> {
    await this.sampler.stop();
    await this.ready.catch(() => undefined);
    this.app.server.closeAllConnections();
    await this.app.close();
  }
}
