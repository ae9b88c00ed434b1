import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorizeCluster } from '../authorization.js';
import { partitionErrorOf } from '../../agent/partition-error.js';

/**
 * WriteTxnMarkers v0-1: another agent's transaction coordinator ends a transaction on
 * partitions this agent leads. Each marker is committed before its partition is answered.
 */
export const writeTxnMarkersHandler = defineHandler({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const { services } = ctx;
    const allowed = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
    const deadlineMs = Date.now() + 10_000;
    const markers = await Promise.all(
      request.markers.map(async (m) => ({
        producerId: m.producerId,
        topics: await Promise.all(
          m.topics.map(async (t) => ({
            name: t.name,
            partitions: await Promise.all(
              t.partitionIndexes.map(async (partitionIndex) => {
                if (!allowed) return { partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED };
                try {
                  await services.log.appendMarker({ topic: t.name, partition: partitionIndex, producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch, deadlineMs });
                  return { partitionIndex, errorCode: ErrorCode.NONE };
                } catch (err) {
                  return { partitionIndex, errorCode: partitionErrorOf(err, services.logger, 'WriteTxnMarkers', t.name, partitionIndex).errorCode };
                }
              }),
            ),
          })),
        ),
      })),
    );
    return { markers };
  },
});
