/**
 * Kafka's error codes. The table itself (code, name, default message, retriable) is generated
 * from Kafka's definitions into ./generated/kafka-errors.ts (`npm run generate`, see
 * docs/kafka-errors.md); this module adds the lookups.
 */
import { ErrorCode, KAFKA_ERRORS, type ErrorName, type KafkaError } from './generated/kafka-errors.js';

export { ErrorCode, type ErrorName };

export type ErrorInfo = KafkaError;

const BY_CODE = new Map<number, ErrorInfo>(KAFKA_ERRORS.map((e) => [e.code, e]));

const UNKNOWN: ErrorInfo = BY_CODE.get(ErrorCode.UNKNOWN_SERVER_ERROR) ?? {
  code: ErrorCode.UNKNOWN_SERVER_ERROR,
  name: 'UNKNOWN_SERVER_ERROR',
  message: 'UNKNOWN_SERVER_ERROR',
  retriable: false,
};

/**
 * Looks up an error code; a code Kafka does not define is reported as UNKNOWN_SERVER_ERROR
 * (its name, message and retriable flag) carrying the code asked for.
 */
export function errorInfo(code: number): ErrorInfo {
  return BY_CODE.get(code) ?? { ...UNKNOWN, code };
}

/** Kafka's default message for a code, as its brokers put in error message fields. */
export function errorMessage(code: number): string {
  return errorInfo(code).message;
}

/** Every error of the protocol, by code. */
export const ALL_ERRORS: readonly ErrorInfo[] = KAFKA_ERRORS;
