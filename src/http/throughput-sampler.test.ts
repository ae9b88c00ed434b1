import { describe, expect, it } from 'vitest';
import { p99Between } from './throughput-sampler.js';

describe('p99Between', () => {
  it('is the upper bound of the bucket holding the 99th percentile of what was observed in between', () => {
    const before: Array<[number, number]> = [[0.001, 10], [0.01, 10], [0.1, 10], [Infinity, 10]];
    // 100 new observations: 98 under 1 ms, 1 under 10 ms, 1 under 100 ms
    const after: Array<[number, number]> = [[0.001, 108], [0.01, 109], [0.1, 110], [Infinity, 110]];
    expect(p99Between(before, after)).toBeCloseTo(10, 9);
    // 100 new observations, 2 of them slow: p99 falls in the 100 ms bucket
    expect(p99Between(before, [[0.001, 108], [0.01, 108], [0.1, 110], [Infinity, 110]])).toBeCloseTo(100, 9);
  });

  it('is null when nothing was observed, and the largest finite bound for the +Inf bucket', () => {
    const same: Array<[number, number]> = [[0.001, 5], [Infinity, 5]];
    expect(p99Between(same, same)).toBeNull();
    expect(p99Between(undefined, undefined)).toBeNull();
    expect(p99Between([[0.001, 0], [0.5, 0], [Infinity, 0]], [[0.001, 0], [0.5, 0], [Infinity, 3]])).toBe(500);
  });
});
