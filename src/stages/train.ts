import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { openFeatureSet } from '../dataset/featureSet.ts';
import { resolveBackend, type TrainingBackend } from '../engine/backend.ts';
import { buildGraph, readsPooledStatistics } from '../engine/graph.ts';
import { saveModel } from '../model/savedModel.ts';
import type { ModelSpec, Spec, TrainSpec } from '../spec/types.ts';
import { validationMetrics, type EpochValidation } from '../train/binaryMetrics.ts';
import { labelsOf, predictSplit, trainLoop, type EpochRecord } from '../train/trainLoop.ts';
import type { SpecLike, Stage, StageContext, StageInputs } from './stage.ts';

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

/** Shared by the train stage and search trials. */
export async function trainModel(
  ctx: Pick<StageContext, 'dir' | 'scratch' | 'seed' | 'spec' | 'signal' | 'events' | 'log'> & { stageId?: string },
  inputs: StageInputs,
  params: TrainParams,
  options: { epochLimit?: number; backend?: TrainingBackend } = {},
): Promise<TrainValue> {
  const stageId = ctx.stageId ?? 'train';
  const pooled = readsPooledStatistics(params.model.kind);
  const features = openFeatureSet(inputs.features.dir, pooled);
  const { frames, coeffs } = features.manifest;
  const backend = options.backend ?? resolveBackend(spec(ctx.spec).engine.backend);
  backend.setThreads(trainingThreads(ctx.spec));
  const graph = buildGraph(params.model, { frames, coeffs });
  const trainLabels = labelsOf(features, 'train');
  const males = trainLabels.reduce((a, b) => a + b, 0);
  const classWeights: [number, number] | null =
    params.train.class_weights === 'balanced' && males > 0 && males < trainLabels.length
      ? [trainLabels.length / (2 * (trainLabels.length - males)), trainLabels.length / (2 * males)]
      : null;
  const model = backend.createModel(graph, { seed: ctx.seed ?? 0, lr: params.train.lr, weightDecay: params.train.weight_decay, classWeights });
  try {
    ctx.log(`${backend.describe()}: ${params.model.kind}, ${model.paramCount().toLocaleString('en')} weights, ${trainLabels.length} training clips`);
    const result = await trainLoop({
      model,
      features,
      train: params.train,
      seed: ctx.seed ?? 0,
      signal: ctx.signal,
      checkpointDir: path.join(ctx.scratch, 'checkpoint'),
      epochLimit: options.epochLimit,
      log: ctx.log,
      onEpoch: (record) => {
        const { epoch, ...values } = record;
        ctx.events.emit({ type: 'metrics', stage: stageId, step: epoch, series: 'epoch', values: finite(values) });
      },
      onBatch: (done, total) => ctx.events.emit({ type: 'stage-progress', stage: stageId, done, total, unit: 'batches' }),
    });
    const val = features.count('val') > 0 ? validationMetrics(labelsOf(features, 'val'), predictSplit(model, features, 'val')) : null;
    const { workers: _workers, ...featureParams } = spec(ctx.spec).features;
    saveModel(
      path.join(ctx.dir, 'model'),
      {
        graph,
        features: featureParams,
        input: pooled ? 'pooled' : 'frames',
        normalization: features.manifest.normalization,
        output: { positive: 'male', negative: 'female' },
        backend: backend.describe(),
      },
      model.getWeights(),
    );
    writeFileSync(path.join(ctx.dir, 'history.json'), JSON.stringify(result.history, null, 1));
    return { backend: backend.name, params: model.paramCount(), history: result.history, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, val };
  } finally {
    model.dispose();
  }
}

function finite(values: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
}

export function trainMetrics(value: TrainValue): Record<string, number> {
  const metrics: Record<string, number> = { epochs: value.history.length, best_epoch: value.bestEpoch };
  if (value.val) for (const [k, v] of Object.entries(value.val)) if (Number.isFinite(v)) metrics[k] = v;
  return metrics;
}
