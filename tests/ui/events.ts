import type { RunEvent, StampedEvent } from '../../src/runner/events.ts';

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

/** Events stamped at fixed times (ms after T0), as they would appear in events.ndjson. */
export function stamp(list: [number, RunEvent][]): StampedEvent[] {
  return list.map(([ms, event], seq) => ({ ...event, time: new Date(T0 + ms).toISOString(), seq }) as StampedEvent);
}

export const PIPELINE = [
  { id: 'ingest', needs: [] },
  { id: 'features', needs: ['ingest'] },
  { id: 'train', needs: ['features'] },
  { id: 'eval', needs: ['train'] },
];

/** A run 40 s in: ingest cached, features done, train at epoch 12 of 30 with curves, eval pending. */
export function midRun(): StampedEvent[] {
  const list: [number, RunEvent][] = [
    [0, { type: 'run-started', runId: '20260301-120000-cnn-lstm-3f2a', spec: 'cnn-lstm', stages: PIPELINE }],
    ...PIPELINE.map((s): [number, RunEvent] => [1, { type: 'stage-status', stage: s.id, status: 'pending' }]),
    [120, { type: 'stage-status', stage: 'ingest', status: 'cached', key: 'a1b2c3d4e5f60718293a', durationMs: 118 }],
    [200, { type: 'stage-status', stage: 'features', status: 'running', key: 'f00dfeedbeefcafe0123' }],
    [10_200, { type: 'stage-progress', stage: 'features', done: 1000, total: 2000, unit: 'clips' }],
    [10_300, { type: 'log', level: 'warn', stage: 'features', message: 'clip common_voice_fa_123.mp3 is shorter than 0.5 s; padded' }],
    [20_200, { type: 'stage-progress', stage: 'features', done: 2000, total: 2000, unit: 'clips' }],
    [20_400, { type: 'stage-status', stage: 'features', status: 'done', key: 'f00dfeedbeefcafe0123', durationMs: 20_200 }],
    [20_500, { type: 'stage-status', stage: 'train', status: 'running', key: '7e57ab1e0000111122223333' }],
  ];
  for (let epoch = 1; epoch <= 12; epoch++) {
    const t = 20_500 + epoch * 1_500;
    list.push([t, { type: 'stage-progress', stage: 'train', done: epoch, total: 30, unit: 'epochs' }]);
    list.push([
      t,
      {
        type: 'metrics',
        stage: 'train',
        step: epoch,
        series: 'epoch',
        values: {
          loss: 0.7 * Math.exp(-epoch / 6) + 0.1,
          val_loss: 0.6 * Math.exp(-epoch / 3) + 0.25 + (epoch > 8 ? 0.015 * (epoch - 8) : 0),
          val_accuracy: 0.6 + 0.3 * (1 - Math.exp(-epoch / 4)),
          val_f1: 0.55 + 0.32 * (1 - Math.exp(-epoch / 4)),
          samples_per_s: 812,
        },
      },
    ]);
  }
  return stamp(list);
}

/** A search 5 minutes in: 9 trials finished (1 failed, 2 pruned), 2 running. */
export function searchRun(): StampedEvent[] {
  const list: [number, RunEvent][] = [
    [0, { type: 'run-started', runId: '20260301-120000-tuned-9c1d', spec: 'cnn-lstm-tuned', stages: [{ id: 'features', needs: [] }, { id: 'search', needs: ['features'] }] }],
    [5, { type: 'stage-status', stage: 'features', status: 'cached', key: 'f00dfeedbeefcafe0123', durationMs: 40 }],
    [10, { type: 'stage-status', stage: 'search', status: 'running', key: '5ea4c4000000aaaa' }],
  ];
  const objectives = [0.71, 0.83, undefined, 0.78, 0.86, 0.64, 0.81, 0.86, 0.52, 0.79, 0.75];
  objectives.forEach((objective, i) => {
    const trial = i + 1;
    const params = { 'model.lstm.units': [32, 64, 128][i % 3], 'train.lr': 0.0001 * (1 + ((i * 7) % 10)), 'model.dropout': 0.1 * (1 + (i % 4)) };
    const t = 1_000 + i * 25_000;
    list.push([t, { type: 'trial', stage: 'search', trial, status: 'running', params, epoch: 1 }]);
    if (i >= 9) return;
    const status = objective === undefined ? 'failed' : i === 5 || i === 8 ? 'pruned' : 'done';
    list.push([t + 20_000, { type: 'trial', stage: 'search', trial, status, params, objective, ...(status === 'failed' ? { error: 'NaN loss' } : {}) }]);
  });
  list.push([226_000, { type: 'trial', stage: 'search', trial: 10, status: 'running', params: { 'model.lstm.units': 64, 'train.lr': 0.0003, 'model.dropout': 0.2 }, epoch: 4 }]);
  list.push([240_000, { type: 'stage-progress', stage: 'search', done: 9, total: 24, unit: 'trials' }]);
  return stamp(list);
}

/** midRun carried to the end: train and eval done, eval's metrics with bootstrap intervals. */
export function finishedRun(): StampedEvent[] {
  const events = midRun();
  const last = Date.parse(events[events.length - 1].time) - T0;
  const rest = stamp([
    [last + 1_000, { type: 'stage-status', stage: 'train', status: 'done', key: '7e57ab1e0000111122223333', durationMs: 19_000 }],
    [last + 1_100, { type: 'stage-status', stage: 'eval', status: 'running', key: 'e7a1e7a1e7a1e7a1' }],
    [last + 3_100, { type: 'stage-status', stage: 'eval', status: 'done', key: 'e7a1e7a1e7a1e7a1', durationMs: 2_000 }],
    [
      last + 3_200,
      {
        type: 'run-finished',
        status: 'done',
        durationMs: last + 3_200,
        metrics: { 'train.epochs': 12, 'eval.f1': 0.8123, 'eval.f1_lo': 0.7901, 'eval.f1_hi': 0.8345, 'eval.accuracy': 0.84, 'eval.accuracy_lo': 0.82, 'eval.accuracy_hi': 0.86, 'eval.auc': 0.9 },
      },
    ],
  ]);
  return [...events, ...rest.map((e, i) => ({ ...e, seq: events.length + i }))];
}
