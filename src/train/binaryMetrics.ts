import { rocAuc } from '../eval/metrics.ts';

/** Validation numbers computed every epoch. Label 1 = male (xp's training convention). */
export interface EpochValidation {
  val_loss: number;
  val_accuracy: number;
  /** F1 of class 1 (male, the paper's reported class). */
  val_f1: number;
  val_auc: number;
}

const EPS = 1e-7;

export function binaryCrossEntropy(labels: ArrayLike<number>, probs: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(Math.max(probs[i], EPS), 1 - EPS);
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return labels.length ? total / labels.length : NaN;
}

export function validationMetrics(labels: ArrayLike<number>, probs: ArrayLike<number>): EpochValidation {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = probs[i] >= 0.5 ? 1 : 0;
    if (predicted === labels[i]) correct++;
    if (predicted === 1 && labels[i] === 1) tp++;
    else if (predicted === 1) fp++;
    else if (labels[i] === 1) fn++;
  }
  const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  return {
    val_loss: binaryCrossEntropy(labels, probs),
    val_accuracy: labels.length ? correct / labels.length : NaN,
    val_f1: f1,
    val_auc: rocAuc(labels, probs, 'male'),
  };
}
