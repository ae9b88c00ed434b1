import { describe, expect, it } from 'vitest';
import { coordinatorShardOf, javaStringHash } from './coordinator-shards.js';

describe('coordinator shards', () => {
  it('hashes like Java String.hashCode, overflow included', () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('a')).toBe(97);
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('my-group-with-a-long-name')).toBe(1977297176);
    expect(javaStringHash('Aa')).toBe(javaStringHash('BB'));
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
  });

  it("maps a group to abs(hash) mod shards, with Kafka's abs(MIN_VALUE) = 0", () => {
    expect(coordinatorShardOf('hello')).toBe(22);
    expect(coordinatorShardOf('my-group-with-a-long-name')).toBe(26);
    expect(coordinatorShardOf('polygenelubricants')).toBe(0);
    expect(coordinatorShardOf('hello', 7)).toBe(99162322 % 7);
  });
});
