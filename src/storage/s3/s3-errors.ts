/**
 * An S3 request that failed for a reason other than the coded storage outcomes
 * (missing object, existing object, bad range…): the endpoint kept failing after the
 * bounded retries, or refused the request outright (credentials, bucket, permissions).
 */
export class S3RequestError extends Error {
  readonly code = 'S3_REQUEST_FAILED';
  /** S3 API operation, e.g. `PutObject`. */
  readonly operation: string;
  /** The full object key (URL prefix included), when the request named one. */
  readonly key: string | undefined;
  readonly attempts: number;
  /** HTTP status of the last response, if there was one. */
  readonly status: number | undefined;
  /** S3 error code (`SlowDown`, `AccessDenied`…) or Node error code (`ECONNREFUSED`…). */
  readonly reason: string;
  /** Whether the last failure was of a transient kind (the attempts ran out). */
  readonly retryable: boolean;

  constructor(init: {
    operation: string;
    target: string;
    key?: string;
    attempts: number;
    status?: number;
    reason: string;
    detail: string;
    retryable: boolean;
    cause?: unknown;
  }) {
    const tries = init.attempts === 1 ? '1 attempt' : `${init.attempts} attempts`;
    const status = init.status === undefined ? '' : `HTTP ${init.status} `;
    super(`S3 ${init.operation} ${init.target} failed after ${tries}: ${status}${init.reason}: ${init.detail}`, {
      cause: init.cause,
    });
    this.name = 'S3RequestError';
    this.operation = init.operation;
    this.key = init.key;
    this.attempts = init.attempts;
    this.status = init.status;
    this.reason = init.reason;
    this.retryable = init.retryable;
  }
}
