import type { RunStatus, StageStatus, StampedEvent } from '../runner/events.ts';

/**
 * What the dashboard shows, as a pure fold over the run's event stream. Every duration,
 * rate and ETA comes from the events' own `time` stamps, never from the clock, so replaying
 * a run's events.ndjson reproduces the screen it had.
 */
export interface DashboardState {
  runId?: string;
  spec?: string;
  /** Epoch ms of run-started. */
  startedAt?: number;
  /** Epoch ms of the newest event seen. */
  lastEventAt?: number;
  /** Stage ids in plan order. */
  order: string[];
  stages: Record<string, StageView>;
  /**
   * Stages that reached a final status, in the order they got there: the dashboard prints
   * these once, above the live area (Ink's <Static>), so scroll-back stays readable.
   */
  finishedStages: StageView[];
  progress: Record<string, ProgressView>;
  /** Per `<stage>\u0000<series>`: the numbers behind the sparklines. */
  series: Record<string, MetricSeries>;
  /** The series that reported last (the one to show). */
  latestSeries?: string;
  trials?: TrialsView;
  warnings: string[];
  warningCount: number;
  lastInfo?: string;
  finished?: FinishedView;
  /** Ctrl-C was pressed: the run is winding down. */
  stopping: boolean;
  options: DashboardStateOptions;
}

export interface DashboardStateOptions {
  /** How trials are ranked: by `objective`, best first. */
  objectiveMode: 'max' | 'min';
  /** Shown in the leaderboard's header, e.g. val_f1. */
  objectiveMetric: string;
  leaderboardSize: number;
  warningsKept: number;
  /** Points kept per metric (the oldest go first). */
  seriesCap: number;
}

export interface StageView {
  id: string;
  needs: string[];
  status: StageStatus;
  key?: string;
  /** Epoch ms of its `running` (or first final) status. */
  startedAt?: number;
  durationMs?: number;
  error?: string;
}

export interface ProgressView {
  stage: string;
  done: number;
  total: number;
  unit: string;
  /** Epoch ms of the newest sample. */
  at: number;
  /** Units per second over the recent window; undefined until two samples exist. */
  rate?: number;
  etaMs?: number;
  /** Recent (time, done) samples, oldest first, at least SAMPLE_GAP_MS apart: the rate window. */
  samples: { t: number; done: number }[];
}

export interface MetricSeries {
  stage: string;
  series: string;
  lastStep: number;
  /** Per metric name, values in step order (capped), and the steps they belong to. */
  values: Record<string, number[]>;
  steps: Record<string, number[]>;
  /** The newest values of the last step, including ones not worth a sparkline. */
  latest: Record<string, number>;
}

export interface TrialView {
  trial: number;
  status: 'running' | 'done' | 'failed' | 'pruned' | 'cached';
  params: Record<string, unknown>;
  epoch?: number;
  objective?: number;
}

export interface TrialsView {
  stage: string;
  /** Best first, at most `leaderboardSize`. Finished (done or cached) trials with an objective. */
  top: TrialView[];
  running: TrialView[];
  counts: { done: number; cached: number; failed: number; pruned: number };
  /** Last known status per trial number, so repeated events are counted once. */
  statusOf: Record<number, TrialView['status']>;
}

export interface FinishedView {
  status: RunStatus;
  durationMs: number;
  metrics: Record<string, number>;
  at: number;
}

export const FINAL_STATUSES: ReadonlySet<StageStatus> = new Set(['cached', 'done', 'failed', 'skipped']);

/** Samples older than this (relative to the newest) leave the rate window. */
export const RATE_WINDOW_MS = 10_000;
const MAX_SAMPLES = 30;
/** Progress samples closer together than this are not kept (the rate still uses the newest event). */
const SAMPLE_GAP_MS = 250;

export function initialState(options: Partial<DashboardStateOptions> = {}): DashboardState {
  return {
    order: [],
    stages: {},
    finishedStages: [],
    progress: {},
    series: {},
    warnings: [],
    warningCount: 0,
    stopping: false,
    options: {
      objectiveMode: options.objectiveMode ?? 'max',
      objectiveMetric: options.objectiveMetric ?? 'objective',
      leaderboardSize: options.leaderboardSize ?? 5,
      warningsKept: options.warningsKept ?? 5,
      seriesCap: options.seriesCap ?? 400,
    },
  };
}

export function reduce(state: DashboardState, event: StampedEvent): DashboardState {
  const at = Date.parse(event.time);
  const next: DashboardState = { ...state, lastEventAt: Number.isFinite(at) ? Math.max(at, state.lastEventAt ?? at) : state.lastEventAt };
  switch (event.type) {
    case 'run-started': {
      const stages: Record<string, StageView> = {};
      for (const { id, needs } of event.stages) stages[id] = state.stages[id] ?? { id, needs, status: 'pending' };
      return { ...next, runId: event.runId, spec: event.spec, startedAt: at, order: event.stages.map((s) => s.id), stages };
    }
    case 'stage-status':
      return stageStatus(next, event, at);
    case 'stage-progress':
      return { ...next, progress: { ...next.progress, [event.stage]: progressSample(next.progress[event.stage], next.stages[event.stage], event, at) } };
    case 'log':
      if (event.level === 'info') return { ...next, lastInfo: event.stage ? `${event.stage}: ${event.message}` : event.message };
      return {
        ...next,
        warnings: [...next.warnings, event.stage ? `${event.stage}: ${event.message}` : event.message].slice(-next.options.warningsKept),
        warningCount: next.warningCount + 1,
      };
    case 'metrics':
      return metrics(next, event);
    case 'trial':
      return { ...next, trials: trial(next.trials, event, next.options) };
    case 'run-finished':
      return { ...next, finished: { status: event.status, durationMs: event.durationMs, metrics: event.metrics, at } };
  }
}

/** Ctrl-C was pressed. Not an event of the run: the process that shows the dashboard learns it. */
export function markStopping(state: DashboardState): DashboardState {
  return state.stopping ? state : { ...state, stopping: true };
}

function stageStatus(state: DashboardState, event: Extract<StampedEvent, { type: 'stage-status' }>, at: number): DashboardState {
  const before = state.stages[event.stage] ?? { id: event.stage, needs: [], status: 'pending' as StageStatus };
  const stage: StageView = {
    ...before,
    status: event.status,
    key: event.key ?? before.key,
    durationMs: event.durationMs ?? before.durationMs,
    error: event.error ?? before.error,
    startedAt: event.status === 'running' ? at : before.startedAt,
  };
  const order = state.order.includes(event.stage) ? state.order : [...state.order, event.stage];
  const wasFinal = FINAL_STATUSES.has(before.status);
  const finishedStages = FINAL_STATUSES.has(stage.status) && !wasFinal ? [...state.finishedStages, stage] : state.finishedStages;
  let progress = state.progress;
  if (event.status === 'running' && progress[event.stage]) {
    // A stage that runs again (a re-plan) starts a fresh rate window.
    progress = { ...progress };
    delete progress[event.stage];
  }
  return { ...state, order, stages: { ...state.stages, [event.stage]: stage }, finishedStages, progress };
}

/**
 * Rate over a sliding window of samples (oldest kept sample to this event); a stage's
 * `running` time counts as a sample of 0 done, so the first progress event already gives a
 * rate. Samples are kept at most every SAMPLE_GAP_MS, so a stage reporting every clip costs
 * no copying per event. A count that goes backwards or a changed unit/total starts afresh.
 */
function progressSample(
  previous: ProgressView | undefined,
  stage: StageView | undefined,
  event: Extract<StampedEvent, { type: 'stage-progress' }>,
  at: number,
): ProgressView {
  const sameSeries = previous && previous.unit === event.unit && previous.total === event.total && event.done >= previous.done;
  let samples: { t: number; done: number }[];
  if (sameSeries) {
    const last = previous.samples[previous.samples.length - 1];
    samples = at - last.t >= SAMPLE_GAP_MS ? windowed([...previous.samples, { t: at, done: event.done }], at) : previous.samples;
  } else if (!previous && stage?.startedAt !== undefined && stage.startedAt <= at) {
    samples = [{ t: stage.startedAt, done: 0 }, { t: at, done: event.done }];
  } else {
    samples = [{ t: at, done: event.done }];
  }
  const oldest = samples[0];
  const dt = at - oldest.t;
  const rate = dt > 0 ? ((event.done - oldest.done) * 1000) / dt : undefined;
  const left = event.total - event.done;
  const etaMs = left <= 0 ? 0 : rate !== undefined && rate > 0 ? (left / rate) * 1000 : undefined;
  return { stage: event.stage, done: event.done, total: event.total, unit: event.unit, at, rate, etaMs, samples };
}

/** Drop samples older than the window, but keep the last one before it so a rate exists. */
function windowed(samples: { t: number; done: number }[], at: number): { t: number; done: number }[] {
  const cutoff = at - RATE_WINDOW_MS;
  let first = 0;
  while (first < samples.length - 2 && samples[first + 1].t <= cutoff) first++;
  return samples.slice(Math.max(first, samples.length - MAX_SAMPLES));
}

export function seriesKey(stage: string, series: string): string {
  return `${stage}\u0000${series}`;
}

function metrics(state: DashboardState, event: Extract<StampedEvent, { type: 'metrics' }>): DashboardState {
  const name = event.series ?? 'step';
  const key = seriesKey(event.stage, name);
  const before = state.series[key];
  const values: Record<string, number[]> = { ...(before?.values ?? {}) };
  const steps: Record<string, number[]> = { ...(before?.steps ?? {}) };
  const cap = state.options.seriesCap;
  for (const [metric, value] of Object.entries(event.values)) {
    const list = [...(values[metric] ?? []), value];
    const at = [...(steps[metric] ?? []), event.step];
    values[metric] = list.length > cap ? list.slice(list.length - cap) : list;
    steps[metric] = at.length > cap ? at.slice(at.length - cap) : at;
  }
  const latest = before && before.lastStep === event.step ? { ...before.latest, ...event.values } : { ...event.values };
  const series: MetricSeries = { stage: event.stage, series: name, lastStep: event.step, values, steps, latest };
  // An epoch curve is what people watch; a noisier series (per batch) does not take its place.
  const keep = state.latestSeries && state.latestSeries !== key && state.series[state.latestSeries]?.series === 'epoch' && name !== 'epoch';
  return { ...state, series: { ...state.series, [key]: series }, latestSeries: keep ? state.latestSeries : key };
}

function trial(before: TrialsView | undefined, event: Extract<StampedEvent, { type: 'trial' }>, options: DashboardStateOptions): TrialsView {
  const view: TrialsView = before
    ? { ...before, counts: { ...before.counts }, statusOf: { ...before.statusOf } }
    : { stage: event.stage, top: [], running: [], counts: { done: 0, cached: 0, failed: 0, pruned: 0 }, statusOf: {} };
  const previous = view.statusOf[event.trial];
  if (previous && previous !== 'running') view.counts[previous]--;
  view.statusOf[event.trial] = event.status;
  if (event.status !== 'running') view.counts[event.status]++;

  const entry: TrialView = { trial: event.trial, status: event.status, params: event.params, epoch: event.epoch, objective: event.objective };
  const others = view.running.filter((t) => t.trial !== event.trial);
  view.running = event.status === 'running' ? [...others, entry].sort((a, b) => a.trial - b.trial) : others;

  const rest = view.top.filter((t) => t.trial !== event.trial);
  if ((event.status === 'done' || event.status === 'cached') && event.objective !== undefined && Number.isFinite(event.objective)) {
    view.top = [...rest, entry].sort((a, b) => compareTrials(a, b, options.objectiveMode)).slice(0, options.leaderboardSize);
  } else if (rest.length !== view.top.length) {
    view.top = rest;
  }
  return view;
}

function compareTrials(a: TrialView, b: TrialView, mode: 'max' | 'min'): number {
  const diff = (a.objective ?? 0) - (b.objective ?? 0);
  if (diff !== 0) return mode === 'max' ? -diff : diff;
  return a.trial - b.trial;
}

/** Stages not yet final, in plan order: the live part of the stage list. */
export function liveStages(state: DashboardState): StageView[] {
  return state.order.map((id) => state.stages[id]).filter((s): s is StageView => !!s && !FINAL_STATUSES.has(s.status));
}

export function runningStages(state: DashboardState): StageView[] {
  return liveStages(state).filter((s) => s.status === 'running');
}

/** Stage progress worth a bar: stages running now. */
export function activeProgress(state: DashboardState): ProgressView[] {
  return runningStages(state)
    .map((s) => state.progress[s.id])
    .filter((p): p is ProgressView => !!p);
}

export function cacheHits(state: DashboardState): { cached: number; total: number } {
  const stages = state.order.map((id) => state.stages[id]).filter(Boolean);
  return { cached: stages.filter((s) => s.status === 'cached').length, total: stages.length };
}
