import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/data/rng.ts';
import { SearchScheduler, type PlannedJob, type SchedulerOptions } from '../../src/search/schedule.ts';
import { assignmentId, gridAssignments, parseSpace, type Assignment, type SearchSpace } from '../../src/search/space.ts';
import { parzenKernels, tpePropose, type Observation } from '../../src/search/tpe.ts';
import type { SearchSpec } from '../../src/spec/types.ts';
import { SEARCH_EFFICIENCY_GRID } from '../../bench/searchProject.ts';
import { tunedSpec } from './helpers.ts';

/** The bench's 36-point grid (bench/search-efficiency.ts). */
const GRID_SPACE = SEARCH_EFFICIENCY_GRID;

/** A finite space mixing categorical, int and quantized dimensions (2 × 4 × 3 = 24 points). */
const MIXED_SPACE: SearchSpec['space'] = {
  'model.lstm.units': [32, 64],
  'model.dense.units': { int: [30, 33] },
  'train.batch_size': { quantized: { range: [16, 48], step: 16 } },
};

/** 360 points: too many for the old random fallback (100 draws) to find the last open ones. */
const BIG_SPACE: SearchSpec['space'] = { ...GRID_SPACE, 'model.dense.units': { int: [30, 39] } };

function space(definition: SearchSpec['space']): SearchSpace {
  return parseSpace(tunedSpec({ space: definition, method: 'tpe' }));
}

function scheduler(definition: SearchSpec['space'], options: Partial<Omit<SchedulerOptions, 'space'>> = {}): SearchScheduler {
  return new SearchScheduler({ method: 'tpe', seed: 42, trials: 1000, epochs: 27, mode: 'max', asha: { min_epochs: 1, reduction_factor: 3 }, ...options, space: space(definition) });
}

/** Issue and report jobs one at a time, in order, until done. */
function runAll(s: SearchScheduler, score: (job: PlannedJob) => number): PlannedJob[] {
  for (let guard = 0; guard < 10_000; guard++) {
    const next = s.next();
    if (next === 'done') return s.jobs;
    if (next === 'wait') throw new Error('waiting with every result reported');
    s.report(next.index, { objective: score(next) });
  }
  throw new Error('did not finish');
}

/** An objective that sharply prefers one corner, so l(x) collapses onto points already tried. */
const peaked = (a: Assignment) => (a['model.lstm.units'] === 64 ? 1 : 0) + (a['train.batch_size'] === 16 ? 1 : 0);

describe('TPE proposals over a finite space', () => {
  it('proposes every point of the space exactly once before the budget runs out', () => {
    for (const [definition, seeds] of [[GRID_SPACE, [1, 2, 3, 4, 5]], [MIXED_SPACE, [1, 2, 3]], [BIG_SPACE, [1]]] as const) {
      const size = gridAssignments(space(definition)).length;
      for (const seed of seeds) {
        const jobs = runAll(scheduler(definition, { seed }), (job) => peaked(job.assignment));
        expect(jobs).toHaveLength(size);
        expect(new Set(jobs.map((j) => assignmentId(j.assignment))).size).toBe(size);
      }
    }
  });

  it('returns the only point not yet taken, even when l(x) favours the taken ones', () => {
    const s = space(BIG_SPACE);
    const points = gridAssignments(s);
    const observations: Observation[] = points.map((assignment) => ({ assignment, loss: -peaked(assignment) }));
    // The one point left is among the worst: TPE would never draw it from l on its own.
    const left = points.find((a) => a['model.lstm.units'] === 32 && a['train.batch_size'] === 64 && a['model.dense.units'] === 37)!;
    const taken = new Set(points.filter((a) => a !== left).map(assignmentId));
    for (let seed = 0; seed < 10; seed++) expect(tpePropose(s, observations, mulberry32(seed), {}, taken)).toEqual(left);
  });

  it('still exploits: proposals lean towards the values of the good observations', () => {
    const s = space(GRID_SPACE);
    const points = gridAssignments(s);
    const rand = mulberry32(7);
    // Ten random observations, then count how often the proposal has the good values.
    let hits = 0;
    const runs = 200;
    for (let run = 0; run < runs; run++) {
      const observed = [...points].sort(() => rand() - 0.5).slice(0, 10);
      const observations = observed.map((assignment) => ({ assignment, loss: -peaked(assignment) }));
      const taken = new Set(observed.map(assignmentId));
      const proposal = tpePropose(s, observations, mulberry32(run), {}, taken);
      expect(taken.has(assignmentId(proposal))).toBe(false);
      if (proposal['model.lstm.units'] === 64 && proposal['train.batch_size'] === 16) hits++;
    }
    // A random unseen point has both good values 1/6 of the time.
    expect(hits / runs).toBeGreaterThan(0.5);
  });

  it('is deterministic given the random stream', () => {
    const s = space(MIXED_SPACE);
    const points = gridAssignments(s);
    const observations = points.slice(0, 8).map((assignment, i) => ({ assignment, loss: (i * 7) % 5 }));
    const taken = new Set(points.slice(0, 8).map(assignmentId));
    expect(tpePropose(s, observations, mulberry32(3), {}, taken)).toEqual(tpePropose(s, observations, mulberry32(3), {}, taken));
  });
});

describe('numeric Parzen estimator', () => {
  it('gives repeated observations the bandwidths of their sorted positions (as hyperopt)', () => {
    // Sorted with the prior (0.5): 0.2, 0.2, 0.5, 0.8. σ clipped to [1 / min(100, 5), 1].
    const kernels = parzenKernels([0.2, 0.8, 0.2], 0, 1);
    expect(kernels.map((k) => k.mu)).toEqual([0.2, 0.8, 0.2, 0.5]);
    const sigmas = kernels.map((k) => k.sigma);
    expect(sigmas[0]).toBeCloseTo(0.2, 12); // first copy: its right neighbour is the other copy (gap 0), clipped up
    expect(sigmas[2]).toBeCloseTo(0.3, 12); // second copy: gap to the prior
    expect(sigmas[1]).toBeCloseTo(0.3, 12); // end point: its one neighbour's gap
    expect(sigmas[3]).toBe(1); // prior: the range
  });
});

describe('TPE start-up', () => {
  it('fits the first model to every start-up result, later ones lag by LAG', () => {
    const s = scheduler(GRID_SPACE, { trials: 30 });
    const issued: PlannedJob[] = [];
    const drain = () => {
      for (let next = s.next(); typeof next !== 'string'; next = s.next()) issued.push(next);
    };
    drain();
    expect(issued).toHaveLength(5); // the random start-up
    for (const i of [0, 1, 2, 3]) {
      s.report(i, { objective: i / 10 });
      drain();
      expect(issued).toHaveLength(5);
    }
    s.report(4, { objective: 0.4 });
    drain();
    // Trials 5–8 all see the five start-up results (max(i − LAG, 5) = 5); trial 9 needs trial 5.
    expect(issued).toHaveLength(9);
    s.report(5, { objective: 0.5 });
    drain();
    expect(issued).toHaveLength(10);
  });

  it('ASHA with TPE proposals proposes at random until a rung has `startup` visible results', () => {
    const definition = GRID_SPACE;
    const score = (job: PlannedJob) => peaked(job.assignment) + job.epochs / 100;
    const lag = 5;
    const tpe = runAll(scheduler(definition, { method: 'asha', proposals: 'tpe', trials: 20, lag }), score);
    const random = runAll(scheduler(definition, { method: 'asha', proposals: 'random', trials: 20, lag }), score);
    // The first new trial issued when at least 5 bottom-rung results were visible.
    const firstModel = tpe.find((job) => job.rung === 0 && job.trial >= 5 && tpe.filter((j, i) => i < job.index - lag && j.rung === 0).length >= 5)!;
    expect(firstModel.trial).toBeGreaterThan(5);
    // Up to it, every decision — proposals included — is the random search's.
    const plain = (jobs: PlannedJob[]) => jobs.map((j) => ({ trial: j.trial, rung: j.rung, assignment: j.assignment }));
    expect(plain(tpe.slice(0, firstModel.index))).toEqual(plain(random.slice(0, firstModel.index)));
  });
});
