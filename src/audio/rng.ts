/**
 * Seeded randomness for augmentation: sfc32 (Chris Doty-Humphrey's "Small Fast Counting" PRNG,
 * from PractRand) seeded through splitmix32, plus a hash-based `deriveSeed` so that each clip's
 * random stream depends only on (run seed, clip identity) and never on processing order or on
 * how many workers ran.
 */

import { hash53 } from '../data/rng.ts';

export interface Rng {
  /** Next raw 32-bit output as an unsigned integer. */
  nextUint32(): number;
  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number;
  /** Uniform in [a, b). */
  uniform(a: number, b: number): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

const TWO_POW_32 = 4294967296;

/** splitmix32: spreads a possibly low-entropy seed over the full 128-bit sfc32 state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Creates an sfc32 generator. `seed` may be any safe non-negative integer (up to 2^53 − 1, as
 * returned by `deriveSeed`); both its low and high 32-bit halves affect the stream.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`rng seed must be a non-negative safe integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  const sm = { s: lo ^ Math.imul(hi, 0x27d4eb2d) ^ 0x6a09e667 };
  let a = splitmix32(sm);
  let b = splitmix32(sm);
  let c = splitmix32(sm);
  let d = splitmix32(sm);

  const next = (): number => {
    // sfc32, straight from PractRand: a 32-bit counter `d` guarantees a minimum period of 2^32.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The reference implementation discards the first outputs so that similar seeds diverge.
  for (let i = 0; i < 12; i++) next();

  let spare = NaN;
  const float = (): number => next() / TWO_POW_32;
  return {
    nextUint32: next,
    float,
    uniform: (lo2, hi2) => lo2 + (hi2 - lo2) * float(),
    int: (n) => {
      if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) throw new RangeError(`rng.int: bad bound ${n}`);
      return Math.floor(float() * n);
    },
    normal: () => {
      if (!Number.isNaN(spare)) {
        const s = spare;
        spare = NaN;
        return s;
      }
      // Box–Muller; 1 − u keeps the log argument in (0, 1].
      const u1 = 1 - float();
      const u2 = float();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
  };
}

/**
 * A child seed from a parent seed and any labels (clip path, copy number, "noise", ...).
 * The encoding is unambiguous (type tag + length), so ("ab", "c") and ("a", "bc") differ, and
 * 1 and "1" differ.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`deriveSeed: seed must be a safe integer, got ${seed}`);
  let key = `x:${seed}`;
  for (const part of parts) {
    if (typeof part === 'number') {
      if (!Number.isFinite(part)) throw new RangeError(`deriveSeed: non-finite part ${part}`);
      key += `|n:${Object.is(part, -0) ? 0 : part}`;
    } else {
      key += `|s${part.length}:${part}`;
    }
  }
  return hash53(key);
}
