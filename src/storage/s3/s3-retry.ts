// Which S3 failures are worth another attempt, and how long to wait before it.

/** Raised by the store itself when one attempt ran past its deadline. */
export class AttemptTimeoutError extends Error {
  readonly code = 'ATTEMPT_TIMEOUT';
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

/** The response body ended before the length the server announced. */
export class TruncatedResponseError extends Error {
  readonly code = 'TRUNCATED_RESPONSE';
  constructor(expected: number, got: number) {
    super(`response body has ${got} bytes, expected ${expected}`);
    this.name = 'TruncatedResponseError';
  }
}

// S3 error codes that mean "try again later", whatever the status says.
const RETRYABLE_S3_CODES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'TransientError',
  // A concurrent conditional write to the same key was in flight; AWS says retry.
  'ConditionalRequestConflict',
]);

// Socket-level failures: the request may or may not have reached the server.
const RETRYABLE_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'ATTEMPT_TIMEOUT',
  'TRUNCATED_RESPONSE',
]);

const RETRYABLE_MESSAGES = /socket hang up|^aborted$|premature close|other side closed/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : undefined;
}

/** HTTP status of an SDK error, if the server answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  const status = asErrorLike(err)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`…) or Node error code, best effort. */
export function errorCodeOf(err: unknown): string {
  const e = asErrorLike(err);
  if (e === undefined) return String(err);
  for (const candidate of [e.Code, e.code, asErrorLike(e.cause)?.code, e.name]) {
    if (typeof candidate === 'string' && candidate.length > 0 && candidate !== 'Error') return candidate;
  }
  return 'Error';
}

/** True for failures another attempt may fix: 5xx, throttling, timeouts, dropped connections. */
export function isRetryableS3Error(err: unknown): boolean {
  const e = asErrorLike(err);
  if (e === undefined) return false;
  const status = httpStatusOf(err);
  const names = [e.Code, e.code, e.name, asErrorLike(e.cause)?.code].filter((v): v is string => typeof v === 'string');
  if (names.some((n) => RETRYABLE_S3_CODES.has(n) || RETRYABLE_NODE_CODES.has(n))) return true;
  if (names.includes('TimeoutError')) return true;
  if (status !== undefined) {
    // 501/505 say the server will never do this; other 5xx are transient.
    if (status >= 500) return status !== 501 && status !== 505;
    return status === 408 || status === 429;
  }
  return typeof e.message === 'string' && RETRYABLE_MESSAGES.test(e.message);
}

