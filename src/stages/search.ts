import { resolveBackend } from '../engine/backend.ts';
import { gridAssignments, parseSpace, type Assignment } from '../search/space.ts';
import { trialThreads } from '../search/trial.ts';
import type { ModelSpec, SearchSpec, Spec, TrainSpec } from '../spec/types.ts';
import type { SpecLike, Stage } from './stage.ts';
import type { TrainValue } from './train.ts';

export interface SearchParams {
  /** What changes the search's result; `parallel`, `executor` and `redis` do not. */
  search: Partial<Omit<SearchSpec, 'parallel' | 'executor' | 'redis'>>;
  model: ModelSpec;
  train: TrainSpec;
}

/** The model part is the final model's (as the train stage's value: eval reads `history`). */
export interface SearchValue extends TrainValue {
  method: SearchSpec['method'];
  objective: SearchSpec['objective'];
  rungs: number[];
  trials: number;
  best: { trial: number; params: Assignment; objective: number; key: string; val: TrainValue['val']; epochs: number };
  counts: { done: number; cached: number; failed: number; pruned: number };
  /** Epochs trained by this search (cached trials count 0; excludes the retraining). */
  epochsTrained: number;
  /** The best configuration retrained on train + validation (then `val` is null). */
  retrained: boolean;
  /** Every trial entry this search used: kept alive by `xp gc` while the search is. */
  refs: string[];
}

const spec = (s: SpecLike) => s as unknown as Spec;

/**
 * Hyper-parameter search in place of the train stage: trials over `search.space` (grid,
 * random, TPE or ASHA), each trial its own cache entry, run in local worker processes or on
 * BullMQ workers; the artifact holds the best trial's model (or its retraining on train +
 * validation), the trials table and plots. The search itself is in searchRun.ts, loaded when the
 * stage runs.
 */
export const searchStage: Stage<SearchParams, SearchValue> = {
  kind: 'search',
  implVersion: 1,
  needs: ['features'],
  enabled: (s) => spec(s).search !== undefined,
  params: (s) => {
    const { search: full, model, train } = spec(s);
    // Check the space now, before upstream stages run for minutes.
    const space = parseSpace(spec(s));
    if (full!.method === 'grid') gridAssignments(space);
    const { parallel: _p, executor: _e, redis: _r, trials, asha, proposals, ...rest } = full!;
    const search: SearchParams['search'] = { ...rest };
    if (full!.method !== 'grid') search.trials = trials;
    if (full!.method === 'asha') Object.assign(search, { asha, proposals });
    return { search, model, train };
  },
  seed: (s) => spec(s).seed,
  perSeed: true,
  environment: (s) => ({ backend: resolveBackend(spec(s).engine.backend).name, threads: trialThreads(spec(s)) }),
  run: async (ctx, inputs) => (await import('./searchRun.ts')).runSearchStage(ctx, inputs),
  metrics: (value) => {
    const metrics: Record<string, number> = {
      best_objective: value.best.objective,
      trials: value.trials,
      trials_done: value.counts.done,
      trials_cached: value.counts.cached,
      trials_failed: value.counts.failed,
      epochs_trained: value.epochsTrained,
    };
    if (value.method === 'asha') metrics.trials_pruned = value.counts.pruned;
    if (value.best.val) for (const [k, v] of Object.entries(value.best.val)) if (Number.isFinite(v)) metrics[k] = v;
    return metrics;
  },
};
