import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { compareKeys, validateObjectKey } from '../object-key.js';
import { newSegmentKey, parseSegmentKey, SegmentKeyGenerator, segmentKeyPrefix } from './segment-key.js';

function fixedRandom(): () => string {
  let n = 0;
  return () => (n++).toString(16).padStart(8, '0');
}

describe('segment keys', () => {
  it('has the documented shape', () => {
    const gen = new SegmentKeyGenerator('agent-1', () => 1_700_000_000_123, () => 'deadbeef');
    const hash = (crc32c('agent-1') & 0xff).toString(16).padStart(2, '0');
    expect(gen.next()).toBe(`${hash}/agent-1/001700000000123-000000-deadbeef.seg`);
    expect(gen.next()).toBe(`${hash}/agent-1/001700000000123-000001-deadbeef.seg`);
  });

  it('sorts by time within an agent, even within one ms or when the clock steps back', () => {
    const clock = [5, 5, 5, 9, 7, 7, 12, 3];
    let i = 0;
    const gen = new SegmentKeyGenerator('a', () => clock[i++]!, fixedRandom());
    const keys = clock.map(() => gen.next());
    expect(keys.map((k) => parseSegmentKey(k)!).map((p) => [p.timestampMs, p.counter])).toEqual([
      [5, 0],
      [5, 1],
      [5, 2],
      [9, 0],
      [9, 1],
      [9, 2],
      [12, 0],
      [12, 1],
    ]);
    expect([...keys].sort(compareKeys)).toEqual(keys);
  });

  it('moves to the next millisecond when the per-ms counter is exhausted', () => {
    const gen = new SegmentKeyGenerator('a', () => 100, () => '00000000');
    let last = '';
    for (let n = 0; n < 1_000_000; n++) last = gen.next();
    expect(parseSegmentKey(last)).toMatchObject({ timestampMs: 100, counter: 999_999 });
    const overflow = gen.next();
    expect(parseSegmentKey(overflow)).toMatchObject({ timestampMs: 101, counter: 0 });
    expect(compareKeys(last, overflow)).toBeLessThan(0);
  });

  it('produces unique, valid object keys', () => {
    const keys = new Set<string>();
    for (let n = 0; n < 10_000; n++) keys.add(newSegmentKey('agent-unique'));
    expect(keys.size).toBe(10_000);
    for (const key of [...keys].slice(0, 100)) expect(() => validateObjectKey(key)).not.toThrow();
    // Two generators for the same agent (e.g. a restarted process) differ by the random part.
    const a = new SegmentKeyGenerator('x', () => 1).next();
    const b = new SegmentKeyGenerator('x', () => 1).next();
    expect(a).not.toBe(b);
  });

  it('keeps every key of an agent under one prefix', () => {
    const prefix = segmentKeyPrefix('agent-7');
    for (let n = 0; n < 5; n++) expect(newSegmentKey('agent-7').startsWith(prefix)).toBe(true);
    expect(prefix).toMatch(/^[0-9a-f]{2}\/agent-7\/$/);
  });

  it('spreads agents over hash prefixes', () => {
    const prefixes = new Set<string>();
    for (let n = 0; n < 100; n++) prefixes.add(segmentKeyPrefix(`agent-${n}`).slice(0, 2));
    expect(prefixes.size).toBeGreaterThan(50);
  });

  it('encodes agent ids that are not safe as one path segment', () => {
    for (const id of ['a/b', '..', '.', 'host.example.com:9092', 'ünï 😀', '100%']) {
      const key = new SegmentKeyGenerator(id, () => 42, () => 'abcdef01').next();
      expect(() => validateObjectKey(key)).not.toThrow();
      expect(key.split('/').length).toBe(3);
      expect(parseSegmentKey(key)).toEqual({
        hashPrefix: key.slice(0, 2),
        agentId: id,
        timestampMs: 42,
        counter: 0,
        random: 'abcdef01',
      });
    }
    expect(segmentKeyPrefix('a/b')).toMatch(/^[0-9a-f]{2}\/a%2Fb\/$/);
    expect(segmentKeyPrefix('..')).toMatch(/^[0-9a-f]{2}\/%2E%2E\/$/);
    expect(segmentKeyPrefix('host.example.com')).toMatch(/\/host\.example\.com\/$/);
    expect(() => new SegmentKeyGenerator('')).toThrow('agentId must not be empty');
  });

  it('refuses to parse keys it did not make', () => {
    const good = new SegmentKeyGenerator('agent-1', () => 1, () => '0badf00d').next();
    expect(parseSegmentKey(good)).toBeDefined();
    const wrongHash = (good.startsWith('00') ? 'ff' : '00') + good.slice(2);
    expect(parseSegmentKey(wrongHash)).toBeUndefined();
    expect(parseSegmentKey(good.replace('.seg', '.tmp'))).toBeUndefined();
    expect(parseSegmentKey('other/object')).toBeUndefined();
  });
});
