import type { LogService } from '../agent/log-service.js';
import { autoCreateTopic, existingTopic } from '../agent/topics/auto-create-topic.js';
import type { AgentCore } from '../agent/agent-core.js';
import { topicNameProblem } from '../agent/topics/topic-names.js';
import type { Topic } from '../metadata/metadata-store.js';
import { GrpcError, invalidArgument, notFound } from './grpc-status.js';
import type { OffsetReset } from './messages.js';
import { status } from '@grpc/grpc-js';

/** The named topic, or INVALID_ARGUMENT for a bad name and NOT_FOUND for an unknown one. */
export async function requireTopic(services: AgentCore, name: string): Promise<Topic> {
  if (!name) throw invalidArgument('topic is required');
  const problem = topicNameProblem(name);
  if (problem) throw invalidArgument(problem);
  const topic = await services.topics.get(name);
  if (!topic) throw notFound(`topic '${name}' does not exist`);
  return topic;
}

/** Like requireTopic, but creates the topic when the broker auto-creates topics on produce (as Kafka's Produce does). */
export async function topicForProduce(services: AgentCore, name: string): Promise<Topic> {
  if (!name) throw invalidArgument('topic is required');
  const problem = topicNameProblem(name);
  if (problem) throw invalidArgument(problem);
  const topic = await existingTopic(services, name);
  if (topic) return topic;
  if (!services.brokerConfigs.autoCreateTopics) throw notFound(`topic '${name}' does not exist`);
  return autoCreateTopic(services, name, 'grpc produce');
}

export function requirePartition(topic: Topic, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0) throw invalidArgument(`partition must be 0 or more, got ${partition}`);
  if (partition >= topic.partitionCount) {
    throw notFound(`topic '${topic.name}' has ${topic.partitionCount} partition${topic.partitionCount === 1 ? '' : 's'}; partition ${partition} does not exist`);
  }
}

export function requireGroup(group: string): void {
  if (!group) throw invalidArgument('group is required');
}

/** A request's int64 field as bigint (INVALID_ARGUMENT when it is not an integer). */
export function int64(value: string | number | undefined, what: string): bigint {
  try {
    return BigInt(value ?? 0);
  } catch {
    throw invalidArgument(`${what} must be an integer, got ${String(value)}`);
  }
}

/** A count field: 0 picks `fallback`, negative is invalid, anything above `max` is clamped. */
export function boundedCount(value: number, what: string, fallback: number, max: number): number {
  if (!Number.isInteger(value) || value < 0) throw invalidArgument(`${what} must be 0 or more, got ${value}`);
  if (value === 0) return fallback;
  return Math.min(value, max);
}

export interface StartPosition {
  readonly offset?: string | undefined;
  readonly group: string;
  readonly offsetReset: OffsetReset;
}

/**
 * Where a Consume or Subscribe starts: the explicit offset (the read reports OUT_OF_RANGE
 * if it is not in the log), else the group's committed offset while it is still in the
 * log, else the reset policy.
 */
export async function startOffset(services: AgentCore, log: LogService, topic: Topic, partition: number, start: StartPosition): Promise<bigint> {
  if (start.offset !== undefined) {
    const offset = int64(start.offset, 'offset');
    if (offset < 0n) throw new GrpcError(status.OUT_OF_RANGE, `offset ${offset} is negative`, 'OFFSET_OUT_OF_RANGE');
    return offset;
  }
  const range = await log.offsets(topic.name, partition);
  if (start.group) {
    const [committed] = await services.metadata.groupOffsets.fetch(start.group, [{ topic: topic.name, partition }]);
    if (committed && committed.offset >= range.logStartOffset && committed.offset <= range.highWatermark) return committed.offset;
    if (start.offsetReset === 'OFFSET_RESET_NONE') {
      if (committed) {
        throw new GrpcError(status.OUT_OF_RANGE, `group '${start.group}' committed offset ${committed.offset} of ${topic.name}-${partition}, outside the log ${range.logStartOffset}..${range.highWatermark}`, 'OFFSET_OUT_OF_RANGE');
      }
      throw new GrpcError(status.FAILED_PRECONDITION, `group '${start.group}' has no committed offset for ${topic.name}-${partition} and offset_reset is NONE`);
    }
  } else if (start.offsetReset === 'OFFSET_RESET_NONE') {
    throw new GrpcError(status.FAILED_PRECONDITION, `no offset given, no group, and offset_reset is NONE for ${topic.name}-${partition}`);
  }
  return start.offsetReset === 'OFFSET_RESET_LATEST' ? range.highWatermark : range.logStartOffset;
}
