import { rngFor, shuffleInPlace } from '../data/rng.ts';
import type { FeatureSet } from '../dataset/featureSet.ts';
import type { TrainSpec } from '../spec/types.ts';
import { validationMetrics, type EpochValidation } from './binaryMetrics.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import type { OptimizerState, TrainableModel, WeightTensor } from '../engine/backend.ts';

export interface EpochRecord extends Partial<EpochValidation> {
  epoch: number;
  loss: number;
  lr: number;
  seconds: number;
  samples_per_s: number;
}

export interface TrainLoopOptions {
  model: TrainableModel;
  features: FeatureSet;
  train: TrainSpec;
  seed: number;
  signal: AbortSignal;
  /** Where the per-epoch checkpoint lives; a re-run with the same directory resumes. */
  checkpointDir: string;
  /** Stop after this many epochs even if `train.epochs` is larger (successive halving). */
  epochLimit?: number;
  onEpoch?(record: EpochRecord): void;
  onBatch?(done: number, total: number): void;
  log?(message: string): void;
}

export interface TrainLoopResult {
  history: EpochRecord[];
  /** 1-based epoch whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  resumedFromEpoch: number;
}

interface LoopState {
  epoch: number;
  history: EpochRecord[];
  best: { epoch: number; score: number; weights: WeightTensor[] } | null;
  sinceBest: number;
  sincePlateauBest: number;
  plateauBest: number;
  weights: WeightTensor[];
  optimizer: OptimizerState | null;
}

const EVAL_BATCH = 256;

/** Label convention for training: 1 = male, 0 = female. */
export function labelsOf(features: FeatureSet, split: 'train' | 'val' | 'test'): Float32Array {
  return Float32Array.from(features.rows(split), (row) => (row.gender === 'male' ? 1 : 0));
}

/**
 * Adam on mini-batches in a seeded order per epoch, validation after each epoch, early
 * stopping with restore-best, reduce-on-plateau, and a checkpoint after every epoch so a
 * killed run resumes from its last finished epoch with identical results.
 */
export async function trainLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { model, features, train, seed, signal } = options;
  const trainLabels = labelsOf(features, 'train');
  const valLabels = labelsOf(features, 'val');
  const hasVal = valLabels.length > 0;
  const { frames, coeffs } = features.manifest;
  const clipFloats = frames * coeffs;
  const maxEpochs = Math.min(train.epochs, options.epochLimit ?? Infinity);
  const stopping = train.early_stopping;
  const minimise = stopping.metric === 'val_loss';

  let state: LoopState = {
    epoch: 0,
    history: [],
    best: null,
    sinceBest: 0,
    sincePlateauBest: 0,
    plateauBest: Infinity,
    weights: [],
    optimizer: null,
  };
  const resumed = loadCheckpoint<LoopState>(options.checkpointDir);
  if (resumed) {
    state = resumed;
    model.setWeights(state.weights);
    if (state.optimizer) model.setOptimizerState(state.optimizer);
    options.log?.(`resuming from the checkpoint after epoch ${state.epoch}`);
  }
  const resumedFromEpoch = state.epoch;
  // A run that crashed after its last checkpoint may already have decided to stop.
  let stoppedEarly = Boolean(stopping.enabled && state.best && state.sinceBest >= stopping.patience);
  const batchX = new Float32Array(train.batch_size * clipFloats);
  const batchY = new Float32Array(train.batch_size);

  while (!stoppedEarly && state.epoch < maxEpochs) {
    signal.throwIfAborted();
    const epoch = state.epoch + 1;
    const started = performance.now();
    // The order depends only on (seed, epoch): a resumed run sees the same batches.
    const order = shuffleInPlace(Array.from({ length: trainLabels.length }, (_, i) => i), rngFor(seed, 'train-order', String(epoch)));
    const batches = Math.ceil(order.length / train.batch_size);
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      signal.throwIfAborted();
      const indices = order.slice(b * train.batch_size, (b + 1) * train.batch_size);
      const x = features.read('train', indices, batchX.subarray(0, indices.length * clipFloats));
      indices.forEach((index, k) => (batchY[k] = trainLabels[index]));
      lossSum += model.trainStep(x, batchY.subarray(0, indices.length), indices.length) * indices.length;
      options.onBatch?.(b + 1, batches);
      // Yield so Ctrl-C and progress reporting are not starved by a long synchronous epoch.
      if (b % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch,
      loss: lossSum / Math.max(1, order.length),
      lr: model.getLearningRate(),
      seconds,
      samples_per_s: order.length / Math.max(seconds, 1e-9),
      ...(hasVal ? validationMetrics(valLabels, predictSplit(model, features, 'val')) : {}),
    };
    state.history.push(record);
    state.epoch = epoch;
    options.onEpoch?.(record);

    if (hasVal && stopping.enabled) {
      const score = record[stopping.metric]!;
      const improved = state.best === null || (minimise ? score < state.best.score : score > state.best.score);
      if (improved) {
        state.best = { epoch, score, weights: stopping.restore_best ? model.getWeights() : [] };
        state.sinceBest = 0;
      } else if (++state.sinceBest >= stopping.patience) {
        stoppedEarly = true;
      }
    }
    if (hasVal && train.reduce_on_plateau.enabled) {
      const plateau = train.reduce_on_plateau;
      if (record.val_loss! < state.plateauBest) {
        state.plateauBest = record.val_loss!;
        state.sincePlateauBest = 0;
      } else if (++state.sincePlateauBest >= plateau.patience) {
        const lr = Math.max(plateau.min_lr, model.getLearningRate() * plateau.factor);
        if (lr < model.getLearningRate()) options.log?.(`epoch ${epoch}: validation loss stalled, learning rate → ${lr}`);
        model.setLearningRate(lr);
        state.sincePlateauBest = 0;
      }
    }
    state.weights = model.getWeights();
    state.optimizer = model.getOptimizerState();
    saveCheckpoint(options.checkpointDir, state);
    if (stoppedEarly) options.log?.(`early stop after epoch ${epoch}: ${stopping.metric} did not improve for ${stopping.patience} epochs`);
  }
  let bestEpoch = state.epoch;
  if (state.best && stopping.enabled && stopping.restore_best && state.best.weights.length) {
    model.setWeights(state.best.weights);
    bestEpoch = state.best.epoch;
  }
  return { history: state.history, bestEpoch, stoppedEarly, resumedFromEpoch };
}

/** Probabilities for every clip of a split, in order. */
export function predictSplit(model: TrainableModel, features: FeatureSet, split: 'train' | 'val' | 'test'): Float32Array {
  const count = features.count(split);
  const { frames, coeffs } = features.manifest;
  const out = new Float32Array(count);
  const buffer = new Float32Array(Math.min(EVAL_BATCH, Math.max(count, 1)) * frames * coeffs);
  for (let start = 0; start < count; start += EVAL_BATCH) {
    const indices = Array.from({ length: Math.min(EVAL_BATCH, count - start) }, (_, k) => start + k);
    const x = features.read(split, indices, buffer.subarray(0, indices.length * frames * coeffs));
    out.set(model.predict(x, indices.length), start);
  }
  return out;
}
