import { describe, expect, test } from 'vitest';
import { createRng, deriveSeed } from '../../src/audio/rng.ts';

describe('createRng (sfc32)', () => {
  test('the same seed gives the same stream; nearby seeds give unrelated streams', () => {
    const take = (seed: number) => {
      const r = createRng(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(take(42)).toEqual(take(42));
    const a = take(1);
    const b = take(2);
    expect(a.filter((v, i) => v === b[i])).toEqual([]);
    // high bits of a 53-bit seed matter
    expect(take(2 ** 40 + 7)).not.toEqual(take(7));
  });

  test('the stream is pinned: changing the generator silently would change every augmentation', () => {
    const r = createRng(0);
    expect(Array.from({ length: 4 }, () => r.nextUint32())).toEqual(PINNED_SEED0);
  });

  test('uniform(a, b) stays in range with the right mean; int(n) covers 0..n−1', () => {
    const r = createRng(7);
    let sum = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const u = r.uniform(-2, 4);
      expect(u).toBeGreaterThanOrEqual(-2);
      expect(u).toBeLessThan(4);
      sum += u;
    }
    expect(sum / N).toBeCloseTo(1, 1);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(6));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('normal() has mean 0, variance 1 and Gaussian tails', () => {
    const r = createRng(11);
    const N = 200_000;
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < N; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(Math.abs(s / N)).toBeLessThan(0.01);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.02);
    expect(beyond2 / N).toBeCloseTo(0.0455, 2); // P(|Z| > 2)
  });

  test('rejects seeds it cannot represent exactly', () => {
    expect(() => createRng(-1)).toThrow(RangeError);
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => createRng(2 ** 53)).toThrow(RangeError);
  });
});

describe('deriveSeed', () => {
  test('depends only on its arguments, not on call order', () => {
    const forward = ['a.mp3', 'b.mp3', 'c.mp3'].map((clip) => deriveSeed(42, clip, 0));
    const backward = ['c.mp3', 'b.mp3', 'a.mp3'].map((clip) => deriveSeed(42, clip, 0)).reverse();
    expect(forward).toEqual(backward);
    expect(new Set(forward).size).toBe(3);
  });

  test('unambiguous encoding of its parts', () => {
    expect(deriveSeed(1, 'ab', 'c')).not.toBe(deriveSeed(1, 'a', 'bc'));
    expect(deriveSeed(1, 1)).not.toBe(deriveSeed(1, '1'));
    expect(deriveSeed(1, 'x')).not.toBe(deriveSeed(2, 'x'));
    expect(deriveSeed(1, 'x', 0)).not.toBe(deriveSeed(1, 'x', 1));
  });

  test('returns safe integers usable as seeds, spread over 53 bits', () => {
    let maxSeen = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const s = deriveSeed(5, `clip-${i}`);
      expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
      maxSeen = Math.max(maxSeen, s);
      seen.add(s);
    }
    expect(seen.size).toBe(10_000);
    expect(maxSeen).toBeGreaterThan(2 ** 52);
    expect(() => createRng(deriveSeed(5, 'x'))).not.toThrow();
  });
});

// First outputs of createRng(0), recorded when the generator was written (sfc32 seeded by splitmix32).
const PINNED_SEED0 = [948120312, 1840363326, 3050182893, 200480259];
