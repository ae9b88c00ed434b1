import { describe, expect, it } from 'vitest';
import { isStorageError } from '../storage-errors.js';
import { parseContentRange, planRangeAnswer, rangeHeader } from './s3-range.js';

describe('rangeHeader', () => {
  it('turns exclusive ends into inclusive HTTP ranges', () => {
    expect(rangeHeader({ start: 0, end: 1 })).toBe('bytes=0-0');
    expect(rangeHeader({ start: 100, end: 357 })).toBe('bytes=100-356');
    expect(rangeHeader({ suffixLength: 24 })).toBe('bytes=-24');
    expect(() => rangeHeader({ start: 5, end: 5 })).toThrow('cannot express the empty range [5, 5) in HTTP');
  });
});

describe('parseContentRange', () => {
  it('reads bytes a-b/total', () => {
    expect(parseContentRange('bytes 0-9/10')).toEqual({ start: 0, end: 10, total: 10 });
    expect(parseContentRange('bytes 7-9/10')).toEqual({ start: 7, end: 10, total: 10 });
  });

  it('refuses what it cannot use', () => {
    for (const v of [undefined, '', 'bytes 0-9/*', 'bytes */10', 'bytes 5-4/10', 'bytes 0-10/10', 'items 0-1/2']) {
      expect(parseContentRange(v)).toBeUndefined();
    }
  });
});

describe('planRangeAnswer', () => {
  const whole = { start: 0, end: 10, total: 10 };

  it('slices what the server sent', () => {
    expect(planRangeAnswer(undefined, whole)).toEqual({ kind: 'slice', from: 0, to: 10 });
    expect(planRangeAnswer({ start: 2, end: 5 }, { start: 2, end: 5, total: 10 })).toEqual({ kind: 'slice', from: 0, to: 3 });
    // A server that ignores Range (200, whole body).
    expect(planRangeAnswer({ start: 2, end: 5 }, whole)).toEqual({ kind: 'slice', from: 2, to: 5 });
    expect(planRangeAnswer({ suffixLength: 3 }, { start: 7, end: 10, total: 10 })).toEqual({ kind: 'slice', from: 0, to: 3 });
    expect(planRangeAnswer({ suffixLength: 30 }, whole)).toEqual({ kind: 'slice', from: 0, to: 10 });
  });

  it('asks again explicitly when a suffix range was misread as a prefix', () => {
    // s3rver answers bytes=-3 with bytes 0-3.
    expect(planRangeAnswer({ suffixLength: 3 }, { start: 0, end: 4, total: 10 })).toEqual({ kind: 'refetch', start: 7, end: 10 });
  });

  it('throws INVALID_RANGE when the range runs past the object, which S3 silently clamps', () => {
    let err: unknown;
    try {
      planRangeAnswer({ start: 5, end: 11 }, { start: 5, end: 10, total: 10 });
    } catch (e) {
      err = e;
    }
    expect(isStorageError(err, 'INVALID_RANGE')).toBe(true);
    expect((err as Error).message).toBe('range [5, 11) exceeds object size 10');
  });
});
