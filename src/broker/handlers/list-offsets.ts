import type { LogService, TimestampLookup } from '../../agent/log-service.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ListOffsetsResponseListOffsetsPartitionResponse } from '../../protocol/messages/generated/list-offsets.js';
import { defineHandler, type Loose } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { currentLeaderEpoch, leaderEpochError } from './leader-epoch.js';
import { partitionErrorOf } from '../../agent/partition-error.js';

type PartitionResponse = Loose<ListOffsetsResponseListOffsetsPartitionResponse>;

/** Kafka's special timestamps (ListOffsetsRequest). */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export const MAX_TIMESTAMP = -3n;
export const EARLIEST_LOCAL_TIMESTAMP = -4n;
export const LATEST_TIERED_TIMESTAMP = -5n;

/** What a lookup found; offset -1 / timestamp -1 mean "no such record" (not an error). */
interface Found {
  readonly offset: bigint;
  readonly timestamp: bigint;
}

const NOT_FOUND: Found = { offset: -1n, timestamp: -1n };

class Refusal {
  constructor(
    readonly errorCode: number,
    readonly message: string,
  ) {}
}

/**
 * ListOffsets v0-7. v0 answers in the old form (a list of offsets); isolation level is
 * irrelevant until transactions exist (the last stable offset is the HWM).
 */
export const listOffsetsHandler = defineHandler({
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, request) {
    const { services } = ctx;
    const log = services.log;
    const v = ctx.apiVersion;
    const seen = new Map<string, number>();
    for (const t of request.topics) for (const p of t.partitions) seen.set(`${t.name}\0${p.partitionIndex}`, (seen.get(`${t.name}\0${p.partitionIndex}`) ?? 0) + 1);
    const topics = await Promise.all(
      request.topics.map(async (t) => {
        // Kafka: DESCRIBE on the topic, checked before it is looked up
        const describable = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name);
        const topic = describable ? await services.topics.get(t.name) : undefined;
        const partitions = await Promise.all(
          t.partitions.map(async (p): Promise<PartitionResponse> => {
            const answer = (found: Found): PartitionResponse =>
              v === 0
                ? { partitionIndex: p.partitionIndex, errorCode: 0, oldStyleOffsets: found.offset >= 0n && p.maxNumOffsets > 0 ? [found.offset] : [] }
                : {
                    partitionIndex: p.partitionIndex,
                    errorCode: 0,
                    timestamp: found.timestamp,
                    offset: found.offset,
                    leaderEpoch: found.offset >= 0n ? currentLeaderEpoch(services, t.name, p.partitionIndex) : -1,
                  };
            const refuse = (errorCode: number): PartitionResponse => ({ partitionIndex: p.partitionIndex, errorCode, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1 });
            // Kafka refuses a partition listed twice from v1 on
            if (!describable) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (v >= 1 && (seen.get(`${t.name}\0${p.partitionIndex}`) ?? 0) > 1) return refuse(ErrorCode.INVALID_REQUEST);
            if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitionCount) return refuse(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
            const epochError = leaderEpochError(services, t.name, p.partitionIndex, p.currentLeaderEpoch);
            if (epochError !== undefined) return refuse(epochError);
            try {
              return answer(await lookup(log, t.name, p.partitionIndex, p.timestamp, v, v >= 2 && request.isolationLevel === 1));
            } catch (err) {
              if (err instanceof Refusal) return refuse(err.errorCode);
              return refuse(partitionErrorOf(err, services.logger, 'ListOffsets', t.name, p.partitionIndex).errorCode);
            }
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
});

/** @param readCommitted isolation.level=read_committed (v2+): the end is the last stable offset */
async function lookup(log: LogService, topic: string, partition: number, timestamp: bigint, apiVersion: number, readCommitted: boolean): Promise<Found> {
  if (timestamp === LATEST_TIMESTAMP) {
    const offsets = await log.offsets(topic, partition);
    return { offset: readCommitted ? offsets.lastStableOffset : offsets.highWatermark, timestamp: -1n };
  }
  if (timestamp === EARLIEST_TIMESTAMP) return { offset: (await log.offsets(topic, partition)).logStartOffset, timestamp: -1n };
  if (timestamp === MAX_TIMESTAMP) {
    if (apiVersion < 7) throw new Refusal(ErrorCode.UNSUPPORTED_VERSION, 'The max timestamp lookup needs ListOffsets v7');
    return orNotFound(await log.maxTimestampOffset(topic, partition));
  }
  if (timestamp === EARLIEST_LOCAL_TIMESTAMP || timestamp === LATEST_TIERED_TIMESTAMP) {
    // only defined from ListOffsets v8/v9, which this broker does not advertise
    throw new Refusal(ErrorCode.UNSUPPORTED_VERSION, `Timestamp ${timestamp} is not supported`);
  }
  return orNotFound(await log.offsetForTimestamp(topic, partition, timestamp));
}

function orNotFound(found: TimestampLookup | undefined): Found {
  return found ? { offset: found.offset, timestamp: found.timestamp } : NOT_FOUND;
}
