import { InvalidKeyError } from './storage-errors.js';

/** S3's limit; keeping it everywhere means a key valid locally is valid in S3. */
export const MAX_KEY_BYTES = 1024;
/** Common filesystem limit for one path component. */
export const MAX_KEY_SEGMENT_BYTES = 255;

// Control characters make keys unprintable in listings and logs.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Throws InvalidKeyError unless `key` is a relative `/`-separated path with no empty,
 * `.` or `..` segments: such keys map onto a directory tree without escaping it, and
 * mean the same thing in every backend.
 */
export function validateObjectKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(String(key), 'key must be a non-empty string');
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(key, `key is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'key must not start with "/"');
  if (CONTROL_CHARS.test(key)) throw new InvalidKeyError(key, 'key contains a control character');
  for (const segment of key.split('/')) {
    if (segment.length === 0) throw new InvalidKeyError(key, 'key has an empty path segment');
    if (segment === '.' || segment === '..') {
      throw new InvalidKeyError(key, `key has a "${segment}" path segment`);
    }
    if (Buffer.byteLength(segment, 'utf8') > MAX_KEY_SEGMENT_BYTES) {
      throw new InvalidKeyError(key, `a path segment is longer than ${MAX_KEY_SEGMENT_BYTES} bytes`);
    }
  }
}

/** Orders keys the way S3 lists them: by UTF-8 bytes, not UTF-16 code units. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
