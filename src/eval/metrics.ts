/**
 * Classification metrics for the two-class gender task. Pure functions.
 *
 * Conventions (xp's training labels): label 1 = male, 0 = female; a model outputs p_male.
 * A clip is predicted male when p_male >= threshold (0.5 by default). Precision, recall and
 * F1 are those of the *positive class*, which the spec chooses (`eval.positive_class`): with
 * positive class female, a "positive" is a female clip and its score is 1 − p_male.
 *
 * A metric that is undefined on the given data (recall with no positive clips, precision with
 * no positive predictions, ROC-AUC with one class only) is NaN, never a made-up 0.
 */

export type Gender = 'male' | 'female';

export const MALE = 1;
export const FEMALE = 0;

export const METRIC_NAMES = ['accuracy', 'precision', 'recall', 'f1', 'macro_f1', 'roc_auc'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type MetricValues = Record<MetricName, number>;

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  labels: { positive: Gender; negative: Gender };
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** Positive-class score at or above which a clip is called positive; null for the (0, 0) start. */
  threshold: number | null;
}

export const DEFAULT_THRESHOLD = 0.5;

export function labelOf(gender: Gender): number {
  return gender === 'male' ? MALE : FEMALE;
}

export function genderOf(label: number): Gender {
  return label === MALE ? 'male' : 'female';
}

export function otherClass(gender: Gender): Gender {
  return gender === 'male' ? 'female' : 'male';
}

/** The predicted label (1 = male) of each clip. */
export function predictLabels(probabilities: ArrayLike<number>, threshold = DEFAULT_THRESHOLD): Uint8Array {
  const out = new Uint8Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) out[i] = probabilities[i] >= threshold ? MALE : FEMALE;
  return out;
}

/** Counts over `indices` (all clips when omitted; repeated indices count repeatedly, as a bootstrap needs). */
export function confusion(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  positiveClass: Gender,
  threshold = DEFAULT_THRESHOLD,
  indices?: ArrayLike<number>,
): Confusion {
  checkLengths(labels, probabilities);
  const positive = labelOf(positiveClass);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const n = indices ? indices.length : labels.length;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    const predicted = probabilities[i] >= threshold ? MALE : FEMALE;
    const actualPositive = labels[i] === positive;
    const predictedPositive = predicted === positive;
    if (actualPositive && predictedPositive) tp++;
    else if (actualPositive) fn++;
    else if (predictedPositive) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn, labels: { positive: positiveClass, negative: otherClass(positiveClass) } };
}

export function accuracyOf(c: Confusion): number {
  const n = c.tp + c.fp + c.tn + c.fn;
  return n === 0 ? NaN : (c.tp + c.tn) / n;
}

export function precisionOf(c: Confusion): number {
  return c.tp + c.fp === 0 ? NaN : c.tp / (c.tp + c.fp);
}

export function recallOf(c: Confusion): number {
  return c.tp + c.fn === 0 ? NaN : c.tp / (c.tp + c.fn);
}

/** 2·TP / (2·TP + FP + FN): defined whenever the class occurs or is predicted at all. */
export function f1Of(c: Confusion): number {
  const denominator = 2 * c.tp + c.fp + c.fn;
  return denominator === 0 ? NaN : (2 * c.tp) / denominator;
}

/** Unweighted mean of the two classes' F1 (the negative class's F1 swaps tp ↔ tn and fp ↔ fn). */
export function macroF1Of(c: Confusion): number {
  const negative: Confusion = { tp: c.tn, fp: c.fn, tn: c.tp, fn: c.fp, labels: { positive: c.labels.negative, negative: c.labels.positive } };
  return (f1Of(c) + f1Of(negative)) / 2;
}

/** The positive class's score of clip i: p_male for male, 1 − p_male for female. */
function scoreOf(probabilities: ArrayLike<number>, i: number, positiveClass: Gender): number {
  return positiveClass === 'male' ? probabilities[i] : 1 - probabilities[i];
}

/**
 * ROC-AUC as the Mann–Whitney statistic: the probability that a random positive clip scores
 * above a random negative one, ties counting one half (midranks). NaN with one class only.
 * The value is the same for either positive class (its score is 1 − p_male, ranks reverse).
 */
export function rocAuc(labels: ArrayLike<number>, probabilities: ArrayLike<number>, positiveClass: Gender, indices?: ArrayLike<number>): number {
  checkLengths(labels, probabilities);
  const positive = labelOf(positiveClass);
  const n = indices ? indices.length : labels.length;
  const scores = new Float64Array(n);
  const isPositive = new Uint8Array(n);
  let positives = 0;
  for (let k = 0; k < n; k++) {
    const i = indices ? indices[k] : k;
    scores[k] = scoreOf(probabilities, i, positiveClass);
    isPositive[k] = labels[i] === positive ? 1 : 0;
    positives += isPositive[k];
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  const order = Array.from({ length: n }, (_, k) => k).sort((x, y) => scores[x] - scores[y]);
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const midrank = (start + 1 + end) / 2; // ranks start..end-1 are 1-based start+1..end
    for (let k = start; k < end; k++) if (isPositive[order[k]]) positiveRankSum += midrank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The ROC curve: one point per distinct positive-class score, from (0, 0) to (1, 1). Tied
 * scores move both rates at once (a diagonal step), which is what the AUC's ties count as.
 */
export function rocCurve(labels: ArrayLike<number>, probabilities: ArrayLike<number>, positiveClass: Gender): RocPoint[] {
  checkLengths(labels, probabilities);
  const positive = labelOf(positiveClass);
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] === positive) positives++;
  const negatives = n - positives;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (x, y) => scoreOf(probabilities, y, positiveClass) - scoreOf(probabilities, x, positiveClass),
  );
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let tp = 0;
  let fp = 0;
  for (let start = 0; start < n; ) {
    const score = scoreOf(probabilities, order[start], positiveClass);
    let end = start;
    while (end < n && scoreOf(probabilities, order[end], positiveClass) === score) {
      if (labels[order[end]] === positive) tp++;
      else fp++;
      end++;
    }
    points.push({ fpr: negatives ? fp / negatives : NaN, tpr: positives ? tp / positives : NaN, threshold: score });
    start = end;
  }
  return points;
}

/** Every metric of METRIC_NAMES over `indices` (all clips when omitted). */
export function computeMetrics(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  positiveClass: Gender,
  threshold = DEFAULT_THRESHOLD,
  indices?: ArrayLike<number>,
): MetricValues {
  const c = confusion(labels, probabilities, positiveClass, threshold, indices);
  return {
    accuracy: accuracyOf(c),
    precision: precisionOf(c),
    recall: recallOf(c),
    f1: f1Of(c),
    macro_f1: macroF1Of(c),
    roc_auc: rocAuc(labels, probabilities, positiveClass, indices),
  };
}

export interface SpeakerAccuracy {
  clientId: string;
  gender: Gender;
  n: number;
  accuracy: number;
}

/**
 * Accuracy per speaker, worst first (ties by speaker id). A speaker's gender is that of their
 * first clip; Common Voice has one gender per client_id after ingest.
 */
export function perSpeakerAccuracy(
  speakers: readonly string[],
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  threshold = DEFAULT_THRESHOLD,
): SpeakerAccuracy[] {
  checkLengths(labels, probabilities);
  if (speakers.length !== labels.length) throw new RangeError(`${speakers.length} speaker ids for ${labels.length} labels`);
  const bySpeaker = new Map<string, { gender: Gender; n: number; correct: number }>();
  for (let i = 0; i < labels.length; i++) {
    let entry = bySpeaker.get(speakers[i]);
    if (!entry) bySpeaker.set(speakers[i], (entry = { gender: genderOf(labels[i]), n: 0, correct: 0 }));
    entry.n++;
    if ((probabilities[i] >= threshold ? MALE : FEMALE) === labels[i]) entry.correct++;
  }
  return [...bySpeaker]
    .map(([clientId, e]) => ({ clientId, gender: e.gender, n: e.n, accuracy: e.correct / e.n }))
    .sort((a, b) => a.accuracy - b.accuracy || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}

function checkLengths(labels: ArrayLike<number>, probabilities: ArrayLike<number>): void {
  if (labels.length !== probabilities.length) throw new RangeError(`${labels.length} labels but ${probabilities.length} probabilities`);
}
