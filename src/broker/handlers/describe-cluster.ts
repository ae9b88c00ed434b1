import { advertisedEndpoint } from '../../agent/cluster/cluster-view.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { OPERATIONS_NOT_REQUESTED } from './authorized-operations.js';
import { authorizedOperations, ResourceType } from '../authorization.js';
import { CLUSTER_RESOURCE_NAME } from '../../agent/security/acl.js';

/** Endpoint type 1 = brokers (KIP-919); we have no separate controller endpoints. */
const BROKER_ENDPOINT = 1;

export const describeClusterHandler = defineHandler({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { cluster } = ctx.services;
    if (ctx.apiVersion >= 1 && request.endpointType !== BROKER_ENDPOINT) {
      return { errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: `Endpoint type ${request.endpointType} is not supported`, endpointType: request.endpointType, clusterId: cluster.clusterId, controllerId: -1, brokers: [] };
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: BROKER_ENDPOINT,
      clusterId: cluster.clusterId,
      controllerId: cluster.controllerId(),
      brokers: cluster.brokers().flatMap((b) => {
        const at = advertisedEndpoint(b, ctx.connection.listenerName);
        return at ? [{ brokerId: b.nodeId, host: at.host, port: at.port, rack: b.rack }] : [];
      }),
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) : OPERATIONS_NOT_REQUESTED,
    };
  },
});
