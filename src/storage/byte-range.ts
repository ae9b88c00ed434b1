import type { ByteRange, SuffixRange } from './object-store.js';
import { InvalidRangeError } from './storage-errors.js';

/** Checks the shape of a range before any I/O, so bad calls fail the same way everywhere. */
export function checkRangeShape(range: ByteRange | SuffixRange | undefined): void {
  if (range === undefined) return;
  if ('suffixLength' in range) {
    if (!Number.isSafeInteger(range.suffixLength) || range.suffixLength <= 0) {
      throw new InvalidRangeError(`suffixLength must be a positive integer, got ${range.suffixLength}`);
    }
    return;
  }
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new InvalidRangeError(`invalid range [${start}, ${end})`);
  }
}

/** Turns a range into absolute [start, end) bounds for an object of `size` bytes. */
export function resolveRange(
  range: ByteRange | SuffixRange | undefined,
  size: number,
): { start: number; end: number } {
  checkRangeShape(range);
  if (range === undefined) return { start: 0, end: size };
  if ('suffixLength' in range) return { start: Math.max(0, size - range.suffixLength), end: size };
  if (range.end > size) {
    throw new InvalidRangeError(`range [${range.start}, ${range.end}) exceeds object size ${size}`);
  }
  return { start: range.start, end: range.end };
}
