import { describe, expect, it } from 'vitest';
import { MetricsKernel } from '../../src/eval/bootstrap.ts';
import {
  computeMetrics,
  confusion,
  perSpeakerAccuracy,
  predictLabels,
  rocAuc,
  rocCurve,
} from '../../src/eval/metrics.ts';
import { mulberry32 } from '../../src/eval/rng.ts';

// 1 = male. Predicted male when p >= 0.5: [1, 1, 0, 0, 1, 0, 1, 1].
const LABELS = [1, 1, 1, 0, 0, 0, 1, 0];
const P_MALE = [0.9, 0.6, 0.4, 0.2, 0.7, 0.1, 0.5, 0.5];

describe('metrics on a hand-computed case', () => {
  it('thresholds at 0.5 inclusive', () => {
    expect([...predictLabels(P_MALE)]).toEqual([1, 1, 0, 0, 1, 0, 1, 1]);
  });

  it('positive class male: TP 3, FN 1, FP 2, TN 2', () => {
    expect(confusion(LABELS, P_MALE, 'male')).toEqual({ tp: 3, fp: 2, tn: 2, fn: 1, labels: { positive: 'male', negative: 'female' } });
    const m = computeMetrics(LABELS, P_MALE, 'male');
    expect(m.accuracy).toBe(5 / 8);
    expect(m.precision).toBe(3 / 5);
    expect(m.recall).toBe(3 / 4);
    expect(m.f1).toBeCloseTo(6 / 9, 12);
    expect(m.macro_f1).toBeCloseTo((6 / 9 + 4 / 7) / 2, 12);
  });

  it('positive class female swaps the roles: precision 2/3, recall 1/2, F1 4/7; accuracy, macro-F1 and AUC unchanged', () => {
    expect(confusion(LABELS, P_MALE, 'female')).toEqual({ tp: 2, fp: 1, tn: 3, fn: 2, labels: { positive: 'female', negative: 'male' } });
    const male = computeMetrics(LABELS, P_MALE, 'male');
    const female = computeMetrics(LABELS, P_MALE, 'female');
    expect(female.precision).toBeCloseTo(2 / 3, 12);
    expect(female.recall).toBe(1 / 2);
    expect(female.f1).toBeCloseTo(4 / 7, 12);
    expect(female.accuracy).toBe(male.accuracy);
    expect(female.macro_f1).toBeCloseTo(male.macro_f1, 12);
    expect(female.roc_auc).toBeCloseTo(male.roc_auc, 12);
  });

  it('ROC-AUC counts a tied positive/negative pair as one half: (4 + 3 + 2 + 2.5) / 16', () => {
    expect(rocAuc(LABELS, P_MALE, 'male')).toBe(11.5 / 16);
    expect(rocAuc(LABELS, P_MALE, 'female')).toBe(11.5 / 16);
  });

  it('ROC-AUC matches a brute-force pair count on heavily tied random scores', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50;
      const labels = Array.from({ length: n }, () => (rng() < 0.4 ? 1 : 0));
      const p = labels.map((l) => Math.round((l ? 0.6 : 0.4) * 10 + (rng() - 0.5) * 8) / 10).map((x) => Math.min(1, Math.max(0, x)));
      let pairs = 0;
      let count = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        if (labels[i] === 1 && labels[j] === 0) {
          count++;
          pairs += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
        }
      }
      expect(rocAuc(labels, p, 'male')).toBeCloseTo(pairs / count, 12);
    }
  });

  it('undefined metrics are NaN, not zero', () => {
    const allMale = computeMetrics([1, 1], [0.9, 0.2], 'male');
    expect(allMale.roc_auc).toBeNaN();
    expect(allMale.recall).toBe(0.5);
    const nonePredicted = computeMetrics([1, 0], [0.1, 0.2], 'male');
    expect(nonePredicted.precision).toBeNaN();
    expect(nonePredicted.f1).toBe(0);
  });

  it('the ROC curve steps through each distinct score, ties moving diagonally, ending at (1, 1)', () => {
    expect(rocCurve(LABELS, P_MALE, 'male')).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 0.25, threshold: 0.9 },
      { fpr: 0.25, tpr: 0.25, threshold: 0.7 },
      { fpr: 0.25, tpr: 0.5, threshold: 0.6 },
      { fpr: 0.5, tpr: 0.75, threshold: 0.5 },
      { fpr: 0.5, tpr: 1, threshold: 0.4 },
      { fpr: 0.75, tpr: 1, threshold: 0.2 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
  });

  it('per-speaker accuracy, worst first', () => {
    const speakers = ['a', 'a', 'b', 'c', 'c', 'c', 'd', 'd'];
    expect(perSpeakerAccuracy(speakers, LABELS, P_MALE)).toEqual([
      { clientId: 'b', gender: 'male', n: 1, accuracy: 0 },
      { clientId: 'd', gender: 'male', n: 2, accuracy: 0.5 },
      { clientId: 'c', gender: 'female', n: 3, accuracy: 2 / 3 },
      { clientId: 'a', gender: 'male', n: 2, accuracy: 1 },
    ]);
  });
});

describe('the bootstrap kernel', () => {
  it('equals computeMetrics on the same multiset of clips, for either positive class', () => {
    const rng = mulberry32(11);
    const n = 60;
    const labels = Array.from({ length: n }, () => (rng() < 0.5 ? 1 : 0));
    const p = labels.map((l) => Math.round(Math.min(1, Math.max(0, (l ? 0.65 : 0.35) + (rng() - 0.5) * 0.8)) * 20) / 20);
    for (const positive of ['male', 'female'] as const) {
      const kernel = new MetricsKernel(labels, p, positive);
      for (let r = 0; r < 30; r++) {
        const indices = Array.from({ length: n }, () => Math.floor(rng() * n));
        const weights = new Int32Array(n);
        for (const i of indices) weights[i]++;
        const fast = kernel.metrics(weights);
        const slow = computeMetrics(labels, p, positive, 0.5, indices);
        for (const name of Object.keys(slow) as (keyof typeof slow)[]) {
          if (Number.isNaN(slow[name])) expect(fast[name]).toBeNaN();
          else expect(fast[name]).toBeCloseTo(slow[name], 12);
        }
      }
    }
  });
});
