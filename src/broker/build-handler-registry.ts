import { HandlerRegistry } from './handler-registry.js';
import { apiVersionsHandler } from './handlers/api-versions.js';
import { metadataHandler } from './handlers/metadata.js';
import { createTopicsHandler } from './handlers/create-topics.js';
import { deleteTopicsHandler } from './handlers/delete-topics.js';
import { createPartitionsHandler } from './handlers/create-partitions.js';
import { describeConfigsHandler } from './handlers/describe-configs.js';
import { describeClusterHandler } from './handlers/describe-cluster.js';
import { produceHandler } from './handlers/produce.js';
import { fetchHandler } from './handlers/fetch.js';
import { listOffsetsHandler } from './handlers/list-offsets.js';
import { deleteRecordsHandler } from './handlers/delete-records.js';
import { initProducerIdHandler } from './handlers/init-producer-id.js';

/**
 * Every API the broker answers. Kept apart from startBroker so that tools (the protocol
 * support doc generator) see exactly what a running broker advertises.
 */
export function buildHandlerRegistry(): HandlerRegistry {
  const registry = new HandlerRegistry();
  registry
    .register(apiVersionsHandler(registry))
    .register(metadataHandler)
    .register(createTopicsHandler)
    .register(deleteTopicsHandler)
    .register(createPartitionsHandler)
    .register(describeConfigsHandler)
    .register(describeClusterHandler)
    .register(produceHandler)
    .register(fetchHandler)
    .register(listOffsetsHandler)
    .register(deleteRecordsHandler)
    .register(initProducerIdHandler);
  return registry;
}
