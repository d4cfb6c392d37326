/**
 * Tiny seeded randomness for data selection and splitting.
 *
 * Everything that picks rows must be reproducible from the experiment's seed,
 * across machines and Node versions, so we use explicit integer algorithms
 * instead of Math.random: cyrb53 to turn strings (seeds, clip paths, speaker
 * ids) into well-mixed numbers, and mulberry32 as a small, fast PRNG.
 * Neither is cryptographic; they only need to be stable and well distributed.
 */

/**
 * cyrb53: a 53-bit string hash (public domain, bryc). 53 bits fit exactly in a
 * double, so hash values can be compared and sorted as plain numbers, and
 * collisions among a million keys are vanishingly rare (~n²/2^54).
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A 32-bit seed from an experiment seed (number or string) and optional salts. */
export function seed32(seed: number | string, ...salt: string[]): number {
  const text = [typeof seed === 'number' ? `n:${seed}` : `s:${seed}`, ...salt].join('\u0000');
  return hash53(text) >>> 0;
}

/**
 * Keyed hash in [0, 2^53): the same (seed, key) always gives the same value.
 * Sorting items by this value is a seeded shuffle that does not depend on the
 * order the items arrived in.
 */
export function keyedHash(seed: number, key: string): number {
  return hash53(key, seed);
}

/** mulberry32: returns a function producing floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A PRNG for a named purpose: different salts give independent streams. */
export function rngFor(seed: number | string, ...salt: string[]): () => number {
  return mulberry32(seed32(seed, ...salt));
}

/** Integer in [0, n). */
export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

/** Fisher–Yates shuffle, in place; returns the same array. */
export function shuffleInPlace<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rand, i + 1);
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
