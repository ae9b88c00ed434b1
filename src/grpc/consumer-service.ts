import type { LogService } from '../agent/log-service.js';
import type { AgentCore } from '../agent/agent-core.js';
import { commitAsMember, commitAsNonMember } from './group-offsets.js';
import { invalidArgument } from './grpc-status.js';
import type {
  CommitOffsetRequestMsg,
  CommitOffsetResponseMsg,
  ConsumeRequestMsg,
  ConsumeResponseMsg,
  GetOffsetRequestMsg,
  GetOffsetResponseMsg,
  SubscribeRequestMsg,
  SubscribeResponseMsg,
} from './messages.js';
import { boundedCount, int64, requireGroup, requirePartition, requireTopic, startOffset } from './partition-access.js';
import { consumedRecords } from './records.js';

export const DEFAULT_MAX_RECORDS = 500;
export const MAX_RECORDS = 10_000;
export const MAX_WAIT_MS = 30_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_BYTES = 64 * 1024 * 1024;
/** Bytes read from the log per Subscribe step (one message carries at most this much, plus one batch). */
const SUBSCRIBE_READ_BYTES = 1024 * 1024;

/** Where a Subscribe stream sends messages; `write` returns false when the reader is behind. */
export interface SubscribeSink {
  write(message: SubscribeResponseMsg): boolean;
  /** Resolves when the sink takes writes again (or the signal aborts). */
  drained(signal: AbortSignal): Promise<void>;
}

/** ConsumerService: reads the same log Kafka Fetch reads, record by record. */
export class ConsumerService {
  constructor(private readonly services: AgentCore) {}

  private get log(): LogService {
    return this.services.log;
  }

  async consume(req: ConsumeRequestMsg, signal?: AbortSignal): Promise<ConsumeResponseMsg> {
    const topic = await requireTopic(this.services, req.topic);
    requirePartition(topic, req.partition);
    const maxRecords = boundedCount(req.maxRecords, 'max_records', DEFAULT_MAX_RECORDS, MAX_RECORDS);
    const maxBytes = boundedCount(req.maxBytes, 'max_bytes', DEFAULT_MAX_BYTES, MAX_BYTES);
    if (!Number.isInteger(req.maxWaitMs) || req.maxWaitMs < 0) throw invalidArgument(`max_wait_ms must be 0 or more, got ${req.maxWaitMs}`);
    const deadline = Date.now() + Math.min(req.maxWaitMs, MAX_WAIT_MS);
    const log = this.log;
    let offset = await startOffset(this.services, log, topic, req.partition, req);
    for (;;) {
      const read = await log.read({ topic: topic.name, partition: req.partition, offset, maxBytes });
      const range = consumedRecords(topic.name, req.partition, read.records, offset, { maxRecords, maxBytes });
      const progressed = range.nextOffset !== offset;
      offset = range.nextOffset;
      const left = deadline - Date.now();
      if (range.records.length > 0 || left <= 0 || signal?.aborted || (offset < read.highWatermark && !progressed)) {
        return {
          records: range.records,
          highWatermark: read.highWatermark.toString(),
          logStartOffset: read.logStartOffset.toString(),
          nextOffset: offset.toString(),
        };
      }
      // only control batches were skipped: read on at once; else wait for the HWM to move
      if (offset >= read.highWatermark) await log.waitForData([{ topic: topic.name, partition: req.partition, offset: read.highWatermark }], left, signal);
    }
  }

  /**
   * Streams records until the signal aborts. A message is written only while the sink takes
   * writes, so a slow reader holds the broker to one read of look-ahead.
   */
  async subscribe(req: SubscribeRequestMsg, sink: SubscribeSink, signal: AbortSignal): Promise<void> {
    const topic = await requireTopic(this.services, req.topic);
    requirePartition(topic, req.partition);
    const maxRecords = boundedCount(req.maxRecords, 'max_records', DEFAULT_MAX_RECORDS, MAX_RECORDS);
    const log = this.log;
    let offset = await startOffset(this.services, log, topic, req.partition, req);
    while (!signal.aborted) {
      const read = await log.read({ topic: topic.name, partition: req.partition, offset, maxBytes: SUBSCRIBE_READ_BYTES });
      const range = consumedRecords(topic.name, req.partition, read.records, offset, { maxRecords, maxBytes: SUBSCRIBE_READ_BYTES });
      const progressed = range.nextOffset !== offset;
      offset = range.nextOffset;
      if (signal.aborted) return;
      if (range.records.length > 0) {
        if (!sink.write({ records: range.records, highWatermark: read.highWatermark.toString() })) await sink.drained(signal);
      } else if (!progressed || offset >= read.highWatermark) {
        await log.waitForData([{ topic: topic.name, partition: req.partition, offset: read.highWatermark }], MAX_WAIT_MS, signal);
      }
    }
  }

  async commitOffset(req: CommitOffsetRequestMsg): Promise<CommitOffsetResponseMsg> {
    requireGroup(req.group);
    const topic = await requireTopic(this.services, req.topic);
    requirePartition(topic, req.partition);
    const offset = int64(req.offset, 'offset');
    if (offset < 0n) throw invalidArgument(`offset must be 0 or more, got ${offset}`);
    const entry = { topic: topic.name, partition: req.partition, offset, leaderEpoch: -1, metadata: req.metadata };
    // through the group's coordinator (on whichever agent): a member with its generation,
    // fenced once the group moved on; else as a Kafka client outside the group commits,
    // refused while the group has members
    if (req.memberId) await commitAsMember(this.services, req.group, req.memberId, req.generationId, [entry]);
    else await commitAsNonMember(this.services, req.group, [entry]);
    return {};
  }

  async getOffset(req: GetOffsetRequestMsg): Promise<GetOffsetResponseMsg> {
    const topic = await requireTopic(this.services, req.topic);
    requirePartition(topic, req.partition);
    const range = await this.log.offsets(topic.name, req.partition);
    const answer = (offset: bigint, found: boolean): GetOffsetResponseMsg => ({
      offset: offset.toString(),
      found,
      highWatermark: range.highWatermark.toString(),
      logStartOffset: range.logStartOffset.toString(),
    });
    switch (req.spec) {
      case 'OFFSET_SPEC_EARLIEST':
        return answer(range.logStartOffset, true);
      case 'OFFSET_SPEC_LATEST':
        return answer(range.highWatermark, true);
      case 'OFFSET_SPEC_TIMESTAMP': {
        const found = await this.log.offsetForTimestamp(topic.name, req.partition, int64(req.timestampMs, 'timestamp_ms'));
        return found ? answer(found.offset, true) : answer(-1n, false);
      }
      case 'OFFSET_SPEC_COMMITTED': {
        requireGroup(req.group);
        const [committed] = await this.services.metadata.groupOffsets.fetch(req.group, [{ topic: topic.name, partition: req.partition }]);
        return committed ? answer(committed.offset, true) : answer(-1n, false);
      }
      default:
        throw invalidArgument(`unknown offset spec ${String(req.spec)}`);
    }
  }
}
