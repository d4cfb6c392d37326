import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { comparePaired, mcnemarExact, type PairedClip } from '../../src/eval/paired.ts';
import { mulberry32 } from '../../src/eval/rng.ts';

/** `speakers` speakers × `clips` clips; `right(i)` says whether a model is right on clip i. */
function predictions(speakers: number, clips: number, right: (i: number, speaker: number) => boolean): PairedClip[] {
  const rows: PairedClip[] = [];
  for (let s = 0; s < speakers; s++) {
    const gender = s % 2 ? 'male' : 'female';
    for (let c = 0; c < clips; c++) {
      const i = rows.length;
      const ok = right(i, s);
      rows.push({ path: `clip${i}.mp3`, clientId: `spk${s}`, gender, pMale: ok === (gender === 'male') ? 0.9 : 0.1 });
    }
  }
  return rows;
}

const OPTIONS = { positiveClass: 'male' as const, resamples: 1000, confidence: 0.95, seed: 42 };

describe('exact McNemar', () => {
  it('matches the binomial tail by hand: 1 vs 9 discordant pairs', () => {
    // P(X <= 1), X ~ Bin(10, 1/2) = 11/1024; exact p = 22/1024; mid-p = 22/1024 − 10/1024.
    const result = mcnemarExact(1, 9);
    expect(result.pExact).toBeCloseTo(22 / 1024, 14);
    expect(result.pMid).toBeCloseTo(12 / 1024, 14);
    expect(mcnemarExact(9, 1)).toEqual({ ...result, aOnly: 9, bOnly: 1 });
  });

  it('is 1 with no or balanced disagreement, and stays finite for large counts', () => {
    expect(mcnemarExact(0, 0)).toEqual({ aOnly: 0, bOnly: 0, pExact: 1, pMid: 1 });
    expect(mcnemarExact(5, 5).pExact).toBe(1);
    expect(mcnemarExact(5, 5).pMid).toBeCloseTo(1, 12);
    const big = mcnemarExact(1000, 1150);
    expect(big.pExact).toBeGreaterThan(0.001);
    expect(big.pExact).toBeLessThan(0.003); // normal approximation: z = 150 / sqrt(2150) ≈ 3.23 → p ≈ 0.0012–0.0013
    expect(mcnemarExact(0, 2000).pExact).toBe(0); // 2^-1999 underflows: significant, not NaN
  });
});

describe('paired comparison', () => {
  const rng = mulberry32(17);
  const draws = Array.from({ length: 300 }, () => rng());
  // A is right on 75% of clips; B is right wherever A is, and on most of A's mistakes.
  const a = predictions(60, 5, (i) => draws[i] < 0.75);
  const b = predictions(60, 5, (i) => draws[i] < 0.95);

  it('calls B better when it fixes many of A’s mistakes and breaks none', () => {
    const result = comparePaired(a, b, { ...OPTIONS, unit: 'speaker' });
    expect(result.mcnemar.aOnly).toBe(0);
    expect(result.mcnemar.bOnly).toBe(draws.filter((d) => d >= 0.75 && d < 0.95).length);
    expect(result.verdict).toBe('better');
    expect(result.deltas.accuracy.lo!).toBeGreaterThan(0);
    expect(result.deltas.accuracy.value).toBeCloseTo(result.accuracy.b - result.accuracy.a, 12);
  });

  it('calls it worse the other way round', () => {
    const result = comparePaired(b, a, { ...OPTIONS, unit: 'speaker' });
    expect(result.verdict).toBe('worse');
    expect(result.deltas.accuracy.hi!).toBeLessThan(0);
  });

  it('finds no significant difference when the models trade a few mistakes', () => {
    // B fixes 3 of A's mistakes and makes 2 new ones.
    const wrongA = a.map((r, i) => i).filter((i) => draws[i] >= 0.75);
    const rightA = a.map((r, i) => i).filter((i) => draws[i] < 0.75);
    const fixed = new Set(wrongA.slice(0, 3));
    const broken = new Set(rightA.slice(0, 2));
    const c = predictions(60, 5, (i) => (draws[i] < 0.75 ? !broken.has(i) : fixed.has(i)));
    const result = comparePaired(a, c, { ...OPTIONS, unit: 'speaker' });
    expect(result.mcnemar).toMatchObject({ aOnly: 2, bOnly: 3 });
    expect(result.verdict).toBe('no significant difference');
  });

  it('does not let one speaker with many clips pass for many independent observations', () => {
    // 20 speakers; B beats A only on speaker 0's 30 clips. McNemar (clips) is sure; the speaker
    // bootstrap is not, because that one voice is absent from a third of the resamples.
    const build = (bRight: boolean) => {
      const rows: PairedClip[] = [];
      for (let s = 0; s < 20; s++) {
        const gender = s % 2 ? 'male' : 'female';
        const n = s === 0 ? 30 : 5;
        for (let c = 0; c < n; c++) {
          const right = s === 0 ? bRight : c !== 0; // everyone else: same single mistake for both
          rows.push({ path: `s${s}c${c}`, clientId: `spk${s}`, gender, pMale: right === (gender === 'male') ? 0.9 : 0.1 });
        }
      }
      return rows;
    };
    const speaker = comparePaired(build(false), build(true), { ...OPTIONS, unit: 'speaker' });
    expect(speaker.mcnemar.pExact).toBeLessThan(1e-6);
    expect(speaker.verdict).toBe('no significant difference');
    expect(speaker.deltas.accuracy.lo).toBe(0);
    const clip = comparePaired(build(false), build(true), { ...OPTIONS, unit: 'clip' });
    expect(clip.verdict).toBe('better');
  });

  it('lines the clips up by path, whatever their order', () => {
    const shuffled = [...b].reverse();
    const result = comparePaired(a, shuffled, { ...OPTIONS, unit: 'speaker' });
    expect(result).toEqual(comparePaired(a, b, { ...OPTIONS, unit: 'speaker' }));
  });

  it('refuses when the two runs were tested on different clips', () => {
    const other = b.map((r, i) => (i < 4 ? { ...r, path: `other${i}.mp3` } : r));
    expect(() => comparePaired(a, other, { ...OPTIONS, unit: 'speaker' })).toThrow(UserError);
    expect(() => comparePaired(a, other, { ...OPTIONS, unit: 'speaker' })).toThrow(
      'the two runs were not evaluated on the same test clips (4 only in A, 4 only in B, 296 shared); a paired comparison needs identical test sets',
    );
    expect(() => comparePaired(a, b.slice(1), { ...OPTIONS, unit: 'speaker' })).toThrow(/1 only in A, 0 only in B/);
    const relabelled = b.map((r, i) => (i === 0 ? { ...r, gender: 'male' as const } : r));
    expect(() => comparePaired(a, relabelled, { ...OPTIONS, unit: 'speaker' })).toThrow(/clip "clip0.mp3" has speaker\/gender spk0\/female in A but spk0\/male in B/);
  });
});
