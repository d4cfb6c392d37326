import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { evaluate, PREDICTIONS_FILE, writePredictionsCsv } from '../../src/eval/evaluate.ts';
import { confusionMatrixSvg, rocCurveSvg, writePlots } from '../../src/eval/plots.ts';
import { openProject } from '../../src/runner/project.ts';
import { buildRunReport, formatRunReport } from '../../src/report/reportMd.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';
import { baseRecord, outputs, testClips, writePipelineRun } from './fabricate.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


const CLIPS = testClips(20, 3);
const P = outputs(CLIPS, (i) => i % 7 !== 0, 3); // wrong on every 7th clip
const SETTINGS = { positiveClass: 'male' as const, bootstrap: 400, confidence: 0.95, seed: 42, splitBy: 'speaker' as const };

describe('xp report', () => {
  it('md: Table 1 row, metrics with intervals, confusion matrix, splits, worst speakers, warnings, plot links', async () => {
    const record = await writePipelineRun(root, { id: 'run-1', spec: 'cnn-lstm', createdAt: '2025-01-01T10:00:00.000Z', nMfcc: 40, clips: CLIPS, probabilities: P, commit: 'c'.repeat(40) });
    const expected = evaluate({ clips: CLIPS, probabilities: P, ...SETTINGS });
    const { runs } = openProject(root);
    writePlots(path.join(runs.runDir(record.id), 'plots'), {
      confusion: await confusionMatrixSvg(expected.confusion),
      roc: await rocCurveSvg(expected.roc, expected.metrics.roc_auc.value),
    });
    const { code, stdout } = await xp('report', 'run-1');
    expect(code).toBe(0);
    const pct = (x: number | null) => (x! * 100).toFixed(1);
    const acc = expected.metrics.accuracy;
    expect(stdout).toContain('## xp report: `run-1` (cnn-lstm)');
    expect(stdout).toContain('done · 3m47s · commit cccccccc · 2025-01-01T10:00:00.000Z');
    expect(stdout).toContain('| CNN-LSTM | paper |  | 98.57 | 98.74 | 99 | 98.47 |  |  |  |');
    expect(stdout).toContain(`| CNN-LSTM | xp | run-1 | ${pct(acc.value)} [${pct(acc.lo)}, ${pct(acc.hi)}] |`);
    expect(stdout).toContain('### Test metrics (95% percentile bootstrap over speakers, 400 resamples; eval artifact)');
    for (const name of ['accuracy', 'precision', 'recall', 'f1', 'macro_f1', 'roc_auc'] as const) {
      const m = expected.metrics[name];
      expect(stdout).toContain(`| ${name} | ${pct(m.value)} | [${pct(m.lo)}, ${pct(m.hi)}] |`);
    }
    const c = expected.confusion;
    expect(c.tp + c.fn + c.fp + c.tn).toBe(60);
    expect(c.fn + c.fp).toBe(9); // clips 0, 7, …, 56
    expect(stdout).toContain(['| actual \\ predicted | male | female |', '| --- | --- | --- |', `| male | ${c.tp} | ${c.fn} |`, `| female | ${c.fp} | ${c.tn} |`].join('\n'));
    expect(stdout).toContain(['| split | clips | speakers |', '| --- | --- | --- |', '| train | 840 | 140 |', '| val | 180 | 30 |', '| test | 60 | 20 |'].join('\n'));
    const worst = expected.perSpeaker[0];
    expect(stdout).toContain(`### Speakers with the lowest accuracy (of 20)`);
    expect(stdout).toContain(`| \`${worst.clientId}\` | ${worst.gender} | 3 | ${(worst.accuracy * 100).toFixed(1)} |`);
    expect(stdout).toContain('- only 20 test speakers: intervals are wide and a few voices decide the result');
    expect(stdout).toContain(['### Plots', '', '![confusion](runs/run-1/plots/confusion.svg)', '![roc](runs/run-1/plots/roc.svg)'].join('\n'));
  });

  it('recomputes the metrics from predictions.csv when the eval artifact holds no report', async () => {
    const { runs, cache } = openProject(root);
    const key = '1'.repeat(64);
    await cache.put(key, 'eval', async (dir) => {
      writePredictionsCsv(path.join(dir, PREDICTIONS_FILE), CLIPS, P, 'male');
      return { value: { predictions: PREDICTIONS_FILE } };
    });
    const record = baseRecord({ id: 'run-2', spec: 'probe', stages: { eval: { status: 'done', needs: [], key } }, resolvedSpec: { name: 'probe', seed: 42, data: { split: { by: 'speaker' } }, eval: { positive_class: 'male', bootstrap: 400, confidence: 0.95 } } });
    runs.save(record);
    const report = buildRunReport(openProject(root), record);
    expect(report.evalSource).toBe('recomputed from predictions.csv');
    const expected = evaluate({ clips: CLIPS, probabilities: P, ...SETTINGS });
    expect(report.metrics).toEqual(Object.entries(expected.metrics).map(([name, m]) => ({ name, ...m })));
    expect(report.confusion).toEqual(expected.confusion);
  });

  it('falls back to the run record and warns about clip splits, failed runs and skipped resamples', () => {
    const record = baseRecord({
      id: 'run-3',
      spec: 'logreg',
      status: 'failed',
      resolvedSpec: { name: 'logreg', data: { split: { by: 'clip' } }, eval: { positive_class: 'female', confidence: 0.9 } },
      metrics: { 'eval.accuracy': 0.9, 'eval.accuracy_lo': 0.85, 'eval.accuracy_hi': 0.94, 'eval.tp': 40, 'eval.fp': 5, 'eval.tn': 50, 'eval.fn': 5, 'eval.bootstrap_resamples': 1000, 'eval.bootstrap_skipped': 3, 'train.val_loss': 0.2345 },
      warnings: ['ingest: 12 clips missing'],
    });
    openProject(root).runs.save(record);
    const report = buildRunReport(openProject(root), record);
    expect(report.evalSource).toBe('run record');
    const text = formatRunReport(report, 'text');
    expect(text).toContain('Test metrics (90% percentile bootstrap over clips, 1000 resamples, 3 skipped; run record)');
    expect(text).toMatch(/^ {2}accuracy +90\.0 +\[85\.0, 94\.0\]$/m);
    expect(text).toMatch(/^ {2}precision +– +–$/m);
    expect(text).toContain('Confusion matrix (positive class female)');
    expect(text).toMatch(/^ {2}female +40 +5$/m);
    expect(text).toMatch(/^ {2}train\.val_loss +0\.2345$/m);
    expect(report.warnings).toEqual([
      'ingest: 12 clips missing',
      'the run is failed: numbers may be missing or partial',
      '3 of 1000 bootstrap resamples held one class only and were skipped',
      'split by clip: test speakers may also be in training, which flatters accuracy on new voices',
    ]);
  });

  it('--format json is the report object; unknown formats and runs exit 2', async () => {
    await writePipelineRun(root, { id: 'run-4', spec: 'baseline-cnn', createdAt: '2025-01-01T10:00:00.000Z', nMfcc: 40, clips: CLIPS, probabilities: P });
    const json = JSON.parse((await xp('report', 'latest', '--format', 'json')).stdout);
    expect(json.run.id).toBe('run-4');
    expect(json.table1.model).toBe('CNN');
    expect(json.confusion.labels).toEqual({ positive: 'male', negative: 'female' });
    expect((await xp('report', 'latest', '--format', 'pdf')).code).toBe(2);
    expect((await xp('report', 'nope')).code).toBe(2);
  });
});
