import { ErrorCode } from '../../protocol/error-codes.js';
import type { BrokerNode } from '../cluster-view.js';
import { defineHandler } from '../handler.js';
import { getCoordinatorLocator } from '../groups/group-coordinator-access.js';

/** FindCoordinator key types (CoordinatorType). */
export const KEY_TYPE_GROUP = 0;
export const KEY_TYPE_TRANSACTION = 1;

const NO_NODE = { nodeId: -1, host: '', port: -1 };

/** Kafka's Errors.message() for the codes FindCoordinator v1-3 can carry. */
const MESSAGES: Record<number, string> = {
  [ErrorCode.NONE]: 'NONE',
  [ErrorCode.COORDINATOR_NOT_AVAILABLE]: 'The coordinator is not available.',
  [ErrorCode.INVALID_REQUEST]:
    'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.',
};

interface Lookup {
  readonly errorCode: number;
  readonly node: { nodeId: number; host: string; port: number };
}

/**
 * FindCoordinator v0-4 (v4: a batch of keys). Groups go to whoever `coordinatorFor` names;
 * there is no transaction coordinator yet.
 */
export const findCoordinatorHandler = defineHandler({
  apiKey: 10,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const locator = getCoordinatorLocator(ctx.services);
    const keyType = ctx.apiVersion >= 1 ? request.keyType : KEY_TYPE_GROUP;
    const lookup = (key: string): Lookup => {
      if (keyType === KEY_TYPE_GROUP) {
        const node: BrokerNode | undefined = locator.coordinatorFor(key);
        return node ? { errorCode: ErrorCode.NONE, node: { nodeId: node.nodeId, host: node.host, port: node.port } } : { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: NO_NODE };
      }
      if (keyType === KEY_TYPE_TRANSACTION) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, node: NO_NODE };
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
    const found = lookup(request.key);
    return { throttleTimeMs: 0, errorCode: found.errorCode, errorMessage: MESSAGES[found.errorCode] ?? null, ...found.node };
  },
});
