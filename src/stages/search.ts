import { cpSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { FeatureSet } from '../dataset/featureSet.ts';
import { resolveBackend } from '../engine/backend.ts';
import { openProject } from '../runner/project.ts';
import { runSearch, type SearchOutcome } from '../search/driver.ts';
import type { TrialExecutor } from '../search/executor.ts';
import { writeSearchOutputs } from '../search/outputs.ts';
import { LocalProcessPool } from '../search/pool.ts';
import { writeTrainValFeatures } from '../search/retrain.ts';
import { gridAssignments, parseSpace, type Assignment } from '../search/space.ts';
import { trialThreads, type TrialValue } from '../search/trial.ts';
import type { ModelSpec, SearchSpec, Spec, TrainSpec } from '../spec/types.ts';
import type { SpecLike, Stage } from './stage.ts';
import { trainModel, type TrainValue } from './train.ts';

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
 * validation), the trials table and plots.
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
  async run(ctx, inputs) {
    const s = spec(ctx.spec);
    const search = s.search!;
    const space = parseSpace(s);
    const backend = resolveBackend(s.engine.backend).name;
    const threads = trialThreads(s);
    const { cache } = openProject(ctx.root);
    if (search.executor === 'local' && threads * search.parallel > availableParallelism()) {
      ctx.warn(`search.parallel ${search.parallel} × ${threads} thread(s) per trial is more than the ${availableParallelism()} cores here`);
    }
    const executor: TrialExecutor =
      search.executor === 'bullmq'
        ? // BullMQ and its Redis client load only for distributed searches.
          await (await import('../search/bullmq.ts')).BullmqExecutor.connect(search.redis, search.parallel, cache)
        : new LocalProcessPool(search.parallel, { cacheHome: cache.home, threads });
    let outcome: SearchOutcome;
    try {
      outcome = await runSearch({
        spec: s,
        space,
        cache,
        featuresKey: inputs.features.key,
        backend,
        threads,
        executor,
        signal: ctx.signal,
        emit: (event) => ctx.events.emit(event),
        log: ctx.log,
      });
    } finally {
      await executor.close();
    }

    const metric = search.objective.metric;
    const best = outcome.trials[outcome.best];
    if (!best) {
      const failed = outcome.trials.filter((t) => t.status === 'failed');
      const first = failed.find((t) => t.error)?.error;
      throw new Error(`no trial produced a ${metric} (${failed.length} of ${outcome.trials.length} failed${first ? `; first error: ${first}` : ''})`);
    }
    const entry = cache.get<TrialValue>(best.key);
    if (!entry) throw new Error(`the best trial's entry ${best.key.slice(0, 12)} vanished from the cache`);

    let model: TrainValue;
    if (search.retrain_on_train_val) {
      const features = writeTrainValFeatures(new FeatureSet(inputs.features.dir), path.join(ctx.scratch, 'train-val-features'));
      const epochs = Math.max(1, entry.value.bestEpoch);
      ctx.log(`retraining trial #${best.trial} on train + validation (${features.count('train')} clips) for ${epochs} epochs (its best epoch)`);
      model = await trainModel(
        {
          dir: ctx.dir,
          scratch: path.join(ctx.scratch, 'retrain'),
          seed: entry.value.seed,
          spec: { ...s, engine: { ...s.engine, threads } } as unknown as SpecLike,
          signal: ctx.signal,
          events: ctx.events,
          log: ctx.log,
          stageId: 'search',
        },
        { features: { key: `${inputs.features.key}+val`, dir: features.dir, value: null } },
        { model: best.config.model, train: { ...best.config.train, epochs } },
      );
    } else {
      cpSync(path.join(entry.dir, 'model'), path.join(ctx.dir, 'model'), { recursive: true });
      const { backend: b, params, history, bestEpoch, stoppedEarly, val } = entry.value;
      model = { backend: b, params, history, bestEpoch, stoppedEarly, val };
      writeFileSync(path.join(ctx.dir, 'history.json'), JSON.stringify(history, null, 1));
    }
    await writeSearchOutputs(ctx.dir, outcome, search.objective);

    const count = (status: string) => outcome.trials.filter((t) => t.status === status).length;
    const epochsTrained = outcome.jobs.reduce((sum, job) => sum + job.epochsTrained, 0);
    const refs = [...new Set(outcome.jobs.filter((job) => job.status !== 'failed').map((job) => job.key))];
    ctx.log(
      `best: trial #${best.trial} ${metric} ${best.objective!.toFixed(4)} — ${Object.entries(best.assignment).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`,
    );
    return {
      ...model,
      method: search.method,
      objective: search.objective,
      rungs: outcome.rungs,
      trials: outcome.trials.length,
      best: { trial: best.trial, params: best.assignment, objective: best.objective!, key: best.key, val: best.val, epochs: best.epochs },
      counts: { done: count('done'), cached: count('cached'), failed: count('failed'), pruned: count('pruned') },
      epochsTrained,
      retrained: search.retrain_on_train_val,
      refs,
    };
  },
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
