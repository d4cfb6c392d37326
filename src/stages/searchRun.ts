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
import { parseSpace } from '../search/space.ts';
import { trialThreads, type TrialValue } from '../search/trial.ts';
import type { Spec } from '../spec/types.ts';
import type { SearchParams, SearchValue } from './search.ts';
import type { SpecLike, StageContext, StageInputs } from './stage.ts';
import type { TrainValue } from './train.ts';
import { trainModel } from './trainModel.ts';

const spec = (s: SpecLike) => s as unknown as Spec;

/**
 * The search stage's run (search.ts loads this module when the stage runs, not when its key is
 * computed): the trials through the driver and an executor, then the best model (copied, or
 * retrained on train + validation) and the trials table and plots.
 */
export async function runSearchStage(ctx: StageContext<SearchParams>, inputs: StageInputs): Promise<SearchValue> {
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
}
