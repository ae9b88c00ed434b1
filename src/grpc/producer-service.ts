import type { AgentCore } from '../agent/agent-core.js';
import { validateProducedRecords } from '../agent/produce-validation.js';
import type { Topic } from '../metadata/metadata-store.js';
import { errorInfo } from '../protocol/error-codes.js';
import { readBatchHeader } from '../protocol/records/record-batch.js';
import { GrpcError, invalidArgument, statusForKafkaError } from './grpc-status.js';
import type { Acks, ProduceBatchRequestMsg, ProduceBatchResponseMsg, ProduceRequestMsg, ProduceResponseMsg } from './messages.js';
import { partitionForKey } from '../protocol/murmur2.js';
import { requirePartition, topicForProduce } from './partition-access.js';
import { batchOfRecords } from './records.js';

/** The newest Produce version: its validation rules are the ones gRPC batches follow. */
const PRODUCE_VERSION = 11;
const DEFAULT_TIMEOUT_MS = 30_000;

interface Appended {
  readonly baseOffset: bigint;
  readonly logAppendTimeMs: bigint;
  readonly recordCount: number;
}

/** ProducerService: records become Kafka batches in the same log Kafka clients write. */
export class ProducerService {
  /** Next partition per topic for records with neither key nor partition. */
  private readonly roundRobin = new Map<string, number>();

  constructor(private readonly services: AgentCore) {}

  async produce(req: ProduceRequestMsg): Promise<ProduceResponseMsg> {
    if (!req.record) throw invalidArgument('record is required');
    const topic = await topicForProduce(this.services, req.topic);
    let partition: number;
    if (req.partition !== undefined) {
      requirePartition(topic, req.partition);
      partition = req.partition;
    } else if (req.record.key !== undefined) {
      partition = partitionForKey(req.record.key, topic.partitionCount);
    } else {
      const next = this.roundRobin.get(topic.name) ?? 0;
      partition = next % topic.partitionCount;
      this.roundRobin.set(topic.name, (next + 1) % topic.partitionCount);
    }
    const batch = batchOfRecords([req.record], BigInt(Date.now()));
    const r = await this.append(topic, partition, batch, req.acks, req.timeoutMs);
    return { partition, offset: r.baseOffset.toString(), logAppendTimeMs: r.logAppendTimeMs.toString() };
  }

  async produceBatch(req: ProduceBatchRequestMsg): Promise<ProduceBatchResponseMsg> {
    const hasRecords = req.records.length > 0;
    const hasBatch = req.kafkaRecordBatch.length > 0;
    if (hasRecords === hasBatch) throw invalidArgument(hasRecords ? 'give either records or kafka_record_batch, not both' : 'records is empty');
    const topic = await topicForProduce(this.services, req.topic);
    requirePartition(topic, req.partition);
    const batch = hasBatch ? req.kafkaRecordBatch : batchOfRecords(req.records, BigInt(Date.now()));
    const r = await this.append(topic, req.partition, batch, req.acks, req.timeoutMs);
    return { partition: req.partition, baseOffset: r.baseOffset.toString(), recordCount: r.recordCount, logAppendTimeMs: r.logAppendTimeMs.toString() };
  }

  /** Checks the batch as Kafka's Produce would, then appends; acks=NONE answers before the commit. */
  private async append(topic: Topic, partition: number, batch: Buffer, acks: Acks, timeoutMs: number): Promise<Appended> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0) throw invalidArgument(`timeout_ms must be 0 or more, got ${timeoutMs}`);
    const configured = this.services.topics.policy(topic).maxMessageBytes;
    const maxMessageBytes = Number.isFinite(configured) ? configured : this.services.brokerConfigs.messageMaxBytes;
    const tp = `${topic.name}-${partition}`;
    const checked = validateProducedRecords(batch, PRODUCE_VERSION, tp, maxMessageBytes);
    if ('error' in checked) {
      const { errorCode, errorMessage } = checked.error;
      throw new GrpcError(statusForKafkaError(errorCode), errorMessage, errorInfo(errorCode).name);
    }
    const recordCount = readBatchHeader(batch).recordCount;
    const pending = this.services.log.append({
      topic,
      partition,
      batches: checked.batches,
      deadlineMs: Date.now() + (timeoutMs === 0 ? DEFAULT_TIMEOUT_MS : timeoutMs),
    });
    if (acks === 'ACKS_NONE') {
      pending.catch((err: unknown) => this.services.logger.debug({ err, topic: topic.name, partition }, 'acks=NONE gRPC produce failed'));
      return { baseOffset: -1n, logAppendTimeMs: -1n, recordCount };
    }
    const r = await pending;
    return { baseOffset: r.baseOffset, logAppendTimeMs: r.logAppendTimeMs, recordCount };
  }
}
