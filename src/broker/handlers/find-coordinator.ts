import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode, errorMessage } from '../../protocol/error-codes.js';
import { advertisedEndpoint, type BrokerNode } from '../../agent/cluster/cluster-view.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getCoordinatorLocator } from '../groups/group-coordinator-access.js';

/** FindCoordinator key types (CoordinatorType). */
export const KEY_TYPE_GROUP = 0;
export const KEY_TYPE_TRANSACTION = 1;

const NO_NODE = { nodeId: -1, host: '', port: -1 };

interface Lookup {
  readonly errorCode: number;
  readonly node: { nodeId: number; host: string; port: number };
}

/**
 * FindCoordinator v0-4 (v4: a batch of keys). Groups and transactional ids go to whoever
 * `coordinatorFor` names: the holder of the key's coordinator shard.
 */
export const findCoordinatorHandler = defineHandler({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const locator = getCoordinatorLocator(ctx.services);
    const keyType = ctx.apiVersion >= 1 ? request.keyType : KEY_TYPE_GROUP;
    // groups and transactional ids share the coordinator shards (docs/transactions.md)
    const coordinatorOf = (key: string): Lookup => {
      const node: BrokerNode | undefined = locator.coordinatorFor(key);
      // the coordinator's address on the listener this client came in on
      const at = node && advertisedEndpoint(node, ctx.connection.listenerName);
      return node && at ? { errorCode: ErrorCode.NONE, node: { nodeId: node.nodeId, host: at.host, port: at.port } } : { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: NO_NODE };
    };
    const lookup = (key: string): Lookup => {
      if (keyType === KEY_TYPE_GROUP) {
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, node: NO_NODE };
        return coordinatorOf(key);
      }
      if (keyType === KEY_TYPE_TRANSACTION) {
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, node: NO_NODE };
        return coordinatorOf(key);
      }
      return { errorCode: ErrorCode.INVALID_REQUEST, node: NO_NODE };
    };
    if (ctx.apiVersion >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: request.coordinatorKeys.map((key) => {
          const found = lookup(key);
          return { key, ...found.node, errorCode: found.errorCode, errorMessage: null };
        }),
      };
    }
    // v1-3 carry Kafka's default message for the code ('NONE' on success), as Kafka does
    const found = lookup(request.key);
    return { throttleTimeMs: 0, errorCode: found.errorCode, errorMessage: errorMessage(found.errorCode), ...found.node };
  },
});
