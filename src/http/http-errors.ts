// The REST API's errors: JSON `{ error_code, message }` with the HTTP status that fits.
// Kafka error codes keep their Kafka names; an unexpected failure answers 500 with a generic
// message (the details go to the log, never to the client).

import { ErrorCode, errorInfo } from '../protocol/error-codes.js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, errorCode = 'INVALID_REQUEST'): HttpError => new HttpError(400, errorCode, message);
export const notFound = (message: string, errorCode = 'NOT_FOUND'): HttpError => new HttpError(404, errorCode, message);

/** HTTP status for a Kafka error code raised by the core. */
export const STATUS_BY_KAFKA_CODE: ReadonlyMap<number, number> = new Map<number, number>([
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 404],
  [ErrorCode.UNKNOWN_TOPIC_ID, 404],
  [ErrorCode.GROUP_ID_NOT_FOUND, 404],
  [ErrorCode.TOPIC_ALREADY_EXISTS, 409],
  [ErrorCode.NON_EMPTY_GROUP, 409],
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 403],
  [ErrorCode.GROUP_AUTHORIZATION_FAILED, 403],
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 403],
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 403],
  [ErrorCode.MESSAGE_TOO_LARGE, 413],
  [ErrorCode.RECORD_LIST_TOO_LARGE, 413],
  [ErrorCode.OFFSET_OUT_OF_RANGE, 416],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, 503],
  [ErrorCode.LEADER_NOT_AVAILABLE, 503],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, 503],
  [ErrorCode.NOT_COORDINATOR, 503],
  [ErrorCode.REQUEST_TIMED_OUT, 503],
  [ErrorCode.KAFKA_STORAGE_ERROR, 503],
]);

/** The HttpError for a Kafka error the core raised (TopicError, LogError, GroupAdminError). */
export function fromKafkaError(errorCode: number, message: string): HttpError {
  const info = errorInfo(errorCode);
  const status = STATUS_BY_KAFKA_CODE.get(errorCode) ?? (info.retriable ? 503 : 400);
  return new HttpError(status, info.name, message || info.message);
}

/** Anything with a Kafka error code (the core's error classes all carry one). */
export function kafkaCodeOf(err: unknown): number | undefined {
  if (err instanceof Error && 'errorCode' in err && typeof err.errorCode === 'number') return err.errorCode;
  return undefined;
}
