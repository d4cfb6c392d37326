import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openFeatureSet } from '../dataset/featureSet.ts';
import { resolveBackend, type TrainingBackend } from '../engine/backend.ts';
import { buildGraph, readsPooledStatistics } from '../engine/graph.ts';
import { saveModel } from '../model/savedModel.ts';
import type { Spec } from '../spec/types.ts';
import { validationMetrics } from '../train/binaryMetrics.ts';
import { labelsOf, predictSplit, trainLoop } from '../train/trainLoop.ts';
import type { SpecLike, StageContext, StageInputs } from './stage.ts';
import { trainingThreads, type TrainParams, type TrainValue } from './train.ts';

const spec = (s: SpecLike) => s as unknown as Spec;

/**
 * Train one model on the features: the train stage's run and each search trial's. Its own
 * module (loaded by `trainModel` in train.ts on first use) so that computing keys does not load
 * the engine, the training loop or the saved-model format.
 */
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
