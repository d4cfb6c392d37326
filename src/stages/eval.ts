import { resolveBackend } from '../engine/backend.ts';
import type { EvalReport } from '../eval/evaluate.ts';
import type { EvalSpec, Spec } from '../spec/types.ts';
import type { SpecLike, Stage } from './stage.ts';
import { trainingThreads } from './train.ts';

export interface EvalValue {
  report: EvalReport;
  metrics: Record<string, number>;
}

export type EvalParams = EvalSpec & { split_by: Spec['data']['split']['by'] };

const spec = (s: SpecLike) => s as unknown as Spec;
/** The stage whose artifact holds the model to evaluate. */
export const modelStage = (s: SpecLike) => (spec(s).search ? 'search' : 'train');

/**
 * The test split, once: predictions with the trained model, every metric with a bootstrap
 * confidence interval (speakers resampled when the split is by speaker), predictions.csv
 * for paired comparisons, and plots. The work is in evalRun.ts, loaded when the stage runs.
 */
export const evalStage: Stage<EvalParams, EvalValue> = {
  kind: 'eval',
  implVersion: 1,
  perSeed: true,
  needs: (s) => ['features', modelStage(s)],
  params: (s) => ({ ...spec(s).eval, split_by: spec(s).data.split.by }),
  seed: (s) => spec(s).seed,
  environment: (s) => ({ backend: resolveBackend(spec(s).engine.backend).name, threads: trainingThreads(s) }),
  run: async (ctx, inputs) => (await import('./evalRun.ts')).runEval(ctx, inputs),
  metrics: (value) => value.metrics,
};
