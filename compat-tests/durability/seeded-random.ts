/** mulberry32: a small seeded PRNG so a failing kill schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from DURABILITY_SEED if set, else `fallback`. */
export function seedFromEnv(fallback: number): number {
  const raw = process.env.DURABILITY_SEED;
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`DURABILITY_SEED must be an integer, got "${raw}"`);
  return n;
}
