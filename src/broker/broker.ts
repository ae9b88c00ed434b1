import type { Logger } from 'pino';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openObjectStore } from '../storage/open-object-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { HttpServer } from '../http/http-server.js';
import { BrokerMetrics } from './broker-metrics.js';
import { SingleAgentClusterView } from './cluster-view.js';
import type { BrokerConfig, HostPort } from './config/broker-config.js';
import type { BrokerServices } from './handler.js';
import { KafkaServer } from './kafka-server.js';
import { TopicService } from './topic-service.js';
import { buildHandlerRegistry } from './build-handler-registry.js';

export interface RunningBroker {
  readonly kafka: HostPort;
  readonly httpPort: number;
  readonly services: BrokerServices;
  stop(): Promise<void>;
}

/** Wires one agent together: stores, handlers, Kafka listener and HTTP server. */
export async function startBroker(config: BrokerConfig, logger: Logger): Promise<RunningBroker> {
  const metadata: MetadataStore = await openMetadataStore(config.metadataUrl);
  let objects: ObjectStore | undefined;
  try {
    objects = await openObjectStore(config.storageUrl);
  } catch (e) {
    await metadata.close();
    throw e;
  }
  const clusterId = await metadata.cluster.getClusterId();
  const metrics = new BrokerMetrics();
  const services: BrokerServices = {
    config,
    metadata,
    cluster: new SingleAgentClusterView(clusterId, config),
    topics: new TopicService(metadata, config),
    metrics,
    logger,
    extensions: new Map<string, unknown>([['objectStore', objects]]),
  };
  const registry = buildHandlerRegistry();

  const kafkaServer = new KafkaServer(services, registry);
  const http = new HttpServer(metrics.registry, {
    ready: () => true,
    describe: () => ({ agentId: config.agentId, nodeId: config.nodeId, clusterId }),
  });
  let kafka: HostPort;
  let httpPort: number;
  try {
    kafka = await kafkaServer.listen(config.kafkaListener);
    httpPort = await http.listen(config.httpPort);
  } catch (e) {
    await kafkaServer.close();
    await http.close();
    await objects.close();
    await metadata.close();
    throw e;
  }
  logger.info({ kafka: `${kafka.host}:${kafka.port}`, advertised: `${config.advertisedListener.host}:${config.advertisedListener.port}`, http: httpPort, clusterId, nodeId: config.nodeId }, 'StreamHouse agent started');

  let stopping: Promise<void> | undefined;
  return {
    kafka,
    httpPort,
    services,
    stop() {
      stopping ??= (async () => {
        await kafkaServer.close();
        await http.close();
        await objects.close();
        await metadata.close();
        logger.info('StreamHouse agent stopped');
      })();
      return stopping;
    },
  };
}
