/**
 * A small seeded PRNG for the bootstrap: the same seed gives the same resamples on every
 * machine and Node version (Math.random cannot be seeded).
 */

export { mulberry32 } from '../data/rng.ts';

/** A 32-bit seed from a seed and a purpose, so different purposes draw independent streams. */
export function mixSeed(seed: number, purpose: string): number {
  // FNV-1a over the seed's decimal text and the purpose, then a murmur3 finaliser.
  let h = 0x811c9dc5;
  for (const ch of `${seed}\u0000${purpose}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform integer in [0, n). */
export function randomIndex(rng: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}
