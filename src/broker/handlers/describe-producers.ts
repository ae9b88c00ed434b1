import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode, errorMessage } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';

/**
 * DescribeProducers v0: the producers a partition remembers (idempotence and open
 * transactions), as committed with the partition's last flush. The last write time is not
 * kept (-1); coordinator epochs are 0.
 */
export const describeProducersHandler = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { services } = ctx;
    const topics = await Promise.all(
      request.topics.map(async (t) => {
        const allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
        const topic = allowed ? await services.topics.get(t.name) : undefined;
        const partitions = await Promise.all(
          t.partitionIndexes.map(async (partitionIndex) => {
            const refuse = (errorCode: number) => ({ partitionIndex, errorCode, errorMessage: errorMessage(errorCode), activeProducers: [] });
            if (!allowed) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (!topic || partitionIndex < 0 || partitionIndex >= topic.partitionCount) return refuse(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            try {
              const states = await services.metadata.producers.getStates(t.name, partitionIndex);
              return {
                partitionIndex,
                errorCode: ErrorCode.NONE,
                errorMessage: null,
                activeProducers: states.map((s) => ({
                  producerId: s.producerId,
                  producerEpoch: s.producerEpoch,
                  lastSequence: s.batches[s.batches.length - 1]?.lastSequence ?? -1,
                  lastTimestamp: -1n,
                  coordinatorEpoch: 0,
                  currentTxnStartOffset: s.txnFirstOffset ?? -1n,
                })),
              };
            } catch (err) {
              services.logger.error({ err, topic: t.name, partition: partitionIndex }, 'reading producer states failed');
              return refuse(ErrorCode.KAFKA_STORAGE_ERROR);
            }
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
});
