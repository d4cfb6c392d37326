import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/runner/events.ts';
import { activeProgress, cacheHits, initialState, liveStages, markStopping, reduce, type DashboardState } from '../../src/ui/state.ts';
import { midRun, stamp } from './events.ts';

function fold(events: ReturnType<typeof stamp>, state: DashboardState = initialState()): DashboardState {
  return events.reduce(reduce, state);
}

const started: [number, RunEvent][] = [
  [0, { type: 'run-started', runId: 'r1', spec: 'toy', stages: [{ id: 'features', needs: [] }] }],
  [0, { type: 'stage-status', stage: 'features', status: 'pending' }],
];

describe('progress rate and ETA', () => {
  it('come from the events’ own timestamps, with the running time as the first sample', () => {
    const state = fold(
      stamp([
        ...started,
        [1_000, { type: 'stage-status', stage: 'features', status: 'running', key: 'k' }],
        // 200 clips in the 4 s since the stage started: 50 clips/s, 800 left → 16 s.
        [5_000, { type: 'stage-progress', stage: 'features', done: 200, total: 1000, unit: 'clips' }],
      ]),
    );
    const p = state.progress.features;
    expect(p.rate).toBeCloseTo(50, 6);
    expect(p.etaMs).toBeCloseTo(16_000, 3);
  });

  it('follow recent speed: samples older than the 10 s window drop out', () => {
    const state = fold(
      stamp([
        ...started,
        [0, { type: 'stage-status', stage: 'features', status: 'running' }],
        // Slow start (10/s for 20 s), then 100/s.
        [10_000, { type: 'stage-progress', stage: 'features', done: 100, total: 10_000, unit: 'clips' }],
        [20_000, { type: 'stage-progress', stage: 'features', done: 200, total: 10_000, unit: 'clips' }],
        [25_000, { type: 'stage-progress', stage: 'features', done: 700, total: 10_000, unit: 'clips' }],
        [30_000, { type: 'stage-progress', stage: 'features', done: 1_200, total: 10_000, unit: 'clips' }],
      ]),
    );
    const p = state.progress.features;
    // The window starts at the last sample at or before 30 s − 10 s = 20 s.
    expect(p.samples.map((s) => s.done)).toEqual([200, 700, 1_200]);
    expect(p.rate).toBeCloseTo(100, 6);
    expect(p.etaMs).toBeCloseTo(88_000, 3);
  });

  it('has no rate from a single sample and restarts when the unit changes', () => {
    const one = fold(stamp([[0, { type: 'stage-progress', stage: 'x', done: 5, total: 10, unit: 'clips' }]]));
    expect(one.progress.x.rate).toBeUndefined();
    expect(one.progress.x.etaMs).toBeUndefined();
    const switched = fold(
      stamp([
        [0, { type: 'stage-progress', stage: 'x', done: 5, total: 10, unit: 'clips' }],
        [1_000, { type: 'stage-progress', stage: 'x', done: 8, total: 10, unit: 'clips' }],
        [2_000, { type: 'stage-progress', stage: 'x', done: 1, total: 30, unit: 'epochs' }],
      ]),
    );
    expect(switched.progress.x.unit).toBe('epochs');
    expect(switched.progress.x.rate).toBeUndefined();
  });

  it('gives the same state when the same events are replayed', () => {
    const events = midRun();
    expect(fold(JSON.parse(JSON.stringify(events)))).toEqual(fold(events));
  });
});

describe('stages', () => {
  it('move to the Static area once final, in the order they got there, each once', () => {
    const state = fold(midRun());
    expect(state.finishedStages.map((s) => [s.id, s.status])).toEqual([
      ['ingest', 'cached'],
      ['features', 'done'],
    ]);
    expect(liveStages(state).map((s) => [s.id, s.status])).toEqual([
      ['train', 'running'],
      ['eval', 'pending'],
    ]);
    expect(activeProgress(state).map((p) => p.stage)).toEqual(['train']);
    // A repeated final status does not print the line twice.
    const again = fold(stamp([[50_000, { type: 'stage-status', stage: 'features', status: 'done', durationMs: 1 }]]), state);
    expect(again.finishedStages.map((s) => s.id)).toEqual(['ingest', 'features']);
    expect(cacheHits(state)).toEqual({ cached: 1, total: 4 });
  });

  it('keeps key, duration and error; a stopped run is marked', () => {
    const state = fold(
      stamp([
        ...started,
        [1, { type: 'stage-status', stage: 'features', status: 'running', key: 'abc' }],
        [9, { type: 'stage-status', stage: 'features', status: 'failed', durationMs: 8, error: 'bad clip' }],
      ]),
    );
    expect(state.stages.features).toMatchObject({ status: 'failed', key: 'abc', durationMs: 8, error: 'bad clip' });
    expect(state.stopping).toBe(false);
    expect(markStopping(state).stopping).toBe(true);
  });
});

describe('metric series', () => {
  it('collects per-metric values and steps, capped, and prefers the epoch series', () => {
    const state = fold(midRun(), initialState({ seriesCap: 5 }));
    const series = state.series[state.latestSeries!];
    expect(series.series).toBe('epoch');
    expect(series.values.loss).toHaveLength(5);
    expect(series.steps.loss).toEqual([8, 9, 10, 11, 12]);
    expect(series.latest.samples_per_s).toBe(812);
    const withBatches = fold(stamp([[60_000, { type: 'metrics', stage: 'train', step: 400, series: 'batch', values: { loss: 0.3 } }]]), state);
    expect(withBatches.series[withBatches.latestSeries!].series).toBe('epoch');
  });
});

describe('trials leaderboard', () => {
  const trials = (): [number, RunEvent][] => [
    [0, { type: 'trial', stage: 'search', trial: 1, status: 'running', params: { lr: 0.01 }, epoch: 1 }],
    [1, { type: 'trial', stage: 'search', trial: 2, status: 'running', params: { lr: 0.001 }, epoch: 1 }],
    [2, { type: 'trial', stage: 'search', trial: 1, status: 'done', params: { lr: 0.01 }, objective: 0.7 }],
    [3, { type: 'trial', stage: 'search', trial: 3, status: 'done', params: { lr: 0.003 }, objective: 0.9 }],
    [4, { type: 'trial', stage: 'search', trial: 4, status: 'failed', params: { lr: 1 } }],
    [5, { type: 'trial', stage: 'search', trial: 5, status: 'pruned', params: { lr: 0.1 }, objective: 0.2 }],
    [6, { type: 'trial', stage: 'search', trial: 6, status: 'cached', params: { lr: 0.002 }, objective: 0.8 }],
    [7, { type: 'trial', stage: 'search', trial: 7, status: 'done', params: { lr: 0.004 }, objective: 0.9 }],
    [8, { type: 'trial', stage: 'search', trial: 2, status: 'running', params: { lr: 0.001 }, epoch: 3 }],
  ];

  it('ranks finished trials best first for mode max (ties: lower trial number first)', () => {
    const view = fold(stamp(trials()), initialState({ objectiveMode: 'max', leaderboardSize: 3 })).trials!;
    expect(view.top.map((t) => [t.trial, t.objective])).toEqual([
      [3, 0.9],
      [7, 0.9],
      [6, 0.8],
    ]);
    expect(view.running.map((t) => [t.trial, t.epoch])).toEqual([[2, 3]]);
    expect(view.counts).toEqual({ done: 3, cached: 1, failed: 1, pruned: 1 });
  });

  it('ranks lowest first for mode min, and pruned trials stay off the board', () => {
    const view = fold(stamp(trials()), initialState({ objectiveMode: 'min', leaderboardSize: 3 })).trials!;
    expect(view.top.map((t) => t.trial)).toEqual([1, 6, 3]);
    expect(view.top.some((t) => t.trial === 5)).toBe(false);
  });

  it('counts a trial once however often it is reported', () => {
    const view = fold(
      stamp([
        [0, { type: 'trial', stage: 's', trial: 1, status: 'done', params: {}, objective: 1 }],
        [1, { type: 'trial', stage: 's', trial: 1, status: 'done', params: {}, objective: 1 }],
      ]),
    ).trials!;
    expect(view.counts.done).toBe(1);
    expect(view.top).toHaveLength(1);
  });
});

describe('run end and warnings', () => {
  it('keeps the last warnings, the count of all, and the finished summary', () => {
    const warnings = Array.from({ length: 8 }, (_, i): [number, RunEvent] => [i, { type: 'log', level: 'warn', stage: 'features', message: `w${i}` }]);
    const state = fold(
      stamp([...warnings, [100, { type: 'log', level: 'info', message: 'note' }], [200, { type: 'run-finished', status: 'done', durationMs: 200, metrics: { 'eval.f1': 0.8 } }]]),
      initialState({ warningsKept: 3 }),
    );
    expect(state.warnings).toEqual(['features: w5', 'features: w6', 'features: w7']);
    expect(state.warningCount).toBe(8);
    expect(state.lastInfo).toBe('note');
    expect(state.finished).toMatchObject({ status: 'done', durationMs: 200, metrics: { 'eval.f1': 0.8 } });
  });
});

describe('progress from a stage that reports every item', () => {
  it('keeps few samples (≥ 250 ms apart) but rates up to the newest event', () => {
    const list: [number, RunEvent][] = [...started, [0, { type: 'stage-status', stage: 'features', status: 'running' }]];
    // 2000 clips, one every 5 ms: 200 clips/s.
    for (let i = 1; i <= 2000; i++) list.push([i * 5, { type: 'stage-progress', stage: 'features', done: i, total: 4000, unit: 'clips' }]);
    const p = fold(stamp(list)).progress.features;
    expect(p.samples.length).toBeLessThanOrEqual(30);
    for (let i = 1; i < p.samples.length; i++) expect(p.samples[i].t - p.samples[i - 1].t).toBeGreaterThanOrEqual(250);
    expect(p.done).toBe(2000);
    expect(p.rate).toBeCloseTo(200, 6);
    expect(p.etaMs).toBeCloseTo(10_000, 3);
  });
});
