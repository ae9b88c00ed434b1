import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { GroupAdminError } from '../agent/groups/group-admin.js';
import { LogError } from '../agent/log-service.js';
import { TopicError } from '../agent/topics/topic-service.js';
import { isMetadataStoreError } from '../metadata/metadata-store.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';

/** Trailing metadata key naming the Kafka error behind a status, for clients that care. */
export const KAFKA_ERROR_KEY = 'streamhouse-kafka-error';

/** A failure with the gRPC status it should be answered with. */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly kafkaError?: string,
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}

export const invalidArgument = (message: string): GrpcError => new GrpcError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string): GrpcError => new GrpcError(status.NOT_FOUND, message);

const BY_KAFKA_CODE = new Map<number, status>([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, status.NOT_FOUND],
  [ErrorCode.UNKNOWN_TOPIC_ID, status.NOT_FOUND],
  [ErrorCode.OFFSET_OUT_OF_RANGE, status.OUT_OF_RANGE],
  [ErrorCode.TOPIC_ALREADY_EXISTS, status.ALREADY_EXISTS],
  [ErrorCode.INVALID_TOPIC_EXCEPTION, status.INVALID_ARGUMENT],
  [ErrorCode.INVALID_PARTITIONS, status.INVALID_ARGUMENT],
  [ErrorCode.INVALID_CONFIG, status.INVALID_ARGUMENT],
  [ErrorCode.INVALID_REQUEST, status.INVALID_ARGUMENT],
  [ErrorCode.INVALID_RECORD, status.INVALID_ARGUMENT],
  [ErrorCode.CORRUPT_MESSAGE, status.INVALID_ARGUMENT],
  [ErrorCode.MESSAGE_TOO_LARGE, status.INVALID_ARGUMENT],
  [ErrorCode.INVALID_TIMESTAMP, status.INVALID_ARGUMENT],
  [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, status.INVALID_ARGUMENT],
  [ErrorCode.REQUEST_TIMED_OUT, status.DEADLINE_EXCEEDED],
  [ErrorCode.GROUP_ID_NOT_FOUND, status.NOT_FOUND],
  [ErrorCode.NON_EMPTY_GROUP, status.FAILED_PRECONDITION],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, status.UNAVAILABLE],
  [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, status.FAILED_PRECONDITION],
  [ErrorCode.INVALID_PRODUCER_EPOCH, status.FAILED_PRECONDITION],
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, status.UNIMPLEMENTED],
]);

/** The status for a Kafka error code: retriable ones (a partition moving, storage trouble) are UNAVAILABLE. */
export function statusForKafkaError(code: number): status {
  const mapped = BY_KAFKA_CODE.get(code);
  if (mapped !== undefined) return mapped;
  return errorInfo(code).retriable ? status.UNAVAILABLE : status.INTERNAL;
}

/**
 * Turns anything a service threw into the error grpc-js sends. Kafka-coded errors keep
 * their message and name the Kafka error in trailing metadata; anything unexpected is
 * INTERNAL (and reported through `onUnexpected`).
 */
export function toServiceError(err: unknown, onUnexpected?: (err: unknown) => void): Partial<ServiceError> {
  let code: status;
  let message: string;
  let kafkaError: string | undefined;
  if (err instanceof GrpcError) {
    code = err.code;
    message = err.message;
    kafkaError = err.kafkaError;
  } else if (err instanceof LogError || err instanceof TopicError || err instanceof GroupAdminError) {
    code = statusForKafkaError(err.errorCode);
    message = err.message;
    kafkaError = errorInfo(err.errorCode).name;
  } else if (isMetadataStoreError(err, 'STORE_CLOSED')) {
    code = status.UNAVAILABLE;
    message = 'the agent is shutting down';
  } else {
    onUnexpected?.(err);
    code = status.INTERNAL;
    message = `internal error: ${err instanceof Error ? err.message : String(err)}`;
  }
  const metadata = new Metadata();
  if (kafkaError) metadata.set(KAFKA_ERROR_KEY, kafkaError);
  return { code, details: message, message, metadata };
}
