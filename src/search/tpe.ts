/**
 * Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio & Kégl, "Algorithms for
 * hyper-parameter optimization", NeurIPS 2011), for the flat spaces xp searches.
 *
 * The finished trials are split at the γ-quantile of their loss into "good" and "bad"; each
 * group gets a density per dimension — a Parzen (kernel) estimator with a prior component —
 * l(x) from the good ones and g(x) from the bad ones. Candidates are drawn from l and the
 * one maximising l(x)/g(x) (the expected-improvement criterion) is proposed.
 *
 *  - numeric dimensions: truncated Gaussian kernels centred on the observations plus one
 *    prior kernel at the centre of the range with σ = the range; bandwidths as in hyperopt's
 *    adaptive Parzen estimator (the larger gap to a neighbour in sorted order, clipped to
 *    [range / min(100, n + 2), range] for n observations; see `parzenKernels`);
 *    `log_uniform` works in log space; `int` and `quantized` use the kernels' mass over each
 *    value's bin, and candidates are rounded to the grid;
 *  - categorical dimensions: counts plus a pseudo-count of PRIOR_WEIGHT for every category,
 *    as hyperopt's categorical posterior (`counts + K · prior_weight · p` for a uniform p);
 *    Optuna's categorical kernels come to about the same smoothing.
 *
 * A finite space (every dimension categorical, `int` or `quantized`) of at most
 * ENUMERATE_LIMIT points is searched without repeats: the candidates are drawn from l
 * restricted to the points not yet proposed, so no proposal is spent on a configuration that
 * has already been trained (or is training) while any other remains. Larger or continuous
 * spaces draw candidates from l itself and skip repeats when they can.
 *
 * Pure and deterministic: the proposal depends only on the observations (in order), the
 * assignments already taken and the random stream it is given.
 */
import { fromUnit, tidy, clamp, assignmentId, cardinality, spaceSize, type Assignment, type Dimension, type SearchSpace } from './space.ts';

export interface Observation {
  assignment: Assignment;
  /** Lower is better; +Infinity for trials without a usable objective. */
  loss: number;
}

export interface TpeOptions {
  /** Fraction of observations in the "good" group (default 0.25). */
  gamma?: number;
  /** Candidates drawn from l(x) (default 24, as hyperopt). */
  candidates?: number;
}

export const TPE_DEFAULTS = { gamma: 0.25, candidates: 24 } as const;

/** Weight of the prior component of every density (hyperopt's and Optuna's default). */
export const PRIOR_WEIGHT = 1;
/** Finite spaces up to this many points are enumerated, so proposals never repeat a point. */
export const ENUMERATE_LIMIT = 10_000;

/**
 * One proposal. Needs at least two observations with a finite loss, else it samples at
 * random. Never returns an already proposed assignment (`taken`) while a finite space still
 * has another; in a continuous or very large space, candidates equal to one are skipped when
 * any other is available.
 */
export function tpePropose(
  space: SearchSpace,
  observations: readonly Observation[],
  rand: () => number,
  options: TpeOptions = {},
  taken: ReadonlySet<string> = new Set(),
): Assignment {
  const gamma = options.gamma ?? TPE_DEFAULTS.gamma;
  const count = options.candidates ?? TPE_DEFAULTS.candidates;
  const finite = observations.filter((o) => Number.isFinite(o.loss));
  const open = openPoints(space, taken);
  if (finite.length < 2) return open?.length ? structuredClone(open[Math.floor(rand() * open.length)].assignment) : randomAssignment(space, rand);
  // Stable sort: ties keep trial order.
  const sorted = observations.map((o, i) => ({ o, i })).sort((a, b) => a.o.loss - b.o.loss || a.i - b.i).map((x) => x.o);
  const nGood = Math.max(1, Math.min(finite.length - 1, Math.ceil(gamma * finite.length)));
  const good = sorted.slice(0, nGood);
  const bad = sorted.slice(nGood);
  const models = space.dims.map((dim) => ({
    dim,
    l: estimator(dim, good.map((o) => o.assignment[dim.key])),
    g: estimator(dim, bad.map((o) => o.assignment[dim.key])),
  }));

  if (open?.length) return proposeAmong(open, models, rand, count);

  let best: { assignment: Assignment; score: number } | undefined;
  let bestFresh: { assignment: Assignment; score: number } | undefined;
  for (let c = 0; c < count; c++) {
    const assignment: Assignment = {};
    let score = 0;
    for (const { dim, l, g } of models) {
      const internal = l.sample(rand);
      assignment[dim.key] = l.toValue(internal);
      score += l.logDensity(internal) - g.logDensity(internal);
    }
    if (!best || score > best.score) best = { assignment, score };
    if (!taken.has(assignmentId(assignment)) && (!bestFresh || score > bestFresh.score)) bestFresh = { assignment, score };
  }
  if (bestFresh) return bestFresh.assignment;
  // Every candidate repeats an earlier trial (l has collapsed onto them): explore at random.
  for (let attempt = 0; attempt < 100; attempt++) {
    const assignment = randomAssignment(space, rand);
    if (!taken.has(assignmentId(assignment))) return assignment;
  }
  return best!.assignment;
}

/** A point of a finite space with the index of its value on every dimension. */
interface FinitePoint {
  assignment: Assignment;
  indices: number[];
}

/**
 * The points of a finite space not yet taken, in grid order; null when the space is
 * continuous or larger than ENUMERATE_LIMIT.
 */
export function openPoints(space: SearchSpace, taken: ReadonlySet<string>): FinitePoint[] | null {
  const size = spaceSize(space);
  if (!Number.isFinite(size) || size > ENUMERATE_LIMIT) return null;
  let points: FinitePoint[] = [{ assignment: {}, indices: [] }];
  for (const dim of space.dims) {
    const values = finiteValues(dim);
    points = points.flatMap(({ assignment, indices }) => values.map((value, i) => ({ assignment: { ...assignment, [dim.key]: value }, indices: [...indices, i] })));
  }
  return points.filter((point) => !taken.has(assignmentId(point.assignment)));
}

function finiteValues(dim: Dimension): unknown[] {
  if (dim.kind === 'categorical' || dim.kind === 'quantized') return dim.values;
  if (dim.kind === 'int') return Array.from({ length: cardinality(dim) }, (_, i) => dim.low + i);
  throw new Error(`${dim.key} is continuous`);
}

/**
 * TPE on a finite set of points: `count` candidates drawn from l restricted to `points`
 * (each with probability ∝ l(x)), the one with the largest l(x)/g(x) proposed (the first
 * drawn among equals).
 */
function proposeAmong(points: FinitePoint[], models: { dim: Dimension; l: Estimator; g: Estimator }[], rand: () => number, count: number): Assignment {
  // Per dimension, each value's log l and log g, computed once.
  const tables = models.map(({ dim, l, g }) =>
    finiteValues(dim).map((value) => {
      const x = l.toInternal(value);
      return { l: l.logDensity(x), g: g.logDensity(x) };
    }),
  );
  const scored = points.map((point) => {
    let logL = 0;
    let logG = 0;
    point.indices.forEach((i, d) => {
      logL += tables[d][i].l;
      logG += tables[d][i].g;
    });
    return { point, logL, score: logL - logG };
  });
  const top = Math.max(...scored.map((p) => p.logL));
  const cumulative: number[] = [];
  let total = 0;
  for (const p of scored) cumulative.push((total += Math.exp(p.logL - top)));
  let best: (typeof scored)[number] | undefined;
  for (let c = 0; c < count; c++) {
    const u = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    if (!best || scored[lo].score > best.score) best = scored[lo];
  }
  return structuredClone(best!.point.assignment);
}

/** Independent uniform draws per dimension, in the space's order. */
export function randomAssignment(space: SearchSpace, rand: () => number): Assignment {
  return Object.fromEntries(space.dims.map((dim) => [dim.key, fromUnit(dim, rand())]));
}

/** A density over one dimension in its internal coordinates (index, log value or value). */
interface Estimator {
  sample(rand: () => number): number;
  logDensity(x: number): number;
  toValue(x: number): unknown;
  /** The internal coordinate of one of the dimension's values. */
  toInternal(value: unknown): number;
}

function estimator(dim: Dimension, values: unknown[]): Estimator {
  if (dim.kind === 'categorical') return categorical(dim.values, values);
  return parzen(dim, values as number[]);
}

function categorical(categories: unknown[], observed: unknown[]): Estimator {
  const ids = categories.map((c) => assignmentId({ v: c }));
  const weights = categories.map(() => PRIOR_WEIGHT);
  for (const value of observed) {
    const index = ids.indexOf(assignmentId({ v: value }));
    if (index >= 0) weights[index] += 1;
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const p = weights.map((w) => w / total);
  return {
    sample(rand) {
      let u = rand();
      for (let i = 0; i < p.length; i++) {
        u -= p[i];
        if (u < 0) return i;
      }
      return p.length - 1;
    },
    logDensity: (i) => Math.log(p[i]),
    toValue: (i) => structuredClone(categories[i]),
    toInternal: (value) => ids.indexOf(assignmentId({ v: value })),
  };
}

function parzen(dim: Exclude<Dimension, { kind: 'categorical' }>, observed: number[]): Estimator {
  const log = dim.kind === 'log_uniform';
  const forward = (v: number) => (log ? Math.log(v) : v);
  // Discrete dimensions: a value owns the bin of half a step either side.
  const step = dim.kind === 'int' ? 1 : dim.kind === 'quantized' ? dim.step : 0;
  const grid = dim.kind === 'int' ? null : dim.kind === 'quantized' ? dim.values : null;
  const low = dim.kind === 'quantized' ? dim.values[0] - step / 2 : forward(dim.low) - step / 2;
  const high = dim.kind === 'quantized' ? dim.values[dim.values.length - 1] + step / 2 : forward(dim.high) + step / 2;

  const kernels = parzenKernels(observed.map(forward), low, high);
  const totalWeight = kernels.reduce((sum, k) => sum + k.weight, 0);
  const mass = kernels.map((k) => normalCdf((high - k.mu) / k.sigma) - normalCdf((low - k.mu) / k.sigma));

  const snap = (x: number): number => {
    if (dim.kind === 'int') return clamp(Math.round(x), dim.low, dim.high);
    if (grid) return grid[nearestIndex(grid, x)];
    return x;
  };
  return {
    sample(rand) {
      let u = rand() * totalWeight;
      let k = kernels[kernels.length - 1];
      for (const kernel of kernels) {
        u -= kernel.weight;
        if (u < 0) {
          k = kernel;
          break;
        }
      }
      // Inverse CDF of the truncated normal.
      const a = normalCdf((low - k.mu) / k.sigma);
      const b = normalCdf((high - k.mu) / k.sigma);
      const p = a + rand() * (b - a);
      const x = clamp(k.mu + k.sigma * normalQuantile(clamp(p, 1e-12, 1 - 1e-12)), low, high);
      return snap(x);
    },
    logDensity(x) {
      let density = 0;
      kernels.forEach((k, i) => {
        if (mass[i] <= 0) return;
        const value = step
          ? normalCdf((Math.min(high, x + step / 2) - k.mu) / k.sigma) - normalCdf((Math.max(low, x - step / 2) - k.mu) / k.sigma)
          : normalPdf((x - k.mu) / k.sigma) / k.sigma;
        density += (k.weight * value) / mass[i];
      });
      return Math.log(Math.max(density / totalWeight, 1e-300));
    },
    toInternal: (value) => forward(value as number),
    toValue(x) {
      if (dim.kind === 'int' || dim.kind === 'quantized') return x;
      const value = log ? Math.exp(x) : x;
      return clamp(tidy(value), dim.low, dim.high);
    },
  };
}

/**
 * The kernels of a numeric Parzen estimator over [low, high] (internal coordinates), as
 * hyperopt's adaptive Parzen estimator: one per observation, in observation order, then the
 * prior (centre of the range, σ = the range, weight PRIOR_WEIGHT). An observation's σ is the
 * larger gap to its neighbours in the sorted list of observations and prior — an end point
 * has one neighbour — clipped to [range / min(100, n + 2), range]. Repeated values are
 * distinct entries of the sorted list, as in hyperopt and Optuna: the first copy's gap to the
 * second is 0, so copies get different bandwidths rather than all the narrowest.
 */
export function parzenKernels(mus: readonly number[], low: number, high: number): { mu: number; sigma: number; weight: number }[] {
  const range = high - low;
  const prior = (low + high) / 2;
  // Stable: observations in order, the prior after equal observations.
  const sorted = [...mus.map((mu, i) => ({ mu, i })), { mu: prior, i: mus.length }].sort((a, b) => a.mu - b.mu || a.i - b.i);
  const minSigma = range / Math.min(100, sorted.length + 1);
  const sigmas = new Array<number>(mus.length);
  sorted.forEach(({ mu, i }, at) => {
    if (i === mus.length) return;
    const left = at > 0 ? mu - sorted[at - 1].mu : 0;
    const right = at < sorted.length - 1 ? sorted[at + 1].mu - mu : 0;
    sigmas[i] = clamp(Math.max(left, right), minSigma, range);
  });
  return [...mus.map((mu, i) => ({ mu, sigma: sigmas[i], weight: 1 })), { mu: prior, sigma: range, weight: PRIOR_WEIGHT }];
}

function nearestIndex(sorted: readonly number[], x: number): number {
  let best = 0;
  for (let i = 1; i < sorted.length; i++) if (Math.abs(sorted[i] - x) < Math.abs(sorted[best] - x)) best = i;
  return best;
}

export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** Φ(z) via erfc with relative error < 1.2e-7 everywhere (Numerical Recipes' erfcc). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ⁻¹(p), Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
