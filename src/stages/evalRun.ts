import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openFeatureSet } from '../dataset/featureSet.ts';
import { resolveBackend } from '../engine/backend.ts';
import { evaluate, EVAL_REPORT_FILE, flattenMetrics, PREDICTIONS_FILE, writePredictionsCsv } from '../eval/evaluate.ts';
import { confusionMatrixSvg, learningCurvesSvg, rocCurveSvg, writePlots } from '../eval/plots.ts';
import { loadModel } from '../model/savedModel.ts';
import type { Spec } from '../spec/types.ts';
import { predictSplit } from '../train/trainLoop.ts';
import { modelStage, type EvalParams, type EvalValue } from './eval.ts';
import type { SpecLike, StageContext, StageInputs } from './stage.ts';
import { trainingThreads, type TrainValue } from './train.ts';

const spec = (s: SpecLike) => s as unknown as Spec;

/**
 * The eval stage's run (eval.ts loads this module when the stage runs, not when its key is
 * computed): predictions on the test split with the trained model, every metric with a
 * bootstrap confidence interval, predictions.csv and plots.
 */
export async function runEval(ctx: StageContext<EvalParams>, inputs: StageInputs): Promise<EvalValue> {
  const trained = inputs[modelStage(ctx.spec)];
  const { model: saved, weights } = loadModel(path.join(trained.dir, 'model'));
  const features = openFeatureSet(inputs.features.dir, saved.input === 'pooled');
  const backend = resolveBackend(spec(ctx.spec).engine.backend);
  backend.setThreads(trainingThreads(ctx.spec));
  const model = backend.createModel(saved.graph, { seed: ctx.seed ?? 0 });
  let probabilities: Float32Array;
  try {
    model.setWeights(weights);
    probabilities = predictSplit(model, features, 'test');
  } finally {
    model.dispose();
  }
  const clips = features.rows('test');
  const report = evaluate({
    clips,
    probabilities,
    positiveClass: ctx.params.positive_class,
    bootstrap: ctx.params.bootstrap,
    confidence: ctx.params.confidence,
    seed: ctx.seed ?? 0,
    splitBy: ctx.params.split_by,
  });
  writeFileSync(path.join(ctx.dir, EVAL_REPORT_FILE), JSON.stringify(report, null, 1));
  writePredictionsCsv(path.join(ctx.dir, PREDICTIONS_FILE), clips, probabilities, ctx.params.positive_class);

  const history = (trained.value as Partial<TrainValue>).history;
  const plots: Record<string, string> = {
    confusion: await confusionMatrixSvg(report.confusion, { title: `Confusion matrix (test, n=${report.n})` }),
    roc: await rocCurveSvg(report.roc, report.metrics.roc_auc.value),
  };
  if (history?.length) plots.learning_curves = await learningCurvesSvg(history);
  writePlots(path.join(ctx.dir, 'plots'), plots);

  const m = report.metrics;
  const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  ctx.log(
    `test: accuracy ${pct(m.accuracy.value)} [${pct(m.accuracy.lo)}, ${pct(m.accuracy.hi)}], ` +
      `F1(${report.positiveClass}) ${pct(m.f1.value)} [${pct(m.f1.lo)}, ${pct(m.f1.hi)}] on ${report.n} clips / ${report.speakers} speakers`,
  );
  return { report, metrics: flattenMetrics(report) };
}
