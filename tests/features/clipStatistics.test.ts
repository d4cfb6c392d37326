import { describe, expect, it } from 'vitest';
import { appendColumns, f0Features, percentileOfSorted, pooledLength, pooledStatistics } from '../../src/features/clipStatistics.ts';

const tone = (freq: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));

describe('pooled per-clip statistics', () => {
  // 4 frames × 2 coefficients: column 0 = 1, 2, 3, 10; column 1 = −1, −1, −1, −1.
  const feat = { data: Float32Array.of(1, -1, 2, -1, 3, -1, 10, -1), frames: 4, coeffs: 2 };

  it('lays out mean, std (population) and percentiles coefficient by coefficient', () => {
    const out = pooledStatistics(feat, null, [50, 100]);
    expect(out.length).toBe(pooledLength(2, { over: 'clip', percentiles: [50, 100] }, false));
    const mean0 = 4;
    const std0 = Math.sqrt(((1 - 4) ** 2 + (2 - 4) ** 2 + (3 - 4) ** 2 + (10 - 4) ** 2) / 4);
    expect(Array.from(out)).toEqual([mean0, -1, Math.fround(std0), 0, 2.5, -1, 10, -1].map(Math.fround));
  });

  it('over the first N frames only when asked (what a 3 s model sees)', () => {
    expect(Array.from(pooledStatistics(feat, 3, []))).toEqual([2, -1, Math.fround(Math.sqrt(2 / 3)), 0]);
  });

  it('percentiles interpolate linearly, as numpy', () => {
    expect(percentileOfSorted([1, 2, 3, 4], 25)).toBeCloseTo(1.75, 12);
    expect(percentileOfSorted([5], 90)).toBe(5);
  });
});

describe('F0 features', () => {
  it('a 150 Hz tone: log F0 in every frame, fully voiced, pooled median = log 150', () => {
    const rate = 16000;
    const x = tone(150, rate, 1);
    const frames = 1 + Math.floor((x.length - 400) / 160);
    const f0 = f0Features(x, rate, frames, 400, 160, { fmin: 60, fmax: 400 });
    expect(f0.perFrame.length).toBe(frames * 2);
    for (let t = 0; t < frames; t++) {
      expect(Math.abs(f0.perFrame[t * 2]! - Math.log(150))).toBeLessThan(0.01);
      expect(f0.perFrame[t * 2 + 1]).toBe(1);
    }
    expect(Math.abs(f0.pooled[0]! - Math.log(150))).toBeLessThan(0.01);
    expect(f0.pooled[3]).toBe(1);
  });

  it('silence: unvoiced rows carry a neutral log F0, never an all-zero row (which would read as padding)', () => {
    const f0 = f0Features(new Float32Array(16000), 16000, 98, 400, 160, { fmin: 60, fmax: 400 });
    expect(f0.pooled[3]).toBe(0);
    for (let t = 0; t < 98; t++) {
      expect(f0.perFrame[t * 2]).toBeCloseTo(0.5 * Math.log(60 * 400), 5);
      expect(f0.perFrame[t * 2 + 1]).toBe(0);
    }
  });

  it('appends columns frame by frame', () => {
    const joined = appendColumns({ data: Float32Array.of(1, 2, 3, 4), frames: 2, coeffs: 2 }, Float32Array.of(9, 8, 7, 6), 2);
    expect(joined.coeffs).toBe(4);
    expect(Array.from(joined.data)).toEqual([1, 2, 9, 8, 3, 4, 7, 6]);
  });
});
