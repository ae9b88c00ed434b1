import { describe, expect, it } from 'vitest';
import type { IndexedChunk } from '../metadata/metadata-store.js';
import { BUSY_RUN_CHUNKS, planMerges } from './compactor.js';

const KIB = 1024;
const SMALL = 1024 * KIB;
const TARGET = 16 * 1024 * KIB;

/** Contiguous chunks of the given sizes (one record each), as the index lists them. */
function chunks(sizes: number[], firstOffset = 0): IndexedChunk[] {
  return sizes.map((byteLength, i) => ({
    objectKey: `o${firstOffset + i}`,
    baseOffset: BigInt(firstOffset + i),
    lastOffset: BigInt(firstOffset + i),
    maxTimestamp: 0n,
    recordCount: 1,
    byteOffset: 0,
    byteLength,
  }));
}

const sizesOf = (runs: IndexedChunk[][]) => runs.map((r) => r.map((c) => c.byteLength / KIB));

describe('planMerges', () => {
  it('merges runs of contiguous small chunks, skipping big chunks and gaps, within the target size', () => {
    const list = [...chunks([10 * KIB, 10 * KIB, 2048 * KIB, 10 * KIB, 10 * KIB, 10 * KIB]), ...chunks([10 * KIB, 10 * KIB], 100)];
    expect(sizesOf(planMerges(list, SMALL, TARGET))).toEqual([[10, 10], [10, 10, 10], [10, 10]]);
    expect(sizesOf(planMerges(chunks([600 * KIB, 600 * KIB, 600 * KIB]), SMALL, 1300 * KIB))).toEqual([[600, 600]]);
    expect(planMerges(chunks([10 * KIB]), SMALL, TARGET)).toEqual([]);
  });

  it('while a partition is written, rewrites a merged chunk only once as many new bytes joined it', () => {
    const busy = (sizes: number[]) => sizesOf(planMerges(chunks(sizes.map((s) => s * KIB)), SMALL, TARGET, false));
    expect(busy([500, 10])).toEqual([]);
    expect(busy([500, 40, 20, 10])).toEqual([]);
    expect(busy([500, 20, 10, 10])).toEqual([[20, 10, 10]]);
    // more small chunks than a busy partition may keep: the whole run
    expect(busy([500, 40, 20, 10, 10])).toEqual([[500, 40, 20, 10, 10]]);
    expect(busy([10, 10, 10])).toEqual([[10, 10, 10]]);
    // quiet: everything merges down to one chunk
    expect(sizesOf(planMerges(chunks([500 * KIB, 10 * KIB]), SMALL, TARGET, true))).toEqual([[500, 10]]);
  });

  it('under a trickle rewrites far fewer bytes than merging everything every pass, and keeps few chunks', () => {
    const simulate = (quiet: boolean) => {
      let list: number[] = [];
      let rewritten = 0;
      let maxChunks = 0;
      for (let pass = 0; pass < 90; pass++) {
        list.push(10 * KIB); // one flush per pass
        for (const run of planMerges(chunks(list), SMALL, TARGET, quiet).reverse()) {
          const start = Number(run[0]!.baseOffset);
          const bytes = run.reduce((s, c) => s + c.byteLength, 0);
          rewritten += bytes;
          list = [...list.slice(0, start), bytes, ...list.slice(start + run.length)];
        }
        maxChunks = Math.max(maxChunks, list.length);
      }
      return { written: 90 * 10 * KIB, rewritten, maxChunks };
    };
    const everyPass = simulate(true);
    const balanced = simulate(false);
    // 90 flushes of 10 KiB: merging everything each pass rewrites ~45x what was written
    expect(everyPass.rewritten / everyPass.written).toBeGreaterThan(40);
    expect(balanced.rewritten / balanced.written).toBeLessThanOrEqual(12);
    expect(balanced.maxChunks).toBeLessThanOrEqual(BUSY_RUN_CHUNKS + 1);
  });
});
