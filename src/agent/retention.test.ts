import { describe, it, expect } from 'vitest';
import type { IndexedChunk } from '../metadata/metadata-store.js';
import { retentionCut } from './retention.js';

const chunk = (base: bigint, last: bigint, maxTimestamp: bigint, byteLength: number): IndexedChunk => ({
  objectKey: `o-${base}`,
  baseOffset: base,
  lastOffset: last,
  maxTimestamp,
  recordCount: Number(last - base + 1n),
  byteOffset: 8,
  byteLength,
});

const chunks = [chunk(0n, 9n, 1000n, 100), chunk(10n, 19n, 2000n, 100), chunk(20n, 29n, 3000n, 100)];

describe('retentionCut', () => {
  it('drops leading chunks older than retention.ms, keeping newer ones', () => {
    expect(retentionCut(chunks, { retentionMs: 1500n, retentionBytes: -1n, deletes: true }, 3600n, 0n)).toBe(20n);
    expect(retentionCut(chunks, { retentionMs: 5000n, retentionBytes: -1n, deletes: true }, 3600n, 0n)).toBe(0n);
    expect(retentionCut(chunks, { retentionMs: 10n, retentionBytes: -1n, deletes: true }, 3600n, 0n)).toBe(30n);
  });

  it('drops leading chunks while the rest still meets retention.bytes', () => {
    expect(retentionCut(chunks, { retentionMs: -1n, retentionBytes: 200n, deletes: true }, 0n, 0n)).toBe(10n);
    expect(retentionCut(chunks, { retentionMs: -1n, retentionBytes: 150n, deletes: true }, 0n, 0n)).toBe(10n);
    expect(retentionCut(chunks, { retentionMs: -1n, retentionBytes: 100n, deletes: true }, 0n, 0n)).toBe(20n);
    expect(retentionCut(chunks, { retentionMs: -1n, retentionBytes: 300n, deletes: true }, 0n, 0n)).toBe(0n);
  });

  it('stops at the first chunk that must stay, even if a later one is old', () => {
    const mixed = [chunk(0n, 9n, 5000n, 100), chunk(10n, 19n, 1000n, 100)];
    expect(retentionCut(mixed, { retentionMs: 1000n, retentionBytes: -1n, deletes: true }, 5500n, 0n)).toBe(0n);
  });
});
