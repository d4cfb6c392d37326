/**
 * Search throughput at 1 vs 2 local worker processes: npx tsx bench/search-parallel.ts
 *   [--trials 8] [--epochs 3] [--rounds 1]
 *
 * The embedded corpus (data/cv-mini) through the cnn-lstm-tuned spec's ingest and features
 * (cached in bench/out/search-parallel-project), then the same random search — only `train.lr` varies,
 * so every trial costs about the same; fixed epochs (early stopping off) — with
 * search.parallel 1 and 2. Trial entries are removed before each measurement, so every trial
 * is trained; the worker processes' start-up is included. Checks that both give the same
 * trials and results. Prints trials/minute and the speed-up (target ≥ 1.6×), then one JSON line.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { prepareSearchProject } from './searchProject.ts';
import { resolveBackend } from '../src/engine/backend.ts';
import { runSearch, type SearchOutcome } from '../src/search/driver.ts';
import { LocalProcessPool } from '../src/search/pool.ts';
import { parseSpace } from '../src/search/space.ts';
import { TRIAL_KIND } from '../src/search/trial.ts';
import type { Spec } from '../src/spec/types.ts';

const { values: args } = parseArgs({
  options: { trials: { type: 'string', default: '8' }, epochs: { type: 'string', default: '3' }, rounds: { type: 'string', default: '1' } },
});
const TRIALS = Number(args.trials);
const EPOCHS = Number(args.epochs);
const ROUNDS = Number(args.rounds);

// Its own project: measuring removes every trial entry, which must not touch other benches' caches.
const { project, loaded, featuresKey } = await prepareSearchProject('search-parallel-project', 'bench/search-parallel.ts');

const base = loaded.spec;
const spec: Spec = {
  ...base,
  train: { ...base.train, epochs: EPOCHS, early_stopping: { ...base.train.early_stopping, enabled: false }, reduce_on_plateau: { ...base.train.reduce_on_plateau, enabled: false } },
  engine: { ...base.engine, threads: 1 },
  search: { ...base.search!, method: 'random', trials: TRIALS, space: { 'train.lr': { log_uniform: [0.0001, 0.003] } } },
};
const backend = resolveBackend(spec.engine.backend).name;

async function measure(workers: number): Promise<{ seconds: number; outcome: SearchOutcome }> {
  for (const key of project.cache.keys()) if (project.cache.get(key)?.meta.kind === TRIAL_KIND) project.cache.remove(key);
  const executor = new LocalProcessPool(workers, { cacheHome: project.cache.home, threads: 1 });
  const started = performance.now();
  try {
    const outcome = await runSearch({ spec, space: parseSpace(spec), cache: project.cache, featuresKey: featuresKey!, backend, threads: 1, executor, signal: new AbortController().signal });
    return { seconds: (performance.now() - started) / 1000, outcome };
  } finally {
    await executor.close();
  }
}

const fingerprint = (o: SearchOutcome) => JSON.stringify(o.trials.map((t) => [t.key, t.objective, t.status]));
const times: Record<number, number[]> = { 1: [], 2: [] };
let identical = true;
let reference: string | undefined;
console.log(`search throughput: ${TRIALS} trials × ${EPOCHS} epochs (cnn-lstm, cv-mini), ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const workers of [1, 2]) {
    const { seconds, outcome } = await measure(workers);
    if (outcome.trials.some((t) => t.status !== 'done')) throw new Error(`trials not all done: ${outcome.trials.map((t) => t.status).join(',')}`);
    reference ??= fingerprint(outcome);
    identical &&= fingerprint(outcome) === reference;
    times[workers].push(seconds);
    console.log(`  round ${round + 1}, ${workers} worker${workers > 1 ? 's' : ''}: ${seconds.toFixed(1)} s → ${((TRIALS / seconds) * 60).toFixed(2)} trials/min`);
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const t1 = median(times[1]);
const t2 = median(times[2]);
const speedup = t1 / t2;
console.log(`1 worker: ${((TRIALS / t1) * 60).toFixed(2)} trials/min; 2 workers: ${((TRIALS / t2) * 60).toFixed(2)} trials/min; speed-up ${speedup.toFixed(2)}× (target ≥ 1.6×) ${speedup >= 1.6 ? 'OK' : 'BELOW TARGET'}`);
console.log(`results identical at 1 and 2 workers: ${identical ? 'yes' : 'NO'}`);
console.log(JSON.stringify({ bench: 'search-parallel', trials: TRIALS, epochs: EPOCHS, seconds_1: t1, seconds_2: t2, speedup, identical, load: os.loadavg()[0] }));
