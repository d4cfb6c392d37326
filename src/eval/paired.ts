/**
 * Is model B better than model A on the same test clips? Two paired views of the question:
 *
 * - Exact McNemar test: among clips the two models disagree on (one right, one wrong), is
 *   "B right" more or less frequent than a fair coin would make it? Two-sided exact binomial
 *   p-value, p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½). The mid-p value
 *   (less conservative) is reported too, but the verdict uses the exact p.
 * - Paired bootstrap of the accuracy and F1 differences (B − A), resampling speakers when the
 *   split is by speaker, so one voice the models disagree on cannot pass for many observations.
 *
 * McNemar treats clips as independent, which clips of one speaker are not; so a verdict of
 * "better" or "worse" needs both: McNemar's exact p below α = 1 − confidence, and the
 * bootstrap interval of the accuracy difference on one side of zero. Otherwise "no significant
 * difference".
 */
import { UserError } from '../errors.ts';
import { bootstrap, groupIndices, MetricsKernel, singletonClusters, type BootstrapUnit, type Interval } from './bootstrap.ts';
import { DEFAULT_THRESHOLD, labelOf, type Gender } from './metrics.ts';

/** One test clip with one model's output, as read from predictions.csv. */
export interface PairedClip {
  path: string;
  clientId: string;
  gender: Gender;
  pMale: number;
}

export interface McNemarResult {
  /** Clips A got right and B got wrong. */
  aOnly: number;
  /** Clips B got right and A got wrong. */
  bOnly: number;
  /** Two-sided exact binomial p-value (used for the verdict). */
  pExact: number;
  /** Two-sided mid-p value: the exact p less the probability of the observed table. */
  pMid: number;
}

export type Verdict = 'better' | 'worse' | 'no significant difference';

export interface PairedComparison {
  n: number;
  speakers: number;
  positiveClass: Gender;
  confidence: number;
  accuracy: { a: number; b: number };
  f1: { a: number; b: number };
  mcnemar: McNemarResult;
  /** B − A with percentile bootstrap intervals. */
  deltas: { accuracy: Interval; f1: Interval };
  bootstrap: { resamples: number; skipped: number; unit: BootstrapUnit };
  /** Of B relative to A. */
  verdict: Verdict;
  /** One sentence saying why. */
  reason: string;
}

export interface PairedOptions {
  positiveClass: Gender;
  resamples: number;
  confidence: number;
  seed: number;
  unit: BootstrapUnit;
  threshold?: number;
}

/** Exact McNemar from the discordant counts. */
export function mcnemarExact(aOnly: number, bOnly: number): McNemarResult {
  const n = aOnly + bOnly;
  if (n === 0) return { aOnly, bOnly, pExact: 1, pMid: 1 };
  const k = Math.min(aOnly, bOnly);
  const logHalfN = -n * Math.LN2;
  let logChoose = 0; // log C(n, 0)
  let tail = 0; // P(X <= k)
  let atK = 0;
  for (let j = 0; j <= k; j++) {
    if (j > 0) logChoose += Math.log((n - j + 1) / j);
    const p = Math.exp(logChoose + logHalfN);
    tail += p;
    if (j === k) atK = p;
  }
  // mid-p = 2·(P(X < k) + ½·P(X = k)); with b = c both come out as 1.
  return { aOnly, bOnly, pExact: Math.min(1, 2 * tail), pMid: Math.min(1, 2 * tail - atK) };
}

/**
 * Lines A and B up by clip path; refuses (UserError) unless both hold exactly the same clips
 * with the same speaker and gender.
 */
export function alignClips(a: readonly PairedClip[], b: readonly PairedClip[]): { a: PairedClip[]; b: PairedClip[] } {
  const byPath = (rows: readonly PairedClip[], which: string) => {
    const map = new Map<string, PairedClip>();
    for (const row of rows) {
      if (map.has(row.path)) throw new UserError(`run ${which}'s predictions list clip "${row.path}" twice`);
      map.set(row.path, row);
    }
    return map;
  };
  const mapA = byPath(a, 'A');
  const mapB = byPath(b, 'B');
  const onlyA = [...mapA.keys()].filter((p) => !mapB.has(p));
  const onlyB = [...mapB.keys()].filter((p) => !mapA.has(p));
  if (onlyA.length || onlyB.length) {
    throw new UserError(
      `the two runs were not evaluated on the same test clips (${onlyA.length} only in A, ${onlyB.length} only in B, ${mapA.size - onlyA.length} shared); a paired comparison needs identical test sets`,
      [
        ...onlyA.slice(0, 3).map((p) => `  only in A: ${p}`),
        ...onlyB.slice(0, 3).map((p) => `  only in B: ${p}`),
        'hint: compare runs with the same data, subset, split and seed',
      ],
    );
  }
  const alignedB: PairedClip[] = [];
  for (const row of a) {
    const other = mapB.get(row.path)!;
    if (other.gender !== row.gender || other.clientId !== row.clientId) {
      throw new UserError(`clip "${row.path}" has speaker/gender ${row.clientId}/${row.gender} in A but ${other.clientId}/${other.gender} in B`);
    }
    alignedB.push(other);
  }
  return { a: [...a], b: alignedB };
}

export function comparePaired(runA: readonly PairedClip[], runB: readonly PairedClip[], options: PairedOptions): PairedComparison {
  const { a, b } = alignClips(runA, runB);
  if (a.length === 0) throw new UserError('no test clips to compare');
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const labels = Uint8Array.from(a, (row) => labelOf(row.gender));
  const kernelA = new MetricsKernel(labels, a.map((r) => r.pMale), options.positiveClass, threshold);
  const kernelB = new MetricsKernel(labels, b.map((r) => r.pMale), options.positiveClass, threshold);

  let aOnly = 0;
  let bOnly = 0;
  for (let i = 0; i < a.length; i++) {
    const rightA = (a[i].pMale >= threshold ? 1 : 0) === labels[i];
    const rightB = (b[i].pMale >= threshold ? 1 : 0) === labels[i];
    if (rightA && !rightB) aOnly++;
    else if (rightB && !rightA) bOnly++;
  }
  const mcnemar = mcnemarExact(aOnly, bOnly);

  const speakerIds = a.map((r) => r.clientId);
  const clusters = options.unit === 'speaker' ? groupIndices(speakerIds) : singletonClusters(a.length);
  const result = bootstrap(
    ['accuracy', 'f1'] as const,
    (weights) => {
      if (weights) {
        const { positives, total } = kernelA.classCounts(weights);
        if (positives === 0 || positives === total) return null;
      }
      const ma = kernelA.metrics(weights);
      const mb = kernelB.metrics(weights);
      return { accuracy: mb.accuracy - ma.accuracy, f1: mb.f1 - ma.f1 };
    },
    clusters,
    a.length,
    options,
    'paired-bootstrap',
  );
  const full = { a: kernelA.metrics(null), b: kernelB.metrics(null) };
  const { verdict, reason } = decide(mcnemar, result.intervals.accuracy, options.confidence, options.unit);
  return {
    n: a.length,
    speakers: new Set(speakerIds).size,
    positiveClass: options.positiveClass,
    confidence: options.confidence,
    accuracy: { a: full.a.accuracy, b: full.b.accuracy },
    f1: { a: full.a.f1, b: full.b.f1 },
    mcnemar,
    deltas: result.intervals,
    bootstrap: { resamples: result.resamples, skipped: result.skipped, unit: options.unit },
    verdict,
    reason,
  };
}

function decide(mcnemar: McNemarResult, delta: Interval, confidence: number, unit: BootstrapUnit): { verdict: Verdict; reason: string } {
  const alpha = 1 - confidence;
  const level = `${round(confidence * 100)}%`;
  const p = `McNemar exact p = ${formatP(mcnemar.pExact)}`;
  if (mcnemar.pExact >= alpha) {
    return { verdict: 'no significant difference', reason: `${p} ≥ α = ${round(alpha)} (${mcnemar.bOnly} clips only B got right, ${mcnemar.aOnly} only A)` };
  }
  const direction: Verdict = mcnemar.bOnly > mcnemar.aOnly ? 'better' : 'worse';
  if (delta.lo === null || delta.hi === null) {
    return { verdict: direction, reason: `${p} < α = ${round(alpha)}; no bootstrap interval to check it against` };
  }
  const interval = `${level} ${unit} bootstrap interval of Δaccuracy [${signed(delta.lo)}, ${signed(delta.hi)}] points`;
  if ((direction === 'better' && delta.lo > 0) || (direction === 'worse' && delta.hi < 0)) {
    return { verdict: direction, reason: `${p} < α = ${round(alpha)} and the ${interval} excludes 0` };
  }
  return {
    verdict: 'no significant difference',
    reason: `${p} < α = ${round(alpha)}, but the ${interval} includes 0`,
  };
}

export function formatP(p: number): string {
  if (p < 0.0001) return p.toExponential(1);
  return p.toPrecision(2);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function signed(x: number): string {
  const pct = (x * 100).toFixed(1);
  return x > 0 ? `+${pct}` : pct;
}
