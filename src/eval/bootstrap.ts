/**
 * Percentile bootstrap confidence intervals, seeded and deterministic.
 *
 * When the test split is speaker-disjoint, clips of one speaker are not independent draws
 * (a voice the model gets wrong is wrong on most of its clips), so the unit of resampling is
 * the speaker: a resample draws as many speakers as the test set has, with replacement, and
 * takes all their clips (cluster bootstrap). Resampling clips instead would treat 300 clips of
 * 20 voices as 300 independent observations and give intervals that are too narrow.
 *
 * A resample is a vector of weights (how many times each clip was drawn), so every metric,
 * ROC-AUC included, is computed in O(clips) per resample from orderings prepared once.
 */
import {
  DEFAULT_THRESHOLD,
  labelOf,
  METRIC_NAMES,
  type Gender,
  type MetricName,
  type MetricValues,
} from './metrics.ts';
import { mixSeed, mulberry32, randomIndex } from './rng.ts';

export type BootstrapUnit = 'speaker' | 'clip';

/** The split's way of keeping test data apart decides what a bootstrap resamples. */
export function bootstrapUnit(splitBy: 'speaker' | 'clip' | 'release'): BootstrapUnit {
  // Common Voice's release splits (train/dev/test.tsv) are speaker-disjoint, like ours.
  return splitBy === 'clip' ? 'clip' : 'speaker';
}

export interface Interval {
  /** The metric on the whole test set; null when undefined there (e.g. AUC with one class). */
  value: number | null;
  /** Percentile interval bounds; null when no resample gave a defined value (or no resamples). */
  lo: number | null;
  hi: number | null;
}

export interface BootstrapOptions {
  resamples: number;
  /** Confidence level of the intervals, e.g. 0.95. */
  confidence: number;
  seed: number;
}

export interface BootstrapResult<K extends string> {
  intervals: Record<K, Interval>;
  resamples: number;
  /** Resamples thrown away as degenerate (the statistic returned null, e.g. one class only). */
  skipped: number;
  /** Per metric: kept resamples on which that metric alone was undefined (NaN), also left out. */
  undefinedCounts: Record<K, number>;
}

/** Clip indices grouped by speaker, speakers in order of first appearance. */
export function groupIndices(groups: readonly string[]): number[][] {
  const byGroup = new Map<string, number[]>();
  groups.forEach((g, i) => {
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  });
  return [...byGroup.values()];
}

/** Every clip its own cluster: the ordinary (clip) bootstrap. */
export function singletonClusters(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => [i]);
}

/** One resample: as many clusters as there are, drawn with replacement, as per-clip weights. */
export function drawWeights(clusters: readonly (readonly number[])[], clipCount: number, rng: () => number): Int32Array {
  const weights = new Int32Array(clipCount);
  for (let k = 0; k < clusters.length; k++) {
    for (const i of clusters[randomIndex(rng, clusters.length)]) weights[i]++;
  }
  return weights;
}

/** Linear-interpolation quantile (R type 7) of ascending-sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * The generic engine: `statistic(null)` is the estimate on the data as it is; `statistic(w)`
 * on a resample with clip weights `w`. Returning null marks a resample degenerate (skipped);
 * a NaN field drops that resample for that field only.
 */
export function bootstrap<K extends string>(
  names: readonly K[],
  statistic: (weights: Int32Array | null) => Record<K, number> | null,
  clusters: readonly (readonly number[])[],
  clipCount: number,
  options: BootstrapOptions,
  purpose = 'bootstrap',
): BootstrapResult<K> {
  if (!(options.confidence > 0 && options.confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${options.confidence}`);
  if (!Number.isInteger(options.resamples) || options.resamples < 0) throw new RangeError(`resamples must be a non-negative integer, got ${options.resamples}`);
  const point = statistic(null);
  const draws = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const undefinedCounts = Object.fromEntries(names.map((n) => [n, 0])) as Record<K, number>;
  let skipped = 0;
  if (clusters.length > 0) {
    const rng = mulberry32(mixSeed(options.seed, purpose));
    for (let r = 0; r < options.resamples; r++) {
      const values = statistic(drawWeights(clusters, clipCount, rng));
      if (values === null) {
        skipped++;
        continue;
      }
      for (const name of names) {
        if (Number.isNaN(values[name])) undefinedCounts[name]++;
        else draws[name].push(values[name]);
      }
    }
  } else {
    skipped = options.resamples;
  }
  const alpha = 1 - options.confidence;
  const intervals = {} as Record<K, Interval>;
  for (const name of names) {
    const sorted = Float64Array.from(draws[name]).sort();
    const value = point === null || Number.isNaN(point[name]) ? null : point[name];
    intervals[name] = sorted.length === 0
      ? { value, lo: null, hi: null }
      : { value, lo: quantileSorted(sorted, alpha / 2), hi: quantileSorted(sorted, 1 - alpha / 2) };
  }
  return { intervals, resamples: options.resamples, skipped, undefinedCounts };
}

/**
 * Everything METRIC_NAMES needs from a weighted set of clips, in O(clips): the positive class
 * and prediction of each clip, and the clips in ascending score order with tie groups marked.
 */
export class MetricsKernel {
  readonly n: number;
  private readonly actualPositive: Uint8Array;
  private readonly predictedPositive: Uint8Array;
  private readonly order: Int32Array;
  /** Positions in `order` where a group of equal scores starts, then n. */
  private readonly groupStarts: Int32Array;

  constructor(labels: ArrayLike<number>, probabilities: ArrayLike<number>, positiveClass: Gender, threshold = DEFAULT_THRESHOLD) {
    if (labels.length !== probabilities.length) throw new RangeError(`${labels.length} labels but ${probabilities.length} probabilities`);
    this.n = labels.length;
    const positive = labelOf(positiveClass);
    this.actualPositive = new Uint8Array(this.n);
    this.predictedPositive = new Uint8Array(this.n);
    const scores = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      this.actualPositive[i] = labels[i] === positive ? 1 : 0;
      const predictedMale = probabilities[i] >= threshold;
      this.predictedPositive[i] = (positiveClass === 'male') === predictedMale ? 1 : 0;
      scores[i] = positiveClass === 'male' ? probabilities[i] : 1 - probabilities[i];
    }
    this.order = Int32Array.from({ length: this.n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
    const starts: number[] = [];
    for (let k = 0; k < this.n; k++) if (k === 0 || scores[this.order[k]] !== scores[this.order[k - 1]]) starts.push(k);
    starts.push(this.n);
    this.groupStarts = Int32Array.from(starts);
  }

  /** Weighted count of positive clips and of all clips. */
  classCounts(weights: Int32Array | null): { positives: number; total: number } {
    let positives = 0;
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      const w = weights ? weights[i] : 1;
      total += w;
      positives += w * this.actualPositive[i];
    }
    return { positives, total };
  }

  metrics(weights: Int32Array | null): MetricValues {
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    for (let i = 0; i < this.n; i++) {
      const w = weights ? weights[i] : 1;
      if (w === 0) continue;
      if (this.actualPositive[i]) {
        if (this.predictedPositive[i]) tp += w;
        else fn += w;
      } else if (this.predictedPositive[i]) fp += w;
      else tn += w;
    }
    const total = tp + fp + tn + fn;
    const f1 = (a: number, b: number, c: number) => (2 * a + b + c === 0 ? NaN : (2 * a) / (2 * a + b + c));
    return {
      accuracy: total === 0 ? NaN : (tp + tn) / total,
      precision: tp + fp === 0 ? NaN : tp / (tp + fp),
      recall: tp + fn === 0 ? NaN : tp / (tp + fn),
      f1: f1(tp, fp, fn),
      macro_f1: (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2,
      roc_auc: this.auc(weights),
    };
  }

  /** Mann–Whitney AUC with weights: ties between a positive and a negative count one half. */
  auc(weights: Int32Array | null): number {
    let negativesBelow = 0;
    let pairs = 0;
    let positives = 0;
    for (let g = 0; g + 1 < this.groupStarts.length; g++) {
      let groupPositive = 0;
      let groupNegative = 0;
      for (let k = this.groupStarts[g]; k < this.groupStarts[g + 1]; k++) {
        const i = this.order[k];
        const w = weights ? weights[i] : 1;
        if (this.actualPositive[i]) groupPositive += w;
        else groupNegative += w;
      }
      pairs += groupPositive * negativesBelow + 0.5 * groupPositive * groupNegative;
      negativesBelow += groupNegative;
      positives += groupPositive;
    }
    if (positives === 0 || negativesBelow === 0) return NaN;
    return pairs / (positives * negativesBelow);
  }
}

export interface MetricsBootstrapInput extends BootstrapOptions {
  labels: ArrayLike<number>;
  probabilities: ArrayLike<number>;
  positiveClass: Gender;
  threshold?: number;
  /** Resampling units: from groupIndices(speakers) or singletonClusters(n). */
  clusters: readonly (readonly number[])[];
}

/**
 * Percentile CIs for every metric. A resample with clips of one class only is skipped (recall
 * or precision and AUC mean nothing there) and counted in `skipped`.
 */
export function bootstrapMetrics(input: MetricsBootstrapInput): BootstrapResult<MetricName> {
  const kernel = new MetricsKernel(input.labels, input.probabilities, input.positiveClass, input.threshold);
  return bootstrap(
    METRIC_NAMES,
    (weights) => {
      if (weights) {
        const { positives, total } = kernel.classCounts(weights);
        if (positives === 0 || positives === total) return null;
      }
      return kernel.metrics(weights);
    },
    input.clusters,
    kernel.n,
    input,
  );
}
