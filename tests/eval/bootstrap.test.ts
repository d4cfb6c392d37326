import { describe, expect, it } from 'vitest';
import {
  bootstrapMetrics,
  bootstrapUnit,
  groupIndices,
  quantileSorted,
  singletonClusters,
} from '../../src/eval/bootstrap.ts';
import { mulberry32 } from '../../src/eval/rng.ts';

/**
 * Test sets of `speakers` speakers × `clips` clips, genders alternating by speaker. Each
 * speaker has a probability of being classified right (speakerAccuracy); each clip is right
 * with that probability. p_male is 0.8 / 0.2 for right calls on male / female clips.
 */
function makeSet(rng: () => number, speakers: number, clips: number, speakerAccuracy: () => number) {
  const labels: number[] = [];
  const probabilities: number[] = [];
  const ids: string[] = [];
  for (let s = 0; s < speakers; s++) {
    const label = s % 2;
    const accuracy = speakerAccuracy();
    for (let c = 0; c < clips; c++) {
      const right = rng() < accuracy;
      labels.push(label);
      probabilities.push(right === (label === 1) ? 0.8 : 0.2);
      ids.push(`spk${s}`);
    }
  }
  return { labels, probabilities, ids };
}

const OPTIONS = { positiveClass: 'male' as const, confidence: 0.95 };

describe('bootstrap confidence intervals', () => {
  it('quantiles interpolate linearly between order statistics', () => {
    expect(quantileSorted([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([0, 10], 0.025)).toBeCloseTo(0.25, 12);
  });

  it('speaker-disjoint and release splits resample speakers, clip splits resample clips', () => {
    expect(bootstrapUnit('speaker')).toBe('speaker');
    expect(bootstrapUnit('release')).toBe('speaker');
    expect(bootstrapUnit('clip')).toBe('clip');
  });

  it('is deterministic per seed and changes with the seed', () => {
    const data = makeSet(mulberry32(1), 20, 5, () => 0.8);
    const clusters = groupIndices(data.ids);
    const run = (seed: number) => bootstrapMetrics({ ...data, ...OPTIONS, clusters, resamples: 300, seed });
    expect(run(42)).toEqual(run(42));
    expect(run(42).intervals.accuracy).not.toEqual(run(43).intervals.accuracy);
    const { value, lo, hi } = run(42).intervals.accuracy;
    expect(lo!).toBeLessThan(value!);
    expect(hi!).toBeGreaterThan(value!);
  });

  it('gives wider intervals resampling speakers than clips when a speaker is right or wrong on all their clips', () => {
    const rng = mulberry32(5);
    // 30 speakers × 10 clips: each speaker entirely right (p = 0.8) or entirely wrong.
    const data = makeSet(rng, 30, 10, () => (rng() < 0.8 ? 1 : 0));
    const width = (clusters: number[][]) => {
      const { lo, hi } = bootstrapMetrics({ ...data, ...OPTIONS, clusters, resamples: 1000, seed: 1 }).intervals.accuracy;
      return hi! - lo!;
    };
    const speakerWidth = width(groupIndices(data.ids));
    const clipWidth = width(singletonClusters(data.labels.length));
    // Effective sample size 30 vs 300: the width ratio should be near sqrt(10) ≈ 3.2.
    expect(speakerWidth / clipWidth).toBeGreaterThan(2.2);
    expect(speakerWidth / clipWidth).toBeLessThan(4.5);
  });

  it('covers the true accuracy about 95% of the time; clip resampling under-covers correlated data', () => {
    const rng = mulberry32(9);
    let clipCovered = 0;
    let speakerCovered = 0;
    let clipOnCorrelatedCovered = 0;
    const datasets = 150;
    for (let d = 0; d < datasets; d++) {
      // Independent clips, true accuracy 0.85.
      const independent = makeSet(rng, 100, 2, () => 0.85);
      const clip = bootstrapMetrics({ ...independent, ...OPTIONS, clusters: singletonClusters(200), resamples: 400, seed: d }).intervals.accuracy;
      if (clip.lo! <= 0.85 && 0.85 <= clip.hi!) clipCovered++;
      // Speakers half at 0.5, half at 1.0 accuracy, 5 clips each: true accuracy 0.75.
      const correlated = makeSet(rng, 40, 5, () => (rng() < 0.5 ? 0.5 : 1));
      const speaker = bootstrapMetrics({ ...correlated, ...OPTIONS, clusters: groupIndices(correlated.ids), resamples: 400, seed: d }).intervals.accuracy;
      if (speaker.lo! <= 0.75 && 0.75 <= speaker.hi!) speakerCovered++;
      const wrong = bootstrapMetrics({ ...correlated, ...OPTIONS, clusters: singletonClusters(200), resamples: 400, seed: d }).intervals.accuracy;
      if (wrong.lo! <= 0.75 && 0.75 <= wrong.hi!) clipOnCorrelatedCovered++;
    }
    expect(clipCovered / datasets).toBeGreaterThan(0.88);
    expect(speakerCovered / datasets).toBeGreaterThan(0.88);
    expect(clipOnCorrelatedCovered / datasets).toBeLessThan(speakerCovered / datasets - 0.05);
  });

  it('skips resamples that hold one class only, and counts them', () => {
    // Two speakers, one per class: a resample draws the same speaker twice half the time.
    const labels = [1, 1, 1, 0, 0, 0];
    const probabilities = [0.9, 0.8, 0.3, 0.2, 0.1, 0.6];
    const ids = ['m', 'm', 'm', 'f', 'f', 'f'];
    const result = bootstrapMetrics({ labels, probabilities, ...OPTIONS, clusters: groupIndices(ids), resamples: 1000, seed: 3 });
    expect(result.skipped).toBeGreaterThan(400);
    expect(result.skipped).toBeLessThan(600);
    // Every kept resample is the original set in some multiplicity, so the interval collapses.
    expect(result.intervals.accuracy).toEqual({ value: 4 / 6, lo: 4 / 6, hi: 4 / 6 });
  });

  it('leaves out resamples where one metric alone is undefined, and says how many', () => {
    // Nothing is ever predicted male: precision is undefined on every resample.
    const labels = [1, 0, 1, 0];
    const probabilities = [0.1, 0.2, 0.3, 0.4];
    const result = bootstrapMetrics({ labels, probabilities, ...OPTIONS, clusters: singletonClusters(4), resamples: 200, seed: 1 });
    expect(result.intervals.precision).toEqual({ value: null, lo: null, hi: null });
    expect(result.undefinedCounts.precision).toBe(200 - result.skipped);
    expect(result.intervals.accuracy.lo).not.toBeNull();
  });

  it('gives no interval with zero resamples', () => {
    const result = bootstrapMetrics({ labels: [1, 0], probabilities: [0.9, 0.1], ...OPTIONS, clusters: singletonClusters(2), resamples: 0, seed: 1 });
    expect(result.intervals.accuracy).toEqual({ value: 1, lo: null, hi: null });
  });
});
