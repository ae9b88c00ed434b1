import type { Logger } from 'pino';
import { LogError } from './log-service.js';
import { ErrorCode } from '../protocol/error-codes.js';

export interface PartitionError {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/**
 * Turns a failure of one partition's log call into the error that partition answers with.
 * LogError carries Kafka's code; anything else is unexpected, so it is logged and answered
 * with the retriable KAFKA_STORAGE_ERROR rather than failing the whole request.
 */
export function partitionErrorOf(err: unknown, logger: Logger, what: string, topic: string, partition: number): PartitionError {
  if (err instanceof LogError) return { errorCode: err.errorCode, errorMessage: err.message };
  logger.warn({ err, topic, partition }, `${what} failed`);
  const message = err instanceof Error ? err.message : String(err);
  return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: `${what} of ${topic}-${partition} failed: ${message}` };
}
