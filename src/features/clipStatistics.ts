/**
 * Per-clip summaries beside the frame matrix:
 * - pooled statistics of each coefficient (mean, standard deviation, percentiles) over the whole
 *   clip or its first N frames — the input of the `logreg` and `mlp` baselines, which on real
 *   speech at this scale beat the paper's deep models (../shared/notes/science.md);
 * - F0 from YIN: two per-frame features (log F0, voicing) aligned with the feature frames, and the
 *   pooled log-F0 median, 10th / 90th percentiles and voiced fraction.
 */
import { yin } from '../audio/pitch.ts';
import type { FeatureMatrix } from './mfcc.ts';

export interface StatisticsParams {
  /** `clip`: every frame; `frames`: the first `frames` frames only (what the paper's models see). */
  over: 'clip' | 'frames';
  percentiles: number[];
}

export interface F0Params {
  fmin: number;
  fmax: number;
}

/** Values per frame that F0 adds to the feature matrix, and to the pooled vector. */
export const F0_FRAME_FEATURES = 2;
export const F0_POOLED_FEATURES = 4;

/** Length of the pooled vector for `coeffs` coefficients. */
export function pooledLength(coeffs: number, stats: StatisticsParams, f0: boolean): number {
  return coeffs * (2 + stats.percentiles.length) + (f0 ? F0_POOLED_FEATURES : 0);
}

/** Linear-interpolation percentile (numpy's default) of an ascending-sorted array. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const position = (p / 100) * (n - 1);
  const lo = Math.floor(position);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

/**
 * [mean × coeffs, std × coeffs, p₁ × coeffs, …] over `frames` rows of `feat` (all rows when null),
 * accumulated in float64. Population standard deviation, as numpy's default.
 */
export function pooledStatistics(feat: FeatureMatrix, frames: number | null, percentiles: readonly number[]): Float32Array {
  const { coeffs } = feat;
  const rows = frames === null ? feat.frames : Math.min(frames, feat.frames);
  const out = new Float32Array(coeffs * (2 + percentiles.length));
  const column = new Float64Array(rows);
  for (let c = 0; c < coeffs; c++) {
    let sum = 0;
    for (let t = 0; t < rows; t++) sum += column[t] = feat.data[t * coeffs + c]!;
    const mean = rows > 0 ? sum / rows : 0;
    let squares = 0;
    for (let t = 0; t < rows; t++) squares += (column[t]! - mean) ** 2;
    out[c] = mean;
    out[coeffs + c] = rows > 0 ? Math.sqrt(squares / rows) : 0;
    if (percentiles.length) {
      column.sort();
      percentiles.forEach((p, k) => (out[(2 + k) * coeffs + c] = percentileOfSorted(column, p)));
    }
  }
  return out;
}

export interface F0Features {
  /** [frames, 2]: log F0 (the clip's median voiced log F0 where unvoiced) and voicing (0/1). */
  perFrame: Float32Array;
  /** Median, 10th and 90th percentile of log F0 over voiced frames, and the voiced fraction. */
  pooled: Float32Array;
}

/**
 * F0 for a clip whose features have `frames` frames of `windowLength` samples every `hopLength`.
 * Each feature frame takes the YIN frame whose centre is nearest its own. A clip with no voiced
 * frame gets log of the geometric mean of fmin and fmax, a neutral value, so its rows are never
 * all zero (which would read as padding).
 */
export function f0Features(samples: Float32Array, sampleRate: number, frames: number, windowLength: number, hopLength: number, params: F0Params): F0Features {
  const track = yin(samples, sampleRate, { fmin: params.fmin, fmax: params.fmax, hopMs: (hopLength / sampleRate) * 1000 });
  const voicedLog: number[] = [];
  for (let j = 0; j < track.f0.length; j++) if (track.voiced[j]) voicedLog.push(Math.log(track.f0[j]!));
  voicedLog.sort((a, b) => a - b);
  const neutral = voicedLog.length ? percentileOfSorted(voicedLog, 50) : 0.5 * Math.log(params.fmin * params.fmax);

  const perFrame = new Float32Array(frames * F0_FRAME_FEATURES);
  const yinFrames = track.f0.length;
  const hopSeconds = track.hopLength / sampleRate;
  const firstCentre = yinFrames > 0 ? track.times[0]! : 0;
  for (let t = 0; t < frames; t++) {
    const centre = (t * hopLength + windowLength / 2) / sampleRate;
    const j = yinFrames > 0 ? Math.min(yinFrames - 1, Math.max(0, Math.round((centre - firstCentre) / hopSeconds))) : -1;
    const voiced = j >= 0 && track.voiced[j] === 1;
    perFrame[t * 2] = voiced ? Math.log(track.f0[j]!) : neutral;
    perFrame[t * 2 + 1] = voiced ? 1 : 0;
  }
  const pooled = Float32Array.of(
    neutral,
    voicedLog.length ? percentileOfSorted(voicedLog, 10) : neutral,
    voicedLog.length ? percentileOfSorted(voicedLog, 90) : neutral,
    yinFrames > 0 ? voicedLog.length / yinFrames : 0,
  );
  return { perFrame, pooled };
}

/** The feature matrix with F0's two columns appended to every frame. */
export function appendColumns(feat: FeatureMatrix, extra: Float32Array, width: number): FeatureMatrix {
  const coeffs = feat.coeffs + width;
  const data = new Float32Array(feat.frames * coeffs);
  for (let t = 0; t < feat.frames; t++) {
    data.set(feat.data.subarray(t * feat.coeffs, (t + 1) * feat.coeffs), t * coeffs);
    data.set(extra.subarray(t * width, (t + 1) * width), t * coeffs + feat.coeffs);
  }
  return { data, frames: feat.frames, coeffs };
}
