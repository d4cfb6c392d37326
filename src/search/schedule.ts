/**
 * Which job comes next — deterministically.
 *
 * A search is a sequence of jobs (a trial trained to an epoch budget). Job k is decided from
 * the spec seed and the *results of a fixed set of earlier jobs*, never from whichever jobs
 * happen to have finished: so the sequence, every trial's configuration and every result are
 * the same with 1, 2 or 20 workers, locally or on BullMQ, and on a resumed search.
 *
 *  - grid: the whole grid, in order (`trials` ignored);
 *  - random: trial i is drawn from a stream seeded by (seed, i), re-drawn (same stream) when
 *    it repeats an earlier trial; if 100 re-draws still repeat, a finite space's unseen
 *    configurations are drawn from directly, so no trial repeats while one remains;
 *  - tpe: the first `startup` trials random, then trial i is proposed from the results of
 *    trials 0 … max(i−LAG, startup)−1: the LAG most recent ones may still be running, but the
 *    first model waits for every start-up result, so TPE is never fitted to fewer than
 *    `startup` observations (as Optuna's n_startup_trials, which counts finished trials);
 *  - asha: decision k sees the results of jobs 0 … k−1−LAG. When that shows nothing to do (no
 *    promotion, no trial budget left) it waits for all earlier jobs and decides again with
 *    everything, now letting a rung with fewer than η results promote its best (so a finite
 *    search ends with a fully trained trial); when that also shows nothing, the search is over.
 *    A trial whose training ended before its rung's budget (early stopping) is complete: its
 *    result is final at every larger budget, so promoting it trains nothing — the promotion is
 *    a job that only carries that result over (`finished`), known as soon as it is issued.
 *    With `proposals: tpe`, new trials are proposed from the results at the highest rung with
 *    enough of them (as BOHB), complete trials counting at every rung above theirs — at random
 *    while no rung has `startup` visible results.
 *
 * Trade-off: for tpe and asha, at most LAG + 1 jobs can run at once (extra workers wait), and
 * each decision ignores the LAG most recent results even on a single worker (true
 * asynchronous ASHA would use whatever has finished). In exchange results never depend on
 * timing. Random and grid have no such limit.
 *
 * Prefix extension: job k depends only on the seed and jobs < k, so raising `search.trials`
 * from 24 to 40 re-issues the first 24 trials exactly (they come from the cache) and adds 16.
 */
import { rngFor } from '../data/rng.ts';
import { ashaDecide, ashaRungs, type AshaResult } from './asha.ts';
import { assignmentId, gridAssignments, spaceSize, type Assignment, type SearchSpace } from './space.ts';
import { openPoints, randomAssignment, tpePropose, type Observation, type TpeOptions } from './tpe.ts';

export type SearchMethod = 'grid' | 'random' | 'tpe' | 'asha';

/** Results a tpe/asha decision may not see yet: the LAG most recent jobs. */
export const LAG = 3;
/** Random re-draws before accepting a repeated configuration. */
const REDRAWS = 100;

export interface PlannedJob {
  index: number;
  trial: number;
  rung: number;
  /** Epoch budget. */
  epochs: number;
  assignment: Assignment;
  /** Job whose checkpoint this one continues (an ASHA promotion), else null. */
  continues: number | null;
  /**
   * The trial already finished training at this earlier job (it stopped early below its
   * budget): this promotion trains nothing and its outcome is that job's. Else null.
   */
  finished: number | null;
  /** A later job may continue this one (keep its checkpoint). */
  promotable: boolean;
}

/** What the scheduler needs back: the objective as reported (null when the job failed or has none). */
export interface JobOutcome {
  objective: number | null;
  /**
   * The trial's training ended before this job's budget (early stopping): the result is
   * final, the same at any larger budget.
   */
  complete?: boolean;
}

export interface SchedulerOptions {
  space: SearchSpace;
  method: SearchMethod;
  seed: number;
  /** Trials (configurations) to run; ignored by grid. */
  trials: number;
  /** train.epochs: the full budget of a trial. */
  epochs: number;
  mode: 'max' | 'min';
  asha?: { min_epochs: number; reduction_factor: number };
  /** How asha proposes new trials. */
  proposals?: 'random' | 'tpe';
  tpe?: TpeOptions & { startup?: number };
  lag?: number;
}

export class SearchScheduler {
  readonly jobs: PlannedJob[] = [];
  readonly outcomes: (JobOutcome | undefined)[] = [];
  readonly rungs: number[];
  readonly lag: number;
  private readonly grid: Assignment[] | undefined;
  private readonly taken = new Set<string>();
  private trialsStarted = 0;
  private readonly trialAssignments: Assignment[] = [];
  private readonly startup: number;

  constructor(readonly options: SchedulerOptions) {
    this.lag = options.lag ?? LAG;
    this.grid = options.method === 'grid' ? gridAssignments(options.space) : undefined;
    this.rungs = options.method === 'asha'
      ? ashaRungs(options.asha?.min_epochs ?? 1, options.asha?.reduction_factor ?? 3, options.epochs)
      : [options.epochs];
    this.startup = options.tpe?.startup ?? tpeStartup(options.space);
  }

  /** Trials this search runs (the grid's size for grid; for asha, configurations started). */
  get plannedTrials(): number {
    if (this.grid) return this.grid.length;
    return Math.min(this.options.trials, spaceSize(this.options.space));
  }

  get eta(): number {
    return this.options.asha?.reduction_factor ?? 3;
  }

  /** The next job, 'wait' until a result it depends on is in, or 'done'. */
  next(): PlannedJob | 'wait' | 'done' {
    const k = this.jobs.length;
    switch (this.options.method) {
      case 'grid':
        return k < this.grid!.length ? this.issue(k, this.grid![k], 0, null) : 'done';
      case 'random':
        return this.trialsStarted < this.plannedTrials ? this.issue(this.trialsStarted, this.randomProposal(this.trialsStarted), 0, null) : 'done';
      case 'tpe': {
        const trial = this.trialsStarted;
        if (trial >= this.plannedTrials) return 'done';
        if (trial < this.startup) return this.issue(trial, this.randomProposal(trial), 0, null);
        const visible = Math.max(trial - this.lag, this.startup);
        if (!this.known(visible)) return 'wait';
        return this.issue(trial, this.tpeProposal(trial, visible), 0, null);
      }
      case 'asha':
        return this.nextAsha(k);
    }
  }

  /** Record job `index`'s outcome. */
  report(index: number, outcome: JobOutcome): void {
    if (index >= this.jobs.length) throw new RangeError(`no job ${index}`);
    this.outcomes[index] = outcome;
  }

  /** Loss view of an outcome: lower is better; +Infinity without a usable objective. */
  loss(outcome: JobOutcome | undefined): number {
    const value = outcome?.objective;
    if (value === null || value === undefined || !Number.isFinite(value)) return Infinity;
    return this.options.mode === 'max' ? -value : value;
  }

  private nextAsha(k: number): PlannedJob | 'wait' | 'done' {
    const visible = Math.max(0, k - this.lag);
    if (!this.known(visible)) return 'wait';
    let decision = this.ashaDecision(visible, false);
    if (decision.type === 'idle') {
      if (!this.known(k)) return 'wait';
      decision = this.ashaDecision(k, true);
    }
    if (decision.type === 'idle') return 'done';
    if (decision.type === 'new') {
      const trial = this.trialsStarted;
      const assignment = this.options.proposals === 'tpe' && trial >= this.startup
        ? this.ashaTpeProposal(trial, visible)
        : this.randomProposal(trial);
      return this.issue(trial, assignment, 0, null);
    }
    const from = this.jobs.findIndex((job) => job.trial === decision.trial && job.rung === decision.rung - 1);
    const job = this.issue(decision.trial, this.trialAssignments[decision.trial], decision.rung, from);
    if (this.outcomes[from]?.complete) {
      // Nothing left to train: carry the final result up (known now, whatever the lag).
      job.finished = this.jobs[from].finished ?? from;
      this.outcomes[job.index] = this.outcomes[from];
    }
    return job;
  }

  /** Whether decisions with `visible` results see job i (a carried-over final result always). */
  private visibleJob(i: number, visible: number): boolean {
    return i < visible || (this.jobs[i].finished !== null && this.jobs[i].finished! < visible);
  }

  private ashaDecision(visible: number, final: boolean) {
    const results: (AshaResult | undefined)[] = this.jobs.map((_, i) => {
      if (!this.visibleJob(i, visible)) return undefined;
      const loss = this.loss(this.outcomes[i]);
      return Number.isFinite(loss) ? { loss } : null;
    });
    return ashaDecide({ jobs: this.jobs, results, rungs: this.rungs, eta: this.eta, canStartNew: this.trialsStarted < this.plannedTrials, final });
  }

  /**
   * ASHA's TPE proposal: from the results at the highest rung with enough of them (see
   * `rungObservations`); at random while even the bottom rung has fewer than `startup`
   * visible results (the lag hides the most recent ones).
   */
  private ashaTpeProposal(trial: number, visible: number): Assignment {
    const results: RungResult[] = [];
    this.jobs.forEach((job, i) => {
      if (!this.visibleJob(i, visible)) return;
      results.push({ trial: job.trial, rung: job.rung, assignment: job.assignment, loss: this.loss(this.outcomes[i]), complete: this.outcomes[i]?.complete === true });
    });
    const { observations } = rungObservations(results, this.rungs.length, this.startup);
    if (observations.filter((o) => Number.isFinite(o.loss)).length < this.startup) return this.randomProposal(trial);
    const rand = rngFor(this.options.seed, 'search', 'tpe', String(trial));
    return tpePropose(this.options.space, observations, rand, this.options.tpe, this.taken);
  }

  private known(count: number): boolean {
    for (let i = 0; i < count; i++) if (this.outcomes[i] === undefined) return false;
    return true;
  }

  private issue(trial: number, assignment: Assignment, rung: number, continues: number | null): PlannedJob {
    if (rung === 0) {
      this.trialsStarted++;
      this.trialAssignments[trial] = assignment;
      this.taken.add(assignmentId(assignment));
    }
    const job: PlannedJob = {
      index: this.jobs.length,
      trial,
      rung,
      epochs: this.rungs[rung],
      assignment,
      continues,
      finished: null,
      promotable: rung < this.rungs.length - 1,
    };
    this.jobs.push(job);
    this.outcomes.push(undefined);
    return job;
  }

  /** Trial i's random configuration: its own stream, re-drawn while it repeats an earlier trial. */
  private randomProposal(trial: number): Assignment {
    const rand = rngFor(this.options.seed, 'search', 'random', String(trial));
    let assignment = randomAssignment(this.options.space, rand);
    for (let attempt = 0; attempt < REDRAWS && this.taken.has(assignmentId(assignment)); attempt++) {
      assignment = randomAssignment(this.options.space, rand);
    }
    if (this.taken.has(assignmentId(assignment))) {
      const open = openPoints(this.options.space, this.taken);
      if (open?.length) assignment = open[Math.floor(rand() * open.length)].assignment;
    }
    return assignment;
  }

  /** TPE from the results of the first `visible` jobs (trials: tpe runs one job per trial). */
  private tpeProposal(trial: number, visible: number): Assignment {
    const observations: Observation[] = [];
    for (let i = 0; i < visible; i++) {
      const job = this.jobs[i];
      if (this.outcomes[i] === undefined) continue;
      observations.push({ assignment: job.assignment, loss: this.loss(this.outcomes[i]) });
    }
    const rand = rngFor(this.options.seed, 'search', 'tpe', String(trial));
    return tpePropose(this.options.space, observations, rand, this.options.tpe, this.taken);
  }
}

/** A result as ASHA's TPE model sees it. */
export interface RungResult {
  trial: number;
  rung: number;
  assignment: Assignment;
  /** Lower is better; +Infinity for a failed job. */
  loss: number;
  /** The trial stopped early: this result is final, the same at every higher rung. */
  complete: boolean;
}

/**
 * The observations ASHA's TPE model is fitted to, as BOHB (Falkner, Klein & Hutter, "BOHB:
 * Robust and efficient hyperparameter optimization at scale", ICML 2018): those at the highest
 * rung that has at least `minimum` finite results — a trial complete below a rung counts there
 * with its final result — so the model learns from the longest-trained results as soon as
 * there are enough of them, and from the bottom rung, which every trial reaches, before that.
 * Bottom-rung results alone rank configurations by how fast they start, which on small data
 * (few optimiser steps per epoch) says little about where they end. In trial order.
 */
export function rungObservations(results: readonly RungResult[], rungCount: number, minimum: number): { rung: number; observations: Observation[] } {
  const atRung = Array.from({ length: rungCount }, () => new Map<number, Observation>());
  for (const r of results) {
    const upTo = r.complete ? rungCount - 1 : r.rung;
    for (let rung = r.rung; rung <= upTo; rung++) if (!atRung[rung].has(r.trial)) atRung[rung].set(r.trial, { assignment: r.assignment, loss: r.loss });
  }
  const finite = (m: Map<number, Observation>) => [...m.values()].filter((o) => Number.isFinite(o.loss)).length;
  let rung = rungCount - 1;
  while (rung > 0 && finite(atRung[rung]) < minimum) rung--;
  return { rung, observations: [...atRung[rung].entries()].sort(([a], [b]) => a - b).map(([, o]) => o) };
}

/** Random trials before TPE takes over: a constant of the space, so trial i never depends on `trials`. */
export function tpeStartup(space: SearchSpace): number {
  return Math.max(5, space.dims.length + 1);
}
