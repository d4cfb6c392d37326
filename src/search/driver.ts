/**
 * The search loop: ask the scheduler for jobs, take finished ones from the cache, hand the
 * rest to the executor (up to its slots), feed results back in job order, and report trial
 * events. Independent of where trials run.
 */
import type { ConcreteBackend } from '../engine/backend.ts';
import { InterruptedError } from '../errors.ts';
import type { ArtifactCache } from '../runner/cache.ts';
import type { RunEvent } from '../runner/events.ts';
import type { Spec } from '../spec/types.ts';
import type { EpochValidation } from '../train/binaryMetrics.ts';
import type { TrialExecutor, TrialRunResult } from './executor.ts';
import { SearchScheduler, type PlannedJob, type SearchMethod } from './schedule.ts';
import { applyAssignment, type Assignment, type SearchSpace, type TrialConfig } from './space.ts';
import { trialFingerprint, trialSeed, type TrialJob, type TrialValue } from './trial.ts';

export type JobStatus = 'done' | 'cached' | 'failed';

export interface JobRecord {
  index: number;
  trial: number;
  rung: number;
  epochs: number;
  key: string;
  config: TrialConfig;
  status: JobStatus;
  objective: number | null;
  val: EpochValidation | null;
  /** Epochs this search computed for the job (0 when cached). */
  epochsTrained: number;
  /** Epochs in the resulting model's history. */
  historyEpochs: number;
  /** The job (index) whose checkpoint this one continues: an ASHA promotion. */
  continues: number | null;
  /**
   * The trial had already finished training at this job (index), stopping early below its
   * budget: this promotion trained nothing and carries that job's result (and key).
   */
  finished: number | null;
  /** The trial's training ended here, before the budget (early stopping): a final result. */
  complete: boolean;
  durationMs: number;
  error?: string;
  value?: TrialValue;
}

export type TrialStatus = 'done' | 'cached' | 'failed' | 'pruned';

export interface TrialRecord {
  trial: number;
  assignment: Assignment;
  config: TrialConfig;
  status: TrialStatus;
  /**
   * Trained to completion: to the top rung, or (asha) stopped early below the budget of the
   * rung it reached, so training it longer would not change it.
   */
  complete: boolean;
  /** Objective at the highest rung reached (for non-asha: the trial's only job). */
  objective: number | null;
  val: EpochValidation | null;
  rung: number;
  /** Epochs of the final model's history. */
  epochs: number;
  /** Epochs trained by this search for the trial, all rungs. */
  epochsTrained: number;
  /** Training time of its jobs (when they were computed, for cached ones). */
  durationMs: number;
  key: string;
  keys: string[];
  error?: string;
}

export interface SearchOutcome {
  method: SearchMethod;
  rungs: number[];
  jobs: JobRecord[];
  trials: TrialRecord[];
  /** Index into `trials` of the best, or -1 when no trial has an objective. */
  best: number;
}

export interface SearchRunOptions {
  spec: Spec;
  space: SearchSpace;
  cache: ArtifactCache;
  featuresKey: string;
  backend: ConcreteBackend;
  threads: number;
  executor: TrialExecutor;
  signal: AbortSignal;
  stageId?: string;
  emit?(event: RunEvent): void;
  log?(message: string): void;
  /** For tests: the scheduler's lag (default LAG). */
  lag?: number;
  /**
   * Seed of the proposal sequence (default: the spec seed). Trial seeds — hence trial keys —
   * always derive from the spec seed, so benchmarks can vary the search order over the same
   * cached trials.
   */
  proposalSeed?: number;
}

export async function runSearch(options: SearchRunOptions): Promise<SearchOutcome> {
  const { spec, cache, executor, signal } = options;
  const search = spec.search!;
  const stage = options.stageId ?? 'search';
  const emit = options.emit ?? (() => {});
  const metric = search.objective.metric;
  const scheduler = new SearchScheduler({
    space: options.space,
    method: search.method,
    seed: options.proposalSeed ?? spec.seed,
    trials: search.trials,
    epochs: spec.train.epochs,
    mode: search.objective.mode,
    asha: search.asha,
    proposals: search.proposals,
    lag: options.lag,
  });
  const asha = search.method === 'asha';
  const total = scheduler.plannedTrials;
  const records: JobRecord[] = [];
  const jobsOf = new Map<number, PlannedJob[]>();
  let best: number | null = null;
  let settledTrials = 0;

  const trialEvent = (job: PlannedJob, status: 'running' | 'done' | 'failed' | 'pruned' | 'cached', extra: { epoch?: number; objective?: number | null; error?: string } = {}) =>
    emit({
      type: 'trial',
      stage,
      trial: job.trial,
      status,
      params: job.assignment,
      ...(extra.epoch !== undefined ? { epoch: extra.epoch } : {}),
      ...(extra.objective !== undefined && extra.objective !== null && Number.isFinite(extra.objective) ? { objective: extra.objective } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    });

  const toJob = (planned: PlannedJob): TrialJob => {
    const config = applyAssignment(spec, planned.assignment);
    const seed = trialSeed(spec.seed, config);
    const { key, fingerprint } = trialFingerprint({ featuresKey: options.featuresKey, config, epochs: planned.epochs, seed, backend: options.backend, threads: options.threads });
    const continues = planned.continues === null ? null : jobKeys[planned.continues];
    return {
      key,
      fingerprint,
      trial: planned.trial,
      rung: planned.rung,
      featuresKey: options.featuresKey,
      config,
      epochs: planned.epochs,
      seed,
      backend: options.backend,
      threads: options.threads,
      features: spec.features,
      continues,
      keepCheckpoint: planned.promotable,
    };
  };
  const jobKeys: string[] = [];

  const finish = (planned: PlannedJob, job: TrialJob, status: JobStatus, value: TrialValue | undefined, error: string | undefined, durationMs: number) => {
    const objective = value?.val ? numberOrNull(value.val[metric]) : null;
    if (value && !value.val) error = 'no validation split: the search objective needs one';
    // Stopped early, hence before this job's budget: the result is final at any budget.
    const complete = !error && value?.stoppedEarly === true;
    const record: JobRecord = {
      index: planned.index,
      trial: planned.trial,
      rung: planned.rung,
      epochs: planned.epochs,
      key: job.key,
      config: job.config,
      status: error ? 'failed' : status,
      objective,
      val: value?.val ?? null,
      epochsTrained: status === 'done' ? (value?.epochsTrained ?? 0) : 0,
      historyEpochs: value?.history.length ?? 0,
      continues: planned.continues,
      finished: null,
      complete,
      durationMs: value?.durationMs ?? durationMs,
      ...(error ? { error } : {}),
      ...(value ? { value } : {}),
    };
    records[planned.index] = record;
    scheduler.report(planned.index, { objective: record.status === 'failed' ? null : objective, complete });

    // The trial's last job: the top rung, or one it stopped early in (asha carries that result up).
    const top = !planned.promotable || complete;
    if (record.status === 'failed') trialEvent(planned, 'failed', { error: record.error });
    else if (top) trialEvent(planned, status, { objective, epoch: record.historyEpochs });
    else trialEvent(planned, 'running', { objective, epoch: record.historyEpochs });
    // Progress counts trials measured once (for asha: at the bottom rung).
    if (planned.rung === 0) {
      settledTrials++;
      emit({ type: 'stage-progress', stage, done: Math.min(settledTrials, total), total, unit: 'trials' });
    }
    if (top && objective !== null && record.status !== 'failed') {
      if (best === null || (search.objective.mode === 'max' ? objective > best : objective < best)) best = objective;
      emit({ type: 'metrics', stage, step: planned.trial, series: 'trial', values: { [metric]: objective, [`best_${metric}`]: best } });
    }
    if (asha && planned.promotable && record.status !== 'failed') {
      // Trial events say when a trial ends; a rung reached is only told here.
      const verb = status === 'cached' ? 'from the cache' : `in ${(record.durationMs / 1000).toFixed(1)}s`;
      const stopped = complete ? `, stopped early after epoch ${record.historyEpochs} (complete)` : '';
      options.log?.(`trial #${planned.trial} reached rung ${planned.rung} (${planned.epochs} epochs) ${verb}${stopped}${objective !== null ? `: ${metric} ${objective.toFixed(4)}` : ''}`);
    }
  };

  /** An ASHA promotion of a trial that had already finished: nothing to train, its result carried up. */
  const carry = (planned: PlannedJob) => {
    const source = records[planned.finished!];
    records[planned.index] = { ...source, index: planned.index, rung: planned.rung, epochs: planned.epochs, continues: planned.continues, finished: planned.finished, epochsTrained: 0, durationMs: 0 };
    jobKeys[planned.index] = source.key;
    scheduler.report(planned.index, { objective: source.objective, complete: true });
  };

  const inFlight = new Map<number, Promise<void>>();
  // A configuration proposed twice while its first job runs shares that job's result.
  const runningKeys = new Map<string, Promise<TrialRunResult>>();
  emit({ type: 'stage-progress', stage, done: 0, total, unit: 'trials' });
  for (;;) {
    let state: 'wait' | 'done' | 'full' = 'full';
    while (!signal.aborted && inFlight.size < executor.slots) {
      const planned = scheduler.next();
      if (planned === 'wait' || planned === 'done') {
        state = planned;
        break;
      }
      (jobsOf.get(planned.trial) ?? jobsOf.set(planned.trial, []).get(planned.trial)!).push(planned);
      if (planned.finished !== null) {
        carry(planned);
        continue;
      }
      const job = toJob(planned);
      jobKeys[planned.index] = job.key;
      const hit = cache.get<TrialValue>(job.key);
      if (hit) {
        finish(planned, job, 'cached', hit.value, undefined, 0);
        continue;
      }
      const started = Date.now();
      if (planned.rung === 0) trialEvent(planned, 'running');
      let execution = runningKeys.get(job.key);
      const shared = execution !== undefined;
      if (!execution) {
        execution = executor.run(
          job,
          {
            onEpoch: (record) => trialEvent(planned, 'running', { epoch: record.epoch }),
            log: (message) => options.log?.(`trial #${planned.trial}: ${message}`),
          },
          signal,
        );
        runningKeys.set(job.key, execution);
        void execution.then(() => runningKeys.delete(job.key));
      }
      const task = execution
        .then((result) => {
          inFlight.delete(planned.index);
          if (signal.aborted) return;
          if (!result.ok) return finish(planned, job, 'failed', undefined, result.error, Date.now() - started);
          const entry = cache.get<TrialValue>(job.key);
          if (!entry) {
            return finish(planned, job, 'failed', undefined, `the trial finished but ${job.key.slice(0, 12)} is not in this cache (does the worker share the project's .xp directory?)`, Date.now() - started);
          }
          // Not in the cache when dispatched, so computed for this search — even when the
          // executor's own delivery found it done by an earlier delivery of the same job.
          finish(planned, job, shared ? 'cached' : 'done', entry.value, undefined, Date.now() - started);
        });
      inFlight.set(planned.index, task);
    }
    if (inFlight.size === 0) {
      if (signal.aborted) throw new InterruptedError();
      if (state === 'done') break;
      throw new Error(`search scheduler is waiting with nothing running (job ${scheduler.jobs.length})`);
    }
    await Promise.race(inFlight.values());
  }

  const trials = summarizeTrials(scheduler, records, jobsOf, asha);
  for (const trial of trials) {
    if (trial.status === 'pruned') {
      const last = jobsOf.get(trial.trial)!.at(-1)!;
      trialEvent(last, 'pruned', { objective: trial.objective, epoch: trial.epochs });
    }
  }
  if (settledTrials < total) emit({ type: 'stage-progress', stage, done: total, total, unit: 'trials' });
  return { method: search.method, rungs: scheduler.rungs, jobs: records, trials, best: bestTrial(trials, scheduler, asha) };
}

function summarizeTrials(scheduler: SearchScheduler, records: JobRecord[], jobsOf: Map<number, PlannedJob[]>, asha: boolean): TrialRecord[] {
  const topRung = scheduler.rungs.length - 1;
  return [...jobsOf.entries()]
    .sort(([a], [b]) => a - b)
    .map(([trial, planned]) => {
      const jobs = planned.map((p) => records[p.index]);
      const last = jobs[jobs.length - 1];
      const failed = jobs.find((j) => j.status === 'failed');
      // The highest rung with a result: what the trial is ranked by.
      const reached = [...jobs].reverse().find((j) => j.status !== 'failed') ?? last;
      const complete = !failed && (reached.rung === topRung || reached.complete);
      // A carried-over result keeps the status of the job that computed it.
      const computed = reached.finished === null ? reached : records[reached.finished];
      let status: TrialStatus;
      if (failed) status = 'failed';
      else if (asha && !complete) status = 'pruned';
      else status = computed.status === 'cached' ? 'cached' : 'done';
      return {
        trial,
        assignment: planned[0].assignment,
        config: jobs[0].config,
        status,
        complete,
        objective: failed && failed === jobs[0] ? null : reached.objective,
        val: reached.val,
        rung: reached.rung,
        epochs: reached.historyEpochs,
        epochsTrained: jobs.reduce((sum, j) => sum + j.epochsTrained, 0),
        durationMs: jobs.reduce((sum, j) => sum + j.durationMs, 0),
        key: reached.key,
        keys: [...new Set(jobs.map((j) => j.key))],
        ...(failed?.error ? { error: failed.error } : {}),
      };
    });
}

/**
 * The best trial: among those trained to completion (asha: the top rung, or stopped early
 * below it) or, when none is, those at the highest rung any trial reached (lower rungs were
 * measured with fewer epochs); else among all, by the objective; ties go to the earlier trial.
 */
function bestTrial(trials: TrialRecord[], scheduler: SearchScheduler, asha: boolean): number {
  const scored = trials.map((t, i) => ({ t, i })).filter(({ t }) => t.objective !== null && Number.isFinite(t.objective) && t.status !== 'failed');
  if (scored.length === 0) return -1;
  const rung = asha ? Math.max(...scored.map(({ t }) => t.rung)) : 0;
  const complete = scored.filter(({ t }) => t.complete);
  const pool = !asha ? scored : complete.length ? complete : scored.filter(({ t }) => t.rung === rung);
  pool.sort((a, b) => scheduler.loss({ objective: a.t.objective }) - scheduler.loss({ objective: b.t.objective }) || a.t.trial - b.t.trial);
  return pool[0].i;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
