import { status, type ServiceError } from '@grpc/grpc-js';
import { KAFKA_ERROR_KEY } from '../grpc-status.js';

/** Statuses worth retrying: the broker could not take the call right now. */
const RETRIABLE = new Set<status>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.RESOURCE_EXHAUSTED]);

/** A failed call, with the gRPC status and (when the broker gave one) the Kafka error behind it. */
export class StreamHouseError extends Error {
  /** The grpc status number (`status.NOT_FOUND` ...). */
  readonly code: status;
  /** The status name, e.g. NOT_FOUND. */
  readonly codeName: string;
  readonly details: string;
  readonly kafkaError: string | undefined;

  constructor(code: status, details: string, kafkaError?: string) {
    super(`${status[code] ?? code}: ${details}`);
    this.name = 'StreamHouseError';
    this.code = code;
    this.codeName = status[code] ?? String(code);
    this.details = details;
    this.kafkaError = kafkaError;
  }

  get retriable(): boolean {
    return RETRIABLE.has(this.code);
  }

  /** True when no connection could be made (as opposed to the broker answering UNAVAILABLE). */
  get unreachable(): boolean {
    return this.code === status.UNAVAILABLE && this.kafkaError === undefined && CONNECT_FAILURE.test(this.details);
  }

  /** Why the connection failed, in a few words. */
  get connectReason(): string {
    for (const [pattern, reason] of CONNECT_REASONS) if (pattern.test(this.details)) return reason;
    return this.details;
  }

  static from(err: ServiceError): StreamHouseError {
    const kafka = err.metadata?.get(KAFKA_ERROR_KEY)[0];
    return new StreamHouseError(err.code, err.details, typeof kafka === 'string' ? kafka : undefined);
  }
}

const CONNECT_FAILURE = /No connection established|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ETIMEDOUT|Connection dropped|Failed to connect|DNS resolution failed|Name resolution failed/i;

const CONNECT_REASONS: ReadonlyArray<[RegExp, string]> = [
  [/ECONNREFUSED/, 'connection refused'],
  [/ENOTFOUND|EAI_AGAIN|DNS resolution failed|Name resolution failed/i, 'host not found'],
  [/EHOSTUNREACH|ENETUNREACH/, 'host unreachable'],
  [/ETIMEDOUT/, 'connection timed out'],
  [/ECONNRESET|Connection dropped/i, 'connection reset'],
];
