import { describe, expect, it } from 'vitest';
import { isStorageError } from '../storage-errors.js';
import { parseS3Url, s3OptionsFromEnv } from './s3-config.js';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isStorageError(e, 'UNSUPPORTED_STORE'), String(e)).toBe(true);
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('parseS3Url', () => {
  it('splits the bucket and a normalised prefix', () => {
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://bucket/')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://my.bucket-1/a')).toEqual({ bucket: 'my.bucket-1', prefix: 'a/' });
    expect(parseS3Url('s3://bucket/a/b/')).toEqual({ bucket: 'bucket', prefix: 'a/b/' });
    expect(parseS3Url('S3://bucket/a%20b')).toEqual({ bucket: 'bucket', prefix: 'a b/' });
  });

  it('rejects bad buckets and prefixes with the URL in the message', () => {
    expect(errorOf(() => parseS3Url('s3://ab')).message).toBe(
      'storage URL s3://ab has an invalid bucket name "ab" (3-63 of a-z 0-9 . -)',
    );
    expect(errorOf(() => parseS3Url('s3://bucket/a/../b')).message).toBe(
      'storage URL s3://bucket/a/../b has an invalid prefix "a/../b"',
    );
    expect(errorOf(() => parseS3Url('s3://bucket/p#x')).message).toBe(
      'storage URL s3://bucket/p#x is not of the form s3://bucket/prefix (no query or fragment)',
    );
    for (const url of ['s3://UPPER', 's3://-dash', 's3://a..b', 's3://bucket/%zz', `s3://${'b'.repeat(64)}`]) {
      expect(errorOf(() => parseS3Url(url)).message).toContain(url);
    }
  });
});

describe('s3OptionsFromEnv', () => {
  it('defaults to AWS in us-east-1 with virtual-host addressing and the SDK credential chain', () => {
    expect(s3OptionsFromEnv('s3://bucket/p', {})).toEqual({
      bucket: 'bucket',
      prefix: 'p/',
      region: 'us-east-1',
      forcePathStyle: false,
      conditionalWrites: 'auto',
    });
  });

  it('reads the standard AWS variables and the S3_* settings', () => {
    const options = s3OptionsFromEnv('s3://bucket', {
      AWS_REGION: 'eu-west-3',
      AWS_DEFAULT_REGION: 'ignored',
      AWS_ENDPOINT_URL: 'http://ignored:1',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      S3_CONDITIONAL_WRITES: 'Native',
      S3_MAX_ATTEMPTS: '7',
      S3_REQUEST_TIMEOUT_MS: '1500',
      S3_CONNECT_TIMEOUT_MS: '250',
      S3_RETRY_BASE_DELAY_MS: '0',
      S3_RETRY_MAX_DELAY_MS: '900',
      S3_MAX_SOCKETS: '8',
    });
    expect(options).toEqual({
      bucket: 'bucket',
      prefix: '',
      region: 'eu-west-3',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      conditionalWrites: 'native',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' },
      maxAttempts: 7,
      requestTimeoutMs: 1500,
      connectTimeoutMs: 250,
      retryBaseDelayMs: 0,
      retryMaxDelayMs: 900,
      maxSockets: 8,
    });
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, and lets path style be turned off', () => {
    expect(s3OptionsFromEnv('s3://bucket', { AWS_ENDPOINT_URL: 'https://minio.local', AWS_DEFAULT_REGION: 'x-1' })).toMatchObject({
      endpoint: 'https://minio.local',
      forcePathStyle: true,
      region: 'x-1',
    });
    expect(
      s3OptionsFromEnv('s3://bucket', { AWS_ENDPOINT_URL: 'https://b', AWS_ENDPOINT_URL_S3: 'https://a', S3_FORCE_PATH_STYLE: 'false' }),
    ).toMatchObject({ endpoint: 'https://a', forcePathStyle: false });
    expect(s3OptionsFromEnv('s3://bucket', { S3_FORCE_PATH_STYLE: '1' }).forcePathStyle).toBe(true);
  });

  it('rejects invalid values in one line', () => {
    const cases: [Record<string, string>, string][] = [
      [{ S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT=not a url is not a URL (expected e.g. http://127.0.0.1:9000)'],
      [{ AWS_ENDPOINT_URL: 'ftp://x' }, 'AWS_ENDPOINT_URL=ftp://x must be an http:// or https:// URL'],
      [{ S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE=maybe is invalid: expected true or false'],
      [{ S3_MAX_ATTEMPTS: '0' }, 'S3_MAX_ATTEMPTS=0 is invalid: expected an integer >= 1'],
      [{ S3_REQUEST_TIMEOUT_MS: '1.5' }, 'S3_REQUEST_TIMEOUT_MS=1.5 is invalid: expected an integer >= 1'],
      [{ S3_RETRY_BASE_DELAY_MS: '-1' }, 'S3_RETRY_BASE_DELAY_MS=-1 is invalid: expected an integer >= 0'],
      [{ S3_CONDITIONAL_WRITES: 'always' }, 'S3_CONDITIONAL_WRITES=always is invalid: expected auto, native or emulated'],
    ];
    for (const [env, message] of cases) expect(errorOf(() => s3OptionsFromEnv('s3://bucket', env)).message).toBe(message);
  });
});
