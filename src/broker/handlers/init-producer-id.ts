import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, permits, requesterOf, ResourceType } from '../authorization.js';
import { CLUSTER_RESOURCE_NAME } from '../../agent/security/acl.js';
import { fencedCompatible, getTransactionCoordinator } from './transaction-access.js';

/**
 * InitProducerId v0-4. For an idempotent producer (no transactional id), like Kafka's
 * coordinator, every call gets a fresh producer id with epoch 0; the previous id and epoch a
 * v3+ client sends after an error are not needed to hand out a usable identity. A
 * transactional id goes to its transaction coordinator: the id keeps its producer id and
 * gets the next epoch, which fences any older producer of the same id (its open transaction
 * is aborted first).
 */
export const initProducerIdHandler = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { services } = ctx;
    const refuse = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
    if (request.transactionalId !== null) {
      // Kafka: an empty transactional id is a malformed request, not a transactional one
      if (request.transactionalId === '') return refuse(ErrorCode.INVALID_REQUEST);
      if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)) return refuse(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      const expected = ctx.apiVersion >= 3 ? { producerId: request.producerId, producerEpoch: request.producerEpoch } : { producerId: -1n, producerEpoch: -1 };
      const result = await getTransactionCoordinator(services).initProducerId(request.transactionalId, request.transactionTimeoutMs, expected);
      return { throttleTimeMs: 0, ...result, errorCode: fencedCompatible(result.errorCode, ctx.apiVersion, 4) };
    }
    // Kafka 3.x: IDEMPOTENT_WRITE on the cluster, or WRITE on at least one topic
    const authorizer = services.authorizer;
    if (authorizer && !permits(ctx, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) && !authorizer.authorizeAny(requesterOf(ctx), AclOperation.WRITE, ResourceType.TOPIC)) {
      authorizer.denied(requesterOf(ctx), AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
      return refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    try {
      const producerId = await services.metadata.producers.allocateProducerId();
      return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0 };
    } catch (err) {
      // retriable for every client: they look the coordinator up again and retry
      services.logger.error({ err }, 'producer id allocation failed');
      return refuse(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  },
});
