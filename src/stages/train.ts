import { availableParallelism } from 'node:os';
import { resolveBackend } from '../engine/backend.ts';
import type { ModelSpec, Spec, TrainSpec } from '../spec/types.ts';
import type { EpochValidation } from '../train/binaryMetrics.ts';
import type { EpochRecord } from '../train/trainLoop.ts';
import type { SpecLike, Stage } from './stage.ts';

export interface TrainValue {
  backend: string;
  params: number;
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Validation metrics of the weights kept (the best epoch's when restore_best). */
  val: EpochValidation | null;
}

export interface TrainParams {
  model: ModelSpec;
  train: TrainSpec;
}

const spec = (s: SpecLike) => s as unknown as Spec;

/** Threads for training: the spec's, else one per core. Part of the key (results depend on it). */
export function trainingThreads(s: SpecLike): number {
  return spec(s).engine.threads ?? availableParallelism();
}

/**
 * Train one model on the features. The backend actually used (and its thread count) is part
 * of the key, since different engines give different (each reproducible) weights.
 */
export const trainStage: Stage<TrainParams, TrainValue> = {
  kind: 'train',
  implVersion: 1,
  needs: ['features'],
  perSeed: true,
  enabled: (s) => spec(s).search === undefined,
  params: (s) => ({ model: spec(s).model, train: spec(s).train }),
  seed: (s) => spec(s).seed,
  environment: (s) => {
    const backend = resolveBackend(spec(s).engine.backend);
    return { backend: backend.name, threads: trainingThreads(s) };
  },
  run: (ctx, inputs) => trainModel(ctx, inputs, ctx.params),
  metrics: (value) => trainMetrics(value),
};

/**
 * Train one model on the features (the train stage's run, search trials, a search's retraining).
 * The engine, the training loop and the saved-model format load here, on first use, not when the
 * stage is declared: a run served from the cache only computes keys (trainModel.ts).
 */
export const trainModel: typeof import('./trainModel.ts').trainModel = async (...args) => (await import('./trainModel.ts')).trainModel(...args);

export function trainMetrics(value: TrainValue): Record<string, number> {
  const metrics: Record<string, number> = { epochs: value.history.length, best_epoch: value.bestEpoch };
  if (value.val) for (const [k, v] of Object.entries(value.val)) if (Number.isFinite(v)) metrics[k] = v;
  return metrics;
}
