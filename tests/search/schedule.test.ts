import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/data/rng.ts';
import { ashaDecide, ashaRungs } from '../../src/search/asha.ts';
import { rungObservations, SearchScheduler, type PlannedJob, type SchedulerOptions } from '../../src/search/schedule.ts';
import { parseSpace, type Assignment } from '../../src/search/space.ts';
import type { SearchSpec } from '../../src/spec/types.ts';
import { tunedSpec } from './helpers.ts';

const SYNTHETIC_SPACE: SearchSpec['space'] = {
  'model.dropout': { uniform: [0, 0.9] },
  'train.lr': { log_uniform: [0.00001, 0.1] },
  'model.lstm.units': { int: [8, 256] },
  'model.kind': ['cnn', 'cnn-lstm', 'lstm-cnn'],
};

/** A smooth synthetic objective (max) with its optimum inside the space. */
function synthetic(a: Assignment): number {
  const dropout = a['model.dropout'] as number;
  const lr = Math.log10(a['train.lr'] as number);
  const units = a['model.lstm.units'] as number;
  return 1 - 4 * (dropout - 0.25) ** 2 - 0.3 * (lr + 3) ** 2 - ((units - 100) / 80) ** 2 - (a['model.kind'] === 'cnn-lstm' ? 0 : 0.2);
}

function scheduler(options: Partial<Omit<SchedulerOptions, 'space'>> & { space?: SearchSpec['space'] } = {}): SearchScheduler {
  const { space, ...rest } = options;
  const spec = tunedSpec({ space: space ?? SYNTHETIC_SPACE, method: options.method ?? 'random' });
  return new SearchScheduler({
    method: 'random',
    seed: 42,
    trials: 20,
    epochs: 27,
    mode: 'max',
    asha: { min_epochs: 1, reduction_factor: 3 },
    proposals: 'random',
    ...rest,
    space: parseSpace(spec),
  });
}

/**
 * Run a scheduler to the end with `workers` parallel slots, finishing in-flight jobs in a
 * random order (as real workers would), scoring each job with `score`.
 */
function simulate(s: SearchScheduler, workers: number, score: (job: PlannedJob) => number, orderSeed = 1, complete?: (job: PlannedJob) => boolean): PlannedJob[] {
  const rand = mulberry32(orderSeed);
  const running: PlannedJob[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    let state: string = 'full';
    while (running.length < workers) {
      const next = s.next();
      if (typeof next === 'string') {
        state = next;
        break;
      }
      running.push(next);
    }
    if (running.length === 0) {
      expect(state).toBe('done');
      return s.jobs;
    }
    const [job] = running.splice(Math.floor(rand() * running.length), 1);
    s.report(job.index, { objective: score(job), ...(complete?.(job) ? { complete: true } : {}) });
  }
  throw new Error('did not finish');
}

const plain = (jobs: PlannedJob[]) => jobs.map((j) => ({ trial: j.trial, rung: j.rung, epochs: j.epochs, assignment: j.assignment }));

describe('random search', () => {
  it('is deterministic given the seed, and the seed matters', () => {
    const a = simulate(scheduler(), 1, (j) => synthetic(j.assignment));
    const b = simulate(scheduler(), 3, (j) => synthetic(j.assignment), 9);
    const c = simulate(scheduler({ seed: 43 }), 1, (j) => synthetic(j.assignment));
    expect(plain(a)).toEqual(plain(b));
    expect(plain(a)).not.toEqual(plain(c));
    expect(a).toHaveLength(20);
  });

  it('extends as a prefix when trials grow', () => {
    const short = simulate(scheduler({ trials: 10 }), 2, (j) => synthetic(j.assignment));
    const long = simulate(scheduler({ trials: 25 }), 2, (j) => synthetic(j.assignment));
    expect(plain(long).slice(0, 10)).toEqual(plain(short));
  });

  it('avoids repeating a configuration while unseen ones remain; caps trials at the space size', () => {
    const space = { 'model.lstm.units': [32, 64, 128], 'train.batch_size': [16, 32] };
    const jobs = simulate(scheduler({ space, trials: 10 }), 1, () => 0);
    expect(jobs).toHaveLength(6);
    expect(new Set(jobs.map((j) => JSON.stringify(j.assignment))).size).toBe(6);
  });

  it('visits every point of a finite space exactly once, even when 100 re-draws keep hitting taken points near the end', () => {
    const space = { 'model.conv.filters': [[16, 32], [32, 64], [64, 128]], 'model.lstm.units': [32, 64, 128], 'train.lr': [0.001, 0.003], 'train.batch_size': [16, 32] };
    for (let seed = 1; seed <= 60; seed++) {
      const jobs = simulate(scheduler({ space, trials: 36, seed }), 1, () => 0);
      expect(new Set(jobs.map((j) => JSON.stringify(j.assignment))).size).toBe(36);
    }
  });
});

describe('TPE', () => {
  it('is deterministic at any worker count and completion order', () => {
    const runs = [1, 2, 4, 8].map((workers, i) => plain(simulate(scheduler({ method: 'tpe', trials: 25 }), workers, (j) => synthetic(j.assignment), i + 1)));
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  });

  it('extends as a prefix when trials grow', () => {
    const short = simulate(scheduler({ method: 'tpe', trials: 12 }), 2, (j) => synthetic(j.assignment));
    const long = simulate(scheduler({ method: 'tpe', trials: 30 }), 3, (j) => synthetic(j.assignment));
    expect(plain(long).slice(0, 12)).toEqual(plain(short));
  });

  it('never lets more than LAG + 1 trials run at once past the random start-up', () => {
    const s = scheduler({ method: 'tpe', trials: 30 });
    const issued: PlannedJob[] = [];
    for (let next = s.next(); typeof next !== 'string'; next = s.next()) issued.push(next);
    // Start-up trials are free; after that trial i needs trial i − LAG − 1 finished.
    expect(issued.length).toBe(Math.max(5, 4 + 1) + 0);
    expect(s.next()).toBe('wait');
  });

  it('beats random search on a synthetic objective, on average over seeds', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const bestOf = (method: 'tpe' | 'random', seed: number) => {
      const jobs = simulate(scheduler({ method, seed, trials: 40 }), 2, (j) => synthetic(j.assignment), seed);
      return Math.max(...jobs.map((j) => synthetic(j.assignment)));
    };
    const tpe = seeds.map((seed) => bestOf('tpe', seed));
    const random = seeds.map((seed) => bestOf('random', seed));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const regret = (xs: number[]) => 1 - mean(xs);
    expect(regret(tpe)).toBeLessThan(regret(random));
    // …by a clear margin, and on most seeds.
    expect(regret(tpe)).toBeLessThan(0.7 * regret(random));
    expect(seeds.filter((_, i) => tpe[i] > random[i]).length).toBeGreaterThanOrEqual(6);
  });
});

describe('ASHA', () => {
  it('places rungs at min·η^k up to the full budget', () => {
    expect(ashaRungs(1, 3, 27)).toEqual([1, 3, 9, 27]);
    expect(ashaRungs(1, 3, 30)).toEqual([1, 3, 9, 30]);
    expect(ashaRungs(2, 2, 8)).toEqual([2, 4, 8]);
    expect(ashaRungs(1, 3, 10)).toEqual([1, 3, 10]);
    expect(ashaRungs(5, 3, 5)).toEqual([5]);
  });

  it('promotes the top 1/η of a rung, best first, highest rung first, each trial once', () => {
    const rungs = [1, 3, 9];
    const jobs = [0, 1, 2, 3, 4, 5].map((trial) => ({ trial, rung: 0 }));
    const losses = [0.5, 0.2, 0.9, 0.4, 0.1, 0.7];
    const results = losses.map((loss) => ({ loss }));
    // 6 results at rung 0, η = 3 → the top 2 (trials 4 and 1) are promotable; best first.
    expect(ashaDecide({ jobs, results, rungs, eta: 3, canStartNew: true })).toEqual({ type: 'promote', trial: 4, rung: 1 });
    const withPromotion = [...jobs, { trial: 4, rung: 1 }];
    expect(ashaDecide({ jobs: withPromotion, results: [...results, undefined], rungs, eta: 3, canStartNew: true })).toEqual({ type: 'promote', trial: 1, rung: 1 });
    // Both promoted, nothing else in the top third: a new trial, or idle when the budget is spent.
    const both = [...withPromotion, { trial: 1, rung: 1 }];
    expect(ashaDecide({ jobs: both, results: [...results, undefined, undefined], rungs, eta: 3, canStartNew: true })).toEqual({ type: 'new' });
    expect(ashaDecide({ jobs: both, results: [...results, undefined, undefined], rungs, eta: 3, canStartNew: false })).toEqual({ type: 'idle' });
    // Fewer than η results at a rung: nobody is in its top third yet.
    expect(ashaDecide({ jobs: jobs.slice(0, 2), results: results.slice(0, 2), rungs, eta: 3, canStartNew: true })).toEqual({ type: 'new' });
    // A higher rung is looked at first; failed jobs are never promoted.
    const upper = [...both, { trial: 7, rung: 1 }];
    const upperResults = [...results, { loss: 0.3 }, { loss: 0.05 }, { loss: 0.6 }];
    expect(ashaDecide({ jobs: upper, results: upperResults, rungs, eta: 3, canStartNew: true })).toEqual({ type: 'promote', trial: 1, rung: 2 });
    expect(ashaDecide({ jobs, results: [null, null, null, { loss: 1 }, null, null], rungs, eta: 3, canStartNew: true })).toEqual({ type: 'promote', trial: 3, rung: 1 });
  });

  it('at the end of a finite search, a rung with fewer than η results still promotes its best', () => {
    const rungs = [1, 3, 9];
    const jobs = [{ trial: 0, rung: 0 }, { trial: 1, rung: 0 }, { trial: 1, rung: 1 }];
    const results = [{ loss: 0.5 }, { loss: 0.2 }, { loss: 0.1 }];
    expect(ashaDecide({ jobs, results, rungs, eta: 3, canStartNew: false })).toEqual({ type: 'idle' });
    expect(ashaDecide({ jobs, results, rungs, eta: 3, canStartNew: false, final: true })).toEqual({ type: 'promote', trial: 1, rung: 2 });
    // A small search (6 trials, η = 3) still trains some trial to the full budget.
    const s = scheduler({ method: 'asha', trials: 6, epochs: 9 });
    const all = simulate(s, 2, (job) => synthetic(job.assignment) * (1 - Math.exp(-job.epochs / 4)));
    expect(all.some((j) => j.epochs === 9)).toBe(true);
  });

  /** Synthetic learning curves: quality from the configuration, rising with epochs. */
  const curve = (job: PlannedJob) => synthetic(job.assignment) * (1 - Math.exp(-job.epochs / 4));

  it('on synthetic learning curves: survivors are the best trials, compute far below full training', () => {
    const s = scheduler({ method: 'asha', trials: 27 });
    const jobs = simulate(s, 2, curve);
    const top = jobs.filter((j) => j.rung === s.rungs.length - 1);
    expect(s.rungs).toEqual([1, 3, 9, 27]);
    expect(jobs.filter((j) => j.rung === 0)).toHaveLength(27);
    expect(top.length).toBeGreaterThanOrEqual(1);
    expect(top.length).toBeLessThanOrEqual(3);
    // Every promotion continues the same trial one rung down.
    for (const job of jobs.filter((j) => j.rung > 0)) {
      const from = jobs[job.continues!];
      expect(from.trial).toBe(job.trial);
      expect(from.rung).toBe(job.rung - 1);
    }
    // The trial with the best final quality among those tried reaches the top rung.
    const trials = [...new Set(jobs.map((j) => j.trial))];
    const bestTrial = trials.reduce((a, b) => (synthetic(jobs.find((j) => j.trial === b)!.assignment) > synthetic(jobs.find((j) => j.trial === a)!.assignment) ? b : a));
    expect(top.map((j) => j.trial)).toContain(bestTrial);
    const epochs = jobs.reduce((sum, j) => sum + (j.epochs - (j.continues === null ? 0 : jobs[j.continues].epochs)), 0);
    expect(epochs).toBeLessThan(0.25 * 27 * 27);
  });

  it('carries a trial that stopped early up the rungs without training it again', () => {
    const s = scheduler({ method: 'asha', trials: 9, epochs: 9, lag: 0 });
    expect(s.rungs).toEqual([1, 3, 9]);
    // Trial 0 is the best and its training stops early within the first rung: complete.
    const jobs: PlannedJob[] = [];
    for (let i = 0; i < 3; i++) {
      const job = s.next() as PlannedJob;
      jobs.push(job);
      s.report(job.index, { objective: job.trial === 0 ? 0.9 : 0.5 - 0.1 * job.trial, complete: job.trial === 0 });
    }
    const promoted = s.next() as PlannedJob;
    expect(promoted).toMatchObject({ trial: 0, rung: 1, continues: 0, finished: 0 });
    // Its outcome is known at once (nothing to wait for), and it is the rung's only result so
    // far: the next decision starts a new trial rather than waiting.
    expect(s.outcomes[promoted.index]).toEqual({ objective: 0.9, complete: true });
    const next = s.next() as PlannedJob;
    expect(next).toMatchObject({ rung: 0, finished: null, continues: null });
  });

  it('fits ASHA\'s TPE model to the highest rung with enough results, complete trials counting above theirs', () => {
    const a = (x: number) => ({ 'train.lr': x });
    const results = [
      ...[0, 1, 2, 3, 4, 5].map((trial) => ({ trial, rung: 0, assignment: a(trial), loss: trial, complete: false })),
      { trial: 1, rung: 1, assignment: a(1), loss: 0.5, complete: false },
      { trial: 3, rung: 1, assignment: a(3), loss: 0.2, complete: false },
      // Trial 4 stopped early at rung 0: its result stands at rungs 1 and 2 too.
      { trial: 4, rung: 0, assignment: a(4), loss: 4, complete: true },
    ];
    expect(rungObservations(results, 3, 3)).toEqual({ rung: 1, observations: [{ assignment: a(1), loss: 0.5 }, { assignment: a(3), loss: 0.2 }, { assignment: a(4), loss: 4 }] });
    // Not enough anywhere above the bottom: the bottom rung, every trial once.
    expect(rungObservations(results, 3, 4).rung).toBe(0);
    expect(rungObservations(results, 3, 4).observations).toHaveLength(6);
  });

  it('gives the same jobs at any worker count and completion order, and extends as a prefix', () => {
    const runs = [1, 2, 3, 6].map((workers, i) => plain(simulate(scheduler({ method: 'asha', trials: 20 }), workers, curve, i + 7)));
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
    const tpe = [1, 4].map((workers) => plain(simulate(scheduler({ method: 'asha', proposals: 'tpe', trials: 20 }), workers, curve, workers)));
    expect(tpe[1]).toEqual(tpe[0]);
    // Trials that stop early (results carried up without training) change nothing to that.
    const stops = (job: PlannedJob) => job.epochs >= 3 && job.trial % 2 === 0;
    const carried = [1, 2, 5].map((workers, i) => simulate(scheduler({ method: 'asha', proposals: 'tpe', trials: 20 }), workers, curve, i + 3, stops));
    for (const run of carried.slice(1)) expect(plain(run)).toEqual(plain(carried[0]));
    expect(carried[0].some((j) => j.finished !== null)).toBe(true);
    // Raising trials keeps the first trials' configurations (their jobs come from the cache).
    const more = plain(simulate(scheduler({ method: 'asha', trials: 30 }), 2, curve));
    const firstTrials = (run: ReturnType<typeof plain>) => run.filter((j) => j.rung === 0).slice(0, 20).map((j) => j.assignment);
    expect(firstTrials(more)).toEqual(firstTrials(runs[0]));
  });
});

describe('grid', () => {
  it('issues the whole grid, ignoring trials, with no waiting', () => {
    const s = scheduler({ method: 'grid', trials: 2, space: { 'model.lstm.units': [32, 64], 'train.batch_size': [16, 32, 64] } });
    const jobs = simulate(s, 3, () => 0);
    expect(jobs).toHaveLength(6);
  });
});
