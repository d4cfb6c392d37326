/**
 * Trials with real (tiny) training: a features artifact written directly (no audio), a small
 * CNN, a few epochs, one thread per trial.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/savedModel.ts';
import { LocalCache } from '../../src/runner/cache.ts';
import { RunEvents, type RunEvent } from '../../src/runner/events.ts';
import { runSearch, type SearchOutcome } from '../../src/search/driver.ts';
import { InProcessExecutor, type TrialExecutor } from '../../src/search/executor.ts';
import { LocalProcessPool } from '../../src/search/pool.ts';
import { parseSpace } from '../../src/search/space.ts';
import { TRIAL_KIND, type TrialValue } from '../../src/search/trial.ts';
import type { SearchSpec, Spec } from '../../src/spec/types.ts';
import { searchStage, type SearchValue } from '../../src/stages/search.ts';
import type { StageContext } from '../../src/stages/stage.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { tinyFeatures, tinySpec } from './helpers.ts';

const tempDir = useTempDirs();

const SPACE: SearchSpec['space'] = {
  'train.lr': { log_uniform: [0.001, 0.05] },
  'model.dense.units': [4, 8, 16],
};

async function search(
  spec: Spec,
  cache: LocalCache,
  featuresKey: string,
  executor: TrialExecutor = new InProcessExecutor(cache),
  options: { signal?: AbortSignal; onEvent?(event: RunEvent): void } = {},
): Promise<SearchOutcome> {
  try {
    return await runSearch({
      spec,
      space: parseSpace(spec),
      cache,
      featuresKey,
      backend: 'libtorch',
      threads: 1,
      executor,
      signal: options.signal ?? new AbortController().signal,
      emit: (event) => options.onEvent?.(event),
    });
  } finally {
    await executor.close();
  }
}

const summary = (outcome: SearchOutcome) => outcome.trials.map((t) => ({ trial: t.trial, params: t.assignment, objective: t.objective, key: t.key, epochs: t.epochs }));
const trialEntries = (cache: LocalCache) => cache.keys().filter((key) => cache.get(key)!.meta.kind === TRIAL_KIND);

describe('search trials (tiny real training)', () => {
  it('caches each trial; a re-run trains nothing; more trials run only the new ones', async () => {
    const cache = new LocalCache(path.join(tempDir(), '.xp'));
    const featuresKey = await tinyFeatures(cache);
    const spec = tinySpec({ method: 'random', trials: 3, space: SPACE });

    const first = await search(spec, cache, featuresKey);
    expect(first.trials.map((t) => t.status)).toEqual(['done', 'done', 'done']);
    expect(trialEntries(cache)).toHaveLength(3);
    expect(first.jobs.reduce((n, j) => n + j.epochsTrained, 0)).toBe(3 * 4);
    for (const trial of first.trials) {
      const entry = cache.get<TrialValue>(trial.key)!;
      expect(entry.value.history).toHaveLength(4);
      expect(existsSync(path.join(entry.dir, 'model', 'model.json'))).toBe(true);
      expect(entry.value.val!.val_f1).toBe(trial.objective);
    }

    const again = await search(spec, cache, featuresKey);
    expect(again.trials.map((t) => t.status)).toEqual(['cached', 'cached', 'cached']);
    expect(again.jobs.reduce((n, j) => n + j.epochsTrained, 0)).toBe(0);
    expect(summary(again)).toEqual(summary(first));

    const more = await search(tinySpec({ method: 'random', trials: 5, space: SPACE }), cache, featuresKey);
    expect(more.trials.map((t) => t.status)).toEqual(['cached', 'cached', 'cached', 'done', 'done']);
    expect(summary(more).slice(0, 3)).toEqual(summary(first));
    expect(trialEntries(cache)).toHaveLength(5);
  });

  it('a killed search resumes: finished trials come from the cache', async () => {
    const cache = new LocalCache(path.join(tempDir(), '.xp'));
    const featuresKey = await tinyFeatures(cache);
    const spec = tinySpec({ method: 'tpe', trials: 4, space: SPACE });
    const controller = new AbortController();
    const interrupted = search(spec, cache, featuresKey, new InProcessExecutor(cache), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'trial' && e.trial === 1 && e.status === 'done') controller.abort();
      },
    });
    await expect(interrupted).rejects.toThrow(/interrupted/);
    const finished = trialEntries(cache).length;
    expect(finished).toBeGreaterThanOrEqual(2);
    expect(finished).toBeLessThan(4);

    const resumed = await search(spec, cache, featuresKey);
    expect(resumed.trials).toHaveLength(4);
    expect(resumed.trials.filter((t) => t.status === 'cached').length).toBe(finished);
    // The same as a search that was never interrupted.
    const other = new LocalCache(path.join(tempDir(), '.xp'));
    await tinyFeatures(other);
    expect(summary(await search(spec, other, featuresKey))).toEqual(summary(resumed));
  });

  it('worker processes give the same trials and results as one in-process worker', async () => {
    const root = tempDir();
    const cache = new LocalCache(path.join(root, '.xp'));
    const featuresKey = await tinyFeatures(cache);
    const spec = tinySpec({ method: 'random', trials: 4, space: SPACE });
    const pooled = await search(spec, cache, featuresKey, new LocalProcessPool(2, { cacheHome: cache.home, threads: 1 }));
    expect(pooled.trials.every((t) => t.status === 'done')).toBe(true);

    const other = new LocalCache(path.join(tempDir(), '.xp'));
    await tinyFeatures(other);
    const single = await search(spec, other, featuresKey);
    expect(summary(single)).toEqual(summary(pooled));
    // Bit-identical weights, not just equal metrics.
    for (const trial of pooled.trials) {
      const a = readFileSync(path.join(cache.entryDir(trial.key), 'model', 'weights.bin'));
      const b = readFileSync(path.join(other.entryDir(trial.key), 'model', 'weights.bin'));
      expect(a.equals(b)).toBe(true);
    }
  });

  it('a trial whose worker process dies is recorded as failed and the search goes on', async () => {
    const cache = new LocalCache(path.join(tempDir(), '.xp'));
    const featuresKey = await tinyFeatures(cache, { train: 160, val: 24, test: 8 });
    const spec = tinySpec({ method: 'random', trials: 3, space: SPACE }, 40);
    const pool = new LocalProcessPool(2, { cacheHome: cache.home, threads: 1 });
    const events: RunEvent[] = [];
    let killed: number | undefined;
    const outcome = await search(spec, cache, featuresKey, pool, {
      onEvent(event) {
        events.push(event);
        if (killed === undefined && event.type === 'trial' && event.trial === 1 && event.status === 'running' && (event.epoch ?? 0) >= 1) {
          killed = pool.pidOfTrial(1);
          if (killed) process.kill(killed, 'SIGKILL');
        }
      },
    });
    expect(killed).toBeDefined();
    expect(outcome.trials.map((t) => t.status)).toEqual(['done', 'failed', 'done']);
    expect(outcome.trials[1].error).toMatch(/worker process was killed by SIGKILL/);
    expect(events.some((e) => e.type === 'trial' && e.trial === 1 && e.status === 'failed' && /SIGKILL/.test(e.error ?? ''))).toBe(true);
    expect(trialEntries(cache)).toHaveLength(2);
  });

  it('an ASHA promotion continues from the checkpoint exactly as training from scratch', async () => {
    const cache = new LocalCache(path.join(tempDir(), '.xp'));
    const featuresKey = await tinyFeatures(cache);
    const spec = tinySpec({ method: 'asha', trials: 4, space: SPACE, asha: { min_epochs: 1, reduction_factor: 2 } }, 4);
    const outcome = await search(spec, cache, featuresKey);
    expect(outcome.rungs).toEqual([1, 2, 4]);
    const top = outcome.trials.filter((t) => t.rung === 2);
    expect(top.length).toBeGreaterThanOrEqual(1);
    expect(outcome.trials.filter((t) => t.status === 'pruned').length).toBeGreaterThanOrEqual(1);
    // Promoted jobs trained only their increment.
    for (const job of outcome.jobs) expect(job.epochsTrained).toBe(job.epochs - (job.rung === 0 ? 0 : outcome.rungs[job.rung - 1]));

    // The same configuration trained 4 epochs in one go (method random sharing nothing).
    const winner = outcome.trials[outcome.best];
    const fresh = new LocalCache(path.join(tempDir(), '.xp'));
    await tinyFeatures(fresh);
    const plain = tinySpec({ method: 'grid', space: Object.fromEntries(Object.entries(winner.assignment).map(([k, v]) => [k, [v]])) }, 4);
    const direct = await search(plain, fresh, featuresKey);
    expect(direct.trials[0].key).toBe(winner.key);
    expect(direct.trials[0].objective).toBe(winner.objective);
    const a = loadModel(path.join(cache.entryDir(winner.key), 'model')).weights;
    const b = loadModel(path.join(fresh.entryDir(winner.key), 'model')).weights;
    expect(a.map((w) => Array.from(w.data))).toEqual(b.map((w) => Array.from(w.data)));
  });

  /** The search stage as the runner would run it (key 'aaa…'), in a fresh project. */
  async function runStage(spec: Spec) {
    const root = tempDir();
    const cache = new LocalCache(path.join(root, '.xp'));
    const featuresKey = await tinyFeatures(cache);
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on((e) => seen.push(e));
    const features = cache.get(featuresKey)!;
    const key = 'a'.repeat(64);
    const value = await cache.put<SearchValue>(key, 'search', async (dir) => {
      const ctx: StageContext<ReturnType<typeof searchStage.params>> = {
        dir,
        key,
        scratch: cache.scratch(key),
        params: searchStage.params(spec as never),
        seed: spec.seed,
        spec: spec as never,
        root,
        signal: new AbortController().signal,
        events,
        progress: () => {},
        warn: () => {},
        log: () => {},
      };
      const v = await searchStage.run(ctx, { features: { key: featuresKey, dir: features.dir, value: features.value } });
      return { value: v, refs: v.refs };
    });
    return { value, cache, seen, scratch: cache.scratch(key) };
  }

  it('the search stage writes the model, tables, best.json, history and plot, and refs every trial', async () => {
    const spec = tinySpec({ method: 'grid', parallel: 1, space: { 'model.dense.units': [4, 8], 'train.lr': [0.01, 0.03] } }, 3);
    const { value, cache, seen } = await runStage(spec);
    const dir = value.dir;
    for (const file of ['trials.json', 'trials.csv', 'best.json', 'history.json', 'model/model.json', 'model/weights.bin', 'plots/search_trials.svg']) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
    const table = JSON.parse(readFileSync(path.join(dir, 'trials.json'), 'utf8'));
    expect(table.trials).toHaveLength(4);
    const csv = readFileSync(path.join(dir, 'trials.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('trial,status,model.dense.units,train.lr,objective,val_loss,val_accuracy,val_f1,val_auc,rung,epochs,epochs_trained,duration_ms,key,error');
    expect(csv).toHaveLength(5);
    const best = JSON.parse(readFileSync(path.join(dir, 'best.json'), 'utf8'));
    const bestRow = table.trials.reduce((a: { objective: number }, b: { objective: number }) => (b.objective > a.objective ? b : a));
    expect(best.objective).toBe(bestRow.objective);
    // model/ is the best trial's.
    expect(readFileSync(path.join(dir, 'model', 'weights.bin')).equals(readFileSync(path.join(cache.entryDir(best.key), 'model', 'weights.bin')))).toBe(true);
    expect(value.meta.refs.sort()).toEqual(table.trials.map((t: { key: string }) => t.key).sort());
    expect(value.value.history).toHaveLength(3);
    expect(searchStage.metrics!(value.value)).toMatchObject({ trials_done: 4, trials_failed: 0, trials_cached: 0, epochs_trained: 12, best_objective: best.objective });
    // Trial events: each trial running → done.
    for (let trial = 0; trial < 4; trial++) {
      const statuses = seen.filter((e) => e.type === 'trial' && e.trial === trial).map((e) => (e as { status: string }).status);
      expect(statuses[0]).toBe('running');
      expect(statuses.at(-1)).toBe('done');
    }
  });

  it('retrain_on_train_val trains the best configuration on train + validation for its best epoch count', async () => {
    const spec = tinySpec({ method: 'random', trials: 2, parallel: 1, retrain_on_train_val: true, space: SPACE }, 3);
    spec.train.early_stopping = { ...spec.train.early_stopping, enabled: true, patience: 2 };
    const { value, cache, scratch } = await runStage(spec);
    const best = cache.get<TrialValue>(value.value.best.key)!.value;
    expect(value.value.retrained).toBe(true);
    expect(value.value.val).toBeNull();
    expect(value.value.history).toHaveLength(best.bestEpoch);
    const merged = JSON.parse(readFileSync(path.join(scratch, 'train-val-features', 'manifest.json'), 'utf8'));
    expect(merged.splits.train.count).toBe(48 + 24);
    expect(merged.splits.val.count).toBe(0);
    const retrained = readFileSync(path.join(value.dir, 'model', 'weights.bin'));
    expect(retrained.equals(readFileSync(path.join(cache.entryDir(value.value.best.key), 'model', 'weights.bin')))).toBe(false);
  });
});
