import { backoffDelayMs } from '../../common/backoff.js';
import { describe, expect, it } from 'vitest';
import {
  AttemptTimeoutError,
  TruncatedResponseError,
  errorCodeOf,
  httpStatusOf,
  isRetryableS3Error,
} from './s3-retry.js';

function sdkError(name: string, status?: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    Code: name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });
}

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

const S3_BACKOFF = { baseMs: 100, maxMs: 5000, jitter: 'full' as const };

describe('backoffDelayMs', () => {
  it('draws uniformly below a doubling ceiling, capped', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, S3_BACKOFF, top))).toEqual([99, 199, 399, 799, 1599, 3199, 4999]);
    expect(backoffDelayMs(30, S3_BACKOFF, top)).toBe(4999);
    expect(backoffDelayMs(3, S3_BACKOFF, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, S3_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelayMs(1, { ...S3_BACKOFF, baseMs: 0 }, top)).toBe(0);
  });
});

describe('isRetryableS3Error', () => {
  it('retries 5xx, throttling and conflicts of concurrent conditional writes', () => {
    for (const err of [
      sdkError('InternalError', 500),
      sdkError('SlowDown', 503),
      sdkError('ServiceUnavailable', 503),
      sdkError('UnknownError', 502),
      sdkError('UnknownError', 504),
      sdkError('TooManyRequests', 429),
      sdkError('RequestTimeout', 400),
      sdkError('ConditionalRequestConflict', 409),
      sdkError('SlowDown'),
    ]) {
      expect(isRetryableS3Error(err), err.name).toBe(true);
    }
  });

  it('retries dropped connections, timeouts and truncated bodies', () => {
    for (const err of [
      nodeError('ECONNRESET', 'read ECONNRESET'),
      nodeError('ECONNREFUSED'),
      nodeError('EPIPE'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new Error('socket hang up'),
      new Error('aborted'),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      new AttemptTimeoutError(100),
      new TruncatedResponseError(10, 5),
      Object.assign(new Error('wrapped'), { cause: nodeError('ECONNRESET') }),
    ]) {
      expect(isRetryableS3Error(err), err.message).toBe(true);
    }
  });

  it('does not retry answers that will not change', () => {
    for (const err of [
      sdkError('AccessDenied', 403),
      sdkError('NoSuchKey', 404),
      sdkError('NoSuchBucket', 404),
      sdkError('PreconditionFailed', 412),
      sdkError('InvalidRange', 416),
      sdkError('NotImplemented', 501),
      sdkError('InvalidArgument', 400),
      nodeError('ENOTFOUND'),
      new Error('something else'),
      'a string',
      undefined,
    ]) {
      expect(isRetryableS3Error(err), String(err)).toBe(false);
    }
  });
});

describe('error details', () => {
  it('names the S3 or Node code and the status', () => {
    expect(errorCodeOf(sdkError('SlowDown', 503))).toBe('SlowDown');
    expect(errorCodeOf(nodeError('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(errorCodeOf(Object.assign(new Error('x'), { cause: nodeError('EPIPE') }))).toBe('EPIPE');
    expect(errorCodeOf(new AttemptTimeoutError(5))).toBe('ATTEMPT_TIMEOUT');
    expect(errorCodeOf(new Error('plain'))).toBe('Error');
    expect(httpStatusOf(sdkError('SlowDown', 503))).toBe(503);
    expect(httpStatusOf(new Error('x'))).toBeUndefined();
  });
});
