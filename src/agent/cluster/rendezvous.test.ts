import { describe, expect, it } from 'vitest';
import { rendezvousOwner } from './rendezvous.js';

const resources = Array.from({ length: 3000 }, (_, i) => `partition/t/${i}`);

describe('rendezvousOwner', () => {
  it('is undefined without agents and independent of the order agents are listed in', () => {
    expect(rendezvousOwner('x', [])).toBeUndefined();
    for (const r of resources.slice(0, 100)) expect(rendezvousOwner(r, ['a', 'b', 'c'])).toBe(rendezvousOwner(r, ['c', 'a', 'b']));
  });

  it('spreads resources evenly and moves only what the leaving agent held', () => {
    const before = new Map(resources.map((r) => [r, rendezvousOwner(r, ['a', 'b', 'c'])!]));
    const counts = new Map<string, number>();
    for (const o of before.values()) counts.set(o, (counts.get(o) ?? 0) + 1);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
    for (const r of resources) {
      const after = rendezvousOwner(r, ['a', 'c'])!;
      if (before.get(r) !== 'b') expect(after).toBe(before.get(r));
      else expect(['a', 'c']).toContain(after);
    }
  });

  it('gives a joining agent about its share, taken from everyone, and moves nothing else', () => {
    let moved = 0;
    for (const r of resources) {
      const before = rendezvousOwner(r, ['a', 'b', 'c'])!;
      const after = rendezvousOwner(r, ['a', 'b', 'c', 'd'])!;
      if (after !== before) {
        expect(after).toBe('d');
        moved++;
      }
    }
    expect(Math.abs(moved - 750)).toBeLessThan(120);
  });
});
