import pino from 'pino';
import { decodeRequest, encodeRequest, type ApiKey, type RequestOf, type ResponseOf } from '../../../protocol/api-codec.js';
import { openMetadataStore } from '../../../metadata/open-metadata-store.js';
import type { MetadataStore } from '../../../metadata/metadata-store.js';
import { BrokerMetrics } from '../../../agent/broker-metrics.js';
import { SingleAgentClusterView } from '../../../agent/cluster/cluster-view.js';
import { defaultBrokerConfig, type BrokerConfig } from '../../../agent/config/broker-config.js';
import { NO_RESPONSE, type ApiHandler, type ConnectionState, type Loose, type RequestContext } from '../../handler.js';
import type { AgentCore } from '../../../agent/agent-core.js';
import { TopicService } from '../../../agent/topics/topic-service.js';
import { FakeLog } from './fake-log.js';

export interface HandlerKit {
  readonly services: AgentCore;
  readonly log: FakeLog;
  readonly store: MetadataStore;
  readonly connection: ConnectionState;
  close(): Promise<void>;
}

let nextConnection = 1;

export function newConnection(): ConnectionState {
  return { id: nextConnection++, remoteAddress: '127.0.0.1:1', clientId: 'test', clientSoftwareName: null, clientSoftwareVersion: null };
}

/** Real SQLite metadata and TopicService, a FakeLog, a silent logger. */
export async function handlerKit(config: Partial<BrokerConfig> = {}): Promise<HandlerKit> {
  const store = await openMetadataStore('sqlite::memory:');
  const cfg = defaultBrokerConfig({ autoCreateTopics: false, ...config });
  const log = new FakeLog();
  const topics = new TopicService(store, cfg);
  const services: AgentCore = {
    config: cfg,
    metadata: store,
    cluster: new SingleAgentClusterView(await store.cluster.getClusterId(), cfg),
    topics,
    brokerConfigs: topics.brokerConfigs,
    metrics: new BrokerMetrics(),
    logger: pino({ level: 'silent' }),
    log,
  };
  return { services, log, store, connection: newConnection(), close: () => store.close() };
}

/**
 * Runs a request through the real codec first (encode, then decode at `version`), so the
 * handler sees exactly what a client of that version can send, defaults included.
 */
export function wireRequest<K extends ApiKey>(apiKey: K, version: number, body: Partial<RequestOf<K>>): RequestOf<K> {
  const frame = encodeRequest({ apiKey, apiVersion: version, correlationId: 7, clientId: 'test' }, body);
  return decodeRequest(frame.subarray(4)).body as RequestOf<K>;
}

export async function callHandler<K extends ApiKey>(
  kit: HandlerKit,
  handler: ApiHandler<K>,
  version: number,
  body: Partial<RequestOf<K>>,
  connection: ConnectionState = kit.connection,
): Promise<HandlerResult<K>> {
  return invoke(kit, handler, version, wireRequest(handler.apiKey, version, body), connection);
}

export type HandlerResult<K extends ApiKey> = Loose<ResponseOf<K>> | typeof NO_RESPONSE;

export async function invoke<K extends ApiKey>(
  kit: HandlerKit,
  handler: ApiHandler<K>,
  version: number,
  request: RequestOf<K>,
  connection: ConnectionState = kit.connection,
): Promise<HandlerResult<K>> {
  const ctx: RequestContext = {
    header: { apiKey: handler.apiKey, apiVersion: version, correlationId: 7, clientId: 'test' },
    apiVersion: version,
    connection,
    services: kit.services,
  };
  return handler.handle(ctx, request);
}

/** Narrows a handler result to a response (fails the test on NO_RESPONSE). */
export function answered<T>(result: T | typeof NO_RESPONSE): T {
  if (result === NO_RESPONSE) throw new Error('handler returned NO_RESPONSE');
  return result;
}
