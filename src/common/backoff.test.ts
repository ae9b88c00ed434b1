import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from the base up to the cap; full jitter spans [0, cap), equal jitter [cap/2, cap]', () => {
    const full = { baseMs: 100, maxMs: 5000, jitter: 'full' as const };
    expect([1, 2, 3, 4, 5, 6, 7, 40].map((n) => backoffDelayMs(n, full, () => 0.9999))).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    expect(backoffDelayMs(3, full, () => 0)).toBe(0);
    const equal = { baseMs: 50, maxMs: 1000, jitter: 'equal' as const };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, equal, () => 0))).toEqual([25, 50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, equal, () => 1))).toEqual([50, 100, 200, 400, 800, 1000]);
  });
});
