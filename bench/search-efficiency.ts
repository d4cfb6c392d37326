/**
 * Search efficiency: npx tsx bench/search-efficiency.ts [--seeds 10] [--parallel 2] [--epochs 30]
 *   [--asha-min 1,2,3] [--eta 3] [--asha-proposals random,tpe]
 *
 * On the embedded corpus (data/cv-mini) with the cnn-lstm-tuned spec (CNN-LSTM, early
 * stopping as configured), a grid of 2 filter sets × 2 LSTM sizes × 3 learning rates × 3 batch
 * sizes = 36 configurations is searched with grid, random, tpe and asha (η = 3, min 1 epoch),
 * each given the grid's 36 configurations as its trial budget (asha once per --asha-min, its
 * bottom rung, and per --asha-proposals: `asha` proposes at random, `asha+tpe` with TPE). For
 * each method: the compute — epochs trained, counted per job as the epochs its own training
 * needed (a continued ASHA job counts only the epochs after the checkpoint it continues — the
 * job the search continued, whichever run first put the entry in the shared cache; a
 * repeated configuration counts once) — spent, in the method's job order, until some job
 * first reports a validation F1 within 0.5 point of the grid's best (for asha, a job at any
 * rung). Grid's reference cost is its whole grid (it must run every point to know its best).
 *
 * All methods share one cache: a configuration trained to the same epochs is the same trial
 * key whichever method asks for it, so it is trained once; the compute each method *would*
 * spend is taken from the trial entries. random, tpe and asha are repeated over several
 * proposal seeds (the order of proposals; trial seeds stay the spec's, so trials are shared).
 * Prints the table and one JSON line.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { prepareSearchProject, SEARCH_EFFICIENCY_GRID } from './searchProject.ts';
import { resolveBackend } from '../src/engine/backend.ts';
import { runSearch, type SearchOutcome } from '../src/search/driver.ts';
import { LocalProcessPool } from '../src/search/pool.ts';
import { parseSpace } from '../src/search/space.ts';
import type { SearchSpec, Spec } from '../src/spec/types.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '30' },
    'asha-min': { type: 'string', default: '1,2,3' },
    eta: { type: 'string', default: '3' },
    'asha-proposals': { type: 'string', default: 'random,tpe' },
  },
});
const SEEDS = Number(args.seeds);
const PARALLEL = Number(args.parallel);
const TOLERANCE = 0.005;

const { project, loaded, featuresKey } = await prepareSearchProject('search-project', 'bench/search-efficiency.ts');

const SPACE = SEARCH_EFFICIENCY_GRID;
const base = loaded.spec;
const backend = resolveBackend(base.engine.backend).name;
const threads = 1;

type Proposals = NonNullable<SearchSpec['proposals']>;

function specFor(method: SearchSpec['method'], ashaMin = 1, proposals: Proposals = 'random'): Spec {
  return {
    ...base,
    train: { ...base.train, epochs: Number(args.epochs) },
    engine: { ...base.engine, threads },
    search: { ...base.search!, method, trials: 36, parallel: PARALLEL, space: SPACE, asha: { min_epochs: ashaMin, reduction_factor: Number(args.eta) }, proposals },
  };
}

async function run(method: SearchSpec['method'], proposalSeed?: number, ashaMin?: number, proposals?: Proposals): Promise<{ outcome: SearchOutcome; seconds: number }> {
  const spec = specFor(method, ashaMin, proposals);
  const executor = new LocalProcessPool(PARALLEL, { cacheHome: project.cache.home, threads });
  const started = performance.now();
  try {
    const outcome = await runSearch({ spec, space: parseSpace(spec), cache: project.cache, featuresKey: featuresKey!, backend, threads, executor, signal: new AbortController().signal, proposalSeed });
    return { outcome, seconds: (performance.now() - started) / 1000 };
  } finally {
    await executor.close();
  }
}

/**
 * Epochs each job's own training needs: continued ASHA jobs only those after the checkpoint of
 * the job they continue in this search. (Not the cache entry's own `continues`: the entry may
 * have been put there by another run — e.g. the grid's from-scratch run of the same
 * configuration and budget — which would charge a promotion as a restart.)
 */
function jobCosts(outcome: SearchOutcome): number[] {
  return outcome.jobs.map((job) => {
    const epochs = job.historyEpochs;
    const from = job.continues === null ? 0 : outcome.jobs[job.continues].historyEpochs;
    return Math.max(0, epochs - from);
  });
}

function costToReach(outcome: SearchOutcome, threshold: number): { epochs: number | null; total: number; best: number; trials: number | null; repeats: number } {
  const costs = jobCosts(outcome);
  const seen = new Set<string>();
  let spent = 0;
  let reached: number | null = null;
  let best = -Infinity;
  // Reporting only: trials started until the threshold, and new trials that repeat a configuration already trained.
  let started = 0;
  let trials: number | null = null;
  let repeats = 0;
  outcome.jobs.forEach((job, i) => {
    if (job.rung === 0) started++;
    if (job.rung === 0 && seen.has(job.key)) repeats++;
    if (!seen.has(job.key)) spent += costs[i];
    seen.add(job.key);
    if (job.objective !== null && job.status !== 'failed') best = Math.max(best, job.objective);
    if (reached === null && job.objective !== null && job.status !== 'failed' && job.objective >= threshold) {
      reached = spent;
      trials = started;
    }
  });
  return { epochs: reached, total: spent, best, trials, repeats };
}

console.log(`search efficiency on cv-mini: 36-point grid, ${Number(args.epochs)} epochs max, ${os.availableParallelism()} cores, parallel ${PARALLEL}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const grid = await run('grid');
const gridBest = Math.max(...grid.outcome.trials.map((t) => t.objective ?? -Infinity));
const threshold = gridBest - TOLERANCE;
const gridCost = costToReach(grid.outcome, threshold);
console.log(`grid: ${grid.outcome.trials.length} trials, best val_f1 ${gridBest.toFixed(4)}, ${gridCost.total} epochs in all (${grid.seconds.toFixed(0)} s wall, trials trained now or cached)`);

interface Row {
  method: string;
  seeds: number;
  reached: number;
  /** Epochs to the threshold per seed (null: never reached). */
  perSeed: (number | null)[];
  meanEpochs: number | null;
  medianEpochs: number | null;
  fractionOfGrid: number | null;
  meanTotal: number;
  bestMean: number;
  /** Standard error of meanEpochs over the seeds (null with fewer than two). */
  seEpochs: number | null;
  /** Mean trials started until the threshold (seeds that reached it). */
  meanTrials: number | null;
  /** Mean number of new trials that repeated an earlier configuration (whole run). */
  meanRepeats: number;
}
const rows: Row[] = [
  { method: 'grid', seeds: 1, reached: 1, perSeed: [gridCost.total], meanEpochs: gridCost.total, medianEpochs: gridCost.total, fractionOfGrid: 1, meanTotal: gridCost.total, bestMean: gridBest, seEpochs: null, meanTrials: grid.outcome.trials.length, meanRepeats: 0 },
];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const variants = [
  { method: 'random' as const, label: 'random' },
  { method: 'tpe' as const, label: 'tpe' },
  ...String(args['asha-proposals']).split(',').flatMap((proposals) =>
    String(args['asha-min']).split(',').map((m) => ({ method: 'asha' as const, label: `${proposals === 'tpe' ? 'asha+tpe' : 'asha'}/${m}`, ashaMin: Number(m), proposals: proposals as Proposals })),
  ),
];
for (const { method, label, ashaMin, proposals } of variants as { method: SearchSpec['method']; label: string; ashaMin?: number; proposals?: Proposals }[]) {
  const costs: number[] = [];
  const perSeed: (number | null)[] = [];
  const totals: number[] = [];
  const bests: number[] = [];
  const trialCounts: number[] = [];
  const repeats: number[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    const { outcome, seconds } = await run(method, base.seed + seed, ashaMin, proposals);
    const cost = costToReach(outcome, threshold);
    totals.push(cost.total);
    bests.push(cost.best);
    perSeed.push(cost.epochs);
    if (cost.epochs !== null) costs.push(cost.epochs);
    if (cost.trials !== null) trialCounts.push(cost.trials);
    repeats.push(cost.repeats);
    const top = outcome.rungs.length - 1;
    const rungs = method === 'asha'
      ? ` rungs ${outcome.rungs.join('/')}, ${outcome.trials.filter((t) => t.rung === top).length} trials at the top rung (${outcome.trials.filter((t) => t.complete).length} complete),`
      : '';
    const reachedText = cost.epochs === null ? 'never reached' : `reached after ${cost.epochs} epochs (trial ${cost.trials})`;
    const repeatText = cost.repeats ? `, ${cost.repeats} repeated configurations` : '';
    console.log(`  ${label} seed ${base.seed + seed}:${rungs} ${reachedText} (${cost.total} epochs in all, best ${cost.best.toFixed(4)}${repeatText}, ${seconds.toFixed(0)} s wall)`);
  }
  const mean = costs.length ? costs.reduce((a, b) => a + b, 0) / costs.length : null;
  const se = mean !== null && costs.length > 1 ? Math.sqrt(costs.reduce((a, b) => a + (b - mean) ** 2, 0) / (costs.length - 1) / costs.length) : null;
  rows.push({
    method: label,
    seeds: SEEDS,
    reached: costs.length,
    perSeed,
    meanEpochs: mean,
    medianEpochs: costs.length ? median(costs) : null,
    fractionOfGrid: mean === null ? null : mean / gridCost.total,
    meanTotal: totals.reduce((a, b) => a + b, 0) / totals.length,
    bestMean: bests.reduce((a, b) => a + b, 0) / bests.length,
    seEpochs: se,
    meanTrials: trialCounts.length ? trialCounts.reduce((a, b) => a + b, 0) / trialCounts.length : null,
    meanRepeats: repeats.reduce((a, b) => a + b, 0) / repeats.length,
  });
}

const pad = (s: string, n: number) => s.padStart(n);
console.log(`\ncompute to come within 0.5 point of grid's best val_f1 (${gridBest.toFixed(4)} → threshold ${threshold.toFixed(4)}):`);
console.log(
  `${'method'.padEnd(12)}${pad('reached', 9)}${pad('mean epochs', 13)}${pad('median', 9)}${pad('% of grid', 11)}${pad('± se', 8)}${pad('median %', 10)}${pad('trials', 8)}${pad('repeats', 9)}${pad('budget used', 13)}${pad('best f1', 9)}  per seed`,
);
for (const r of rows) {
  const pct = (x: number | null) => (x === null ? '–' : `${((x / gridCost.total) * 100).toFixed(1)}%`);
  console.log(
    `${r.method.padEnd(12)}${pad(`${r.reached}/${r.seeds}`, 9)}${pad(r.meanEpochs === null ? '–' : r.meanEpochs.toFixed(1), 13)}${pad(r.medianEpochs === null ? '–' : r.medianEpochs.toFixed(0), 9)}` +
      `${pad(pct(r.meanEpochs), 11)}${pad(pct(r.seEpochs), 8)}${pad(pct(r.medianEpochs), 10)}${pad(r.meanTrials === null ? '–' : r.meanTrials.toFixed(1), 8)}${pad(r.meanRepeats.toFixed(1), 9)}` +
      `${pad(r.meanTotal.toFixed(0), 13)}${pad(r.bestMean.toFixed(4), 9)}  ${r.perSeed.map((x) => (x === null ? '–' : String(x))).join(' ')}`,
  );
}
console.log(
  '(mean/median over the seeds that reached the threshold; "± se" = standard error of the mean over those seeds; "trials" = mean trials started until the threshold; ' +
    '"repeats" = mean new trials per run that repeated an already tried configuration (cost no epochs, but use a trial); "per seed" = epochs to the threshold for each proposal seed, – = never; ' +
    '"budget used" = mean epochs of the whole 36-trial run; target ≤ 25% of grid for tpe and asha)',
);
console.log(JSON.stringify({ bench: 'search-efficiency', gridBest, threshold, rows }));
