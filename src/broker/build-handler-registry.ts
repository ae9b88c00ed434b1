import { describeTransactionsHandler } from './handlers/describe-transactions.js';
import { listTransactionsHandler } from './handlers/list-transactions.js';
import { describeProducersHandler } from './handlers/describe-producers.js';
import { addPartitionsToTxnHandler } from './handlers/add-partitions-to-txn.js';
import { addOffsetsToTxnHandler } from './handlers/add-offsets-to-txn.js';
import { endTxnHandler } from './handlers/end-txn.js';
import { txnOffsetCommitHandler } from './handlers/txn-offset-commit.js';
import { writeTxnMarkersHandler } from './handlers/write-txn-markers.js';
import { HandlerRegistry } from './handler-registry.js';
import { alterConfigsHandler, incrementalAlterConfigsHandler } from './handlers/alter-configs.js';
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
import { findCoordinatorHandler } from './handlers/find-coordinator.js';
import { joinGroupHandler } from './handlers/join-group.js';
import { syncGroupHandler } from './handlers/sync-group.js';
import { heartbeatHandler } from './handlers/heartbeat.js';
import { leaveGroupHandler } from './handlers/leave-group.js';
import { offsetCommitHandler } from './handlers/offset-commit.js';
import { offsetFetchHandler } from './handlers/offset-fetch.js';
import { describeGroupsHandler } from './handlers/describe-groups.js';
import { listGroupsHandler } from './handlers/list-groups.js';
import { deleteGroupsHandler } from './handlers/delete-groups.js';
import { offsetDeleteHandler } from './handlers/offset-delete.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './handlers/sasl.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './handlers/scram-credentials.js';
import { describeAclsHandler } from './handlers/describe-acls.js';
import { createAclsHandler } from './handlers/create-acls.js';
import { deleteAclsHandler } from './handlers/delete-acls.js';

/**
 * Every API the broker answers. Kept apart from startAgent so that tools (the protocol
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
    .register(initProducerIdHandler)
    .register(findCoordinatorHandler)
    .register(joinGroupHandler)
    .register(syncGroupHandler)
    .register(heartbeatHandler)
    .register(leaveGroupHandler)
    .register(offsetCommitHandler)
    .register(offsetFetchHandler)
    .register(describeGroupsHandler)
    .register(listGroupsHandler)
    .register(deleteGroupsHandler)
    .register(offsetDeleteHandler)
    .register(alterConfigsHandler)
    .register(incrementalAlterConfigsHandler)
    .register(saslHandshakeHandler)
    .register(saslAuthenticateHandler)
    .register(describeUserScramCredentialsHandler)
    .register(alterUserScramCredentialsHandler)
    .register(describeAclsHandler)
    .register(createAclsHandler)
    .register(deleteAclsHandler)
    .register(addPartitionsToTxnHandler)
    .register(addOffsetsToTxnHandler)
    .register(endTxnHandler)
    .register(txnOffsetCommitHandler)
    .register(writeTxnMarkersHandler)
    .register(describeTransactionsHandler)
    .register(listTransactionsHandler)
    .register(describeProducersHandler);
  return registry;
}
