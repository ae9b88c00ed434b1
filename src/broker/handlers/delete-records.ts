import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { partitionErrorOf } from '../../agent/partition-error.js';

/** The DeleteRecords offset that means "everything below the high watermark". */
export const DELETE_TO_HIGH_WATERMARK = -1n;

/**
 * DeleteRecords v0-2: moves each partition's log start forward. Offsets above the HWM come
 * back from the log as OFFSET_OUT_OF_RANGE; the answer is the new low watermark.
 */
export const deleteRecordsHandler = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { services } = ctx;
    const log = services.log;
    const topics = await Promise.all(
      request.topics.map(async (t) => {
        const allowed = authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, t.name);
        const topic = allowed ? await services.topics.get(t.name) : undefined;
        // Kafka keeps records of topics that are compacted only (no 'delete' in the policy)
        const deletable = topic !== undefined && services.topics.policy(topic).deletes;
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            const refuse = (errorCode: number) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode });
            if (!allowed) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount) return refuse(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            if (!deletable) return refuse(ErrorCode.POLICY_VIOLATION);
            if (p.offset < DELETE_TO_HIGH_WATERMARK) return refuse(ErrorCode.OFFSET_OUT_OF_RANGE);
            try {
              const lowWatermark = await log.deleteRecords(t.name, p.partitionIndex, p.offset);
              services.logger.info({ topic: t.name, partition: p.partitionIndex, requested: String(p.offset), lowWatermark: String(lowWatermark) }, 'deleted records');
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: 0 };
            } catch (err) {
              return refuse(partitionErrorOf(err, services.logger, 'DeleteRecords', t.name, p.partitionIndex).errorCode);
            }
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
});
