import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openProject } from '../../src/runner/project.ts';
import type { RunRecord } from '../../src/runner/runStore.ts';
import { formatTable1, table1Entries } from '../../src/report/table1.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';
import { baseRecord } from './fabricate.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


const ci = (prefix: string, values: Record<string, [number, number, number]>) =>
  Object.fromEntries(
    Object.entries(values).flatMap(([m, [v, lo, hi]]) => [[`${prefix}${m}`, v], [`${prefix}${m}_lo`, lo], [`${prefix}${m}_hi`, hi]]),
  );

/** A baseline-cnn run (speaker split, counts in its metrics) and a logistic-regression run (clip split, counts only in its eval artifact). */
async function twoRuns(): Promise<RunRecord[]> {
  const { runs, cache } = openProject(root);
  const cnn = baseRecord({
    id: '20250101-100000-baseline-cnn-aaaa',
    spec: 'baseline-cnn',
    createdAt: '2025-01-01T10:00:00.000Z',
    metrics: {
      ...ci('eval.', { accuracy: [0.9012, 0.8623, 0.9347], precision: [0.9051, 0.8502, 0.9518], recall: [0.9302, 0.8811, 0.9713], f1: [0.9171, 0.8702, 0.9554] }),
      'eval.n': 165,
      'eval.speakers': 38,
      'train.val_loss': 0.31,
    },
  });
  const evalKey = 'e'.repeat(64);
  await cache.put(evalKey, 'eval', async () => ({ value: { n: 170, speakers: 41, metrics: {}, confusion: {} } }));
  const logreg = baseRecord({
    id: '20250102-100000-logreg-baseline-bbbb',
    spec: 'logreg-baseline',
    createdAt: '2025-01-02T10:00:00.000Z',
    resolvedSpec: { name: 'logreg-baseline', seed: 1, data: { split: { by: 'clip' } }, eval: { positive_class: 'male', confidence: 0.95 } },
    stages: { eval: { status: 'done', needs: [], key: evalKey } },
    metrics: ci('eval.', { accuracy: [0.9424, 0.9103, 0.9688], precision: [0.9498, 0.9121, 0.9802], recall: [0.9353, 0.8904, 0.9701], f1: [0.9426, 0.9108, 0.9691] }),
  });
  runs.save(cnn);
  runs.save(logreg);
  return [cnn, logreg];
}

const NOTES = [
  'xp cells: test-set value [lo, hi] in %, 95% percentile bootstrap interval resampling speakers (split by speaker)',
  'xp cells: test-set value [lo, hi] in %, 95% percentile bootstrap interval resampling clips (split by clip)',
  'precision, recall and F1 are for the positive class male (the paper reports male)',
  'paper rows: as reported in the paper, single numbers without intervals',
];

describe('Table 1', () => {
  it('text: paper row above the matching xp run, extra specs as their own rows, n clips and speakers', async () => {
    const records = await twoRuns();
    const text = formatTable1(table1Entries(records, openProject(root).cache), 'text');
    expect(text).toBe(
      [
        'model            source  run                                   accuracy           precision          recall             F1                 split    test clips  speakers',
        '---------------  ------  ------------------------------------  -----------------  -----------------  -----------------  -----------------  -------  ----------  --------',
        'CNN              paper                                         92                 92.5               93                 92.8',
        'CNN              xp      20250101-100000-baseline-cnn-aaaa     90.1 [86.2, 93.5]  90.5 [85.0, 95.2]  93.0 [88.1, 97.1]  91.7 [87.0, 95.5]  speaker         165        38',
        'logreg-baseline  xp      20250102-100000-logreg-baseline-bbbb  94.2 [91.0, 96.9]  95.0 [91.2, 98.0]  93.5 [89.0, 97.0]  94.3 [91.1, 96.9]  clip            170        41',
        '',
        ...NOTES,
      ].join('\n'),
    );
  });

  it('md', async () => {
    const records = await twoRuns();
    expect(formatTable1(table1Entries(records, openProject(root).cache), 'md')).toBe(
      [
        '| model | source | run | accuracy | precision | recall | F1 | split | test clips | speakers |',
        '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
        '| CNN | paper |  | 92 | 92.5 | 93 | 92.8 |  |  |  |',
        '| CNN | xp | 20250101-100000-baseline-cnn-aaaa | 90.1 [86.2, 93.5] | 90.5 [85.0, 95.2] | 93.0 [88.1, 97.1] | 91.7 [87.0, 95.5] | speaker | 165 | 38 |',
        '| logreg-baseline | xp | 20250102-100000-logreg-baseline-bbbb | 94.2 [91.0, 96.9] | 95.0 [91.2, 98.0] | 93.5 [89.0, 97.0] | 94.3 [91.1, 96.9] | clip | 170 | 41 |',
        '',
        ...NOTES.map((n) => `- ${n}`),
      ].join('\n'),
    );
  });

  it('csv: percent with two decimals, interval bounds in their own columns', async () => {
    const records = await twoRuns();
    expect(formatTable1(table1Entries(records, openProject(root).cache), 'csv')).toBe(
      [
        'model,source,run,spec,split,test_clips,test_speakers,positive_class,accuracy,accuracy_lo,accuracy_hi,accuracy_sd,precision,precision_lo,precision_hi,precision_sd,recall,recall_lo,recall_hi,recall_sd,f1,f1_lo,f1_hi,f1_sd',
        'CNN,paper,,baseline-cnn,,,,male,92,,,,92.5,,,,93,,,,92.8,,,',
        'CNN,xp,20250101-100000-baseline-cnn-aaaa,baseline-cnn,speaker,165,38,male,90.12,86.23,93.47,,90.51,85.02,95.18,,93.02,88.11,97.13,,91.71,87.02,95.54,',
        'logreg-baseline,xp,20250102-100000-logreg-baseline-bbbb,logreg-baseline,clip,170,41,male,94.24,91.03,96.88,,94.98,91.21,98.02,,93.53,89.04,97.01,,94.26,91.08,96.91,',
      ].join('\n'),
    );
  });

  it('shows mean ± sd [t interval] when a run has results over seeds, and says how many', () => {
    const seeds = baseRecord({
      id: 'r-seeds',
      spec: 'cnn-lstm',
      metrics: {
        'seeds.accuracy_mean': 0.914, 'seeds.accuracy_sd': 0.032, 'seeds.accuracy_lo': 0.874, 'seeds.accuracy_hi': 0.954,
        'seeds.precision_mean': 0.92, 'seeds.precision_sd': 0.041,
        'seeds.recall_mean': 0.905, 'seeds.recall_sd': 0.05, 'seeds.f1_mean': 0.913, 'seeds.f1_sd': 0.034, 'seeds.seeds': 5,
        'seeds.n': 57, 'seeds.speakers': 25,
        'eval@1.accuracy': 0.9, 'eval@1.accuracy_lo': 0.85, 'eval@1.accuracy_hi': 0.95,
      },
    });
    const [entry] = table1Entries([seeds]);
    expect(entry.model).toBe('CNN-LSTM');
    expect(entry.cells.accuracy).toEqual({ kind: 'seeds', mean: 0.914, sd: 0.032, lo: 0.874, hi: 0.954 });
    expect(entry.cells.precision).toEqual({ kind: 'seeds', mean: 0.92, sd: 0.041, lo: null, hi: null });
    const md = formatTable1([entry], 'md');
    expect(md).toContain('| CNN-LSTM | paper |  | 98.57 | 98.74 | 99 | 98.47 |  |  |  |');
    expect(md).toContain('| CNN-LSTM | xp | r-seeds | 91.4 ± 3.2 [87.4, 95.4] | 92.0 ± 4.1 | 90.5 ± 5.0 | 91.3 ± 3.4 | speaker | 57 | 25 |');
    expect(md).toContain('- xp cells over 5 seeds: mean ± sd [lo, hi] in %');
    expect(formatTable1([entry], 'csv').split('\n')[2]).toBe('CNN-LSTM,xp,r-seeds,cnn-lstm,speaker,57,25,male,91.40,87.40,95.40,3.20,92.00,,,4.10,90.50,,,5.00,91.30,,,3.40');
  });

  it('says which runs have no results, and which positive class each run used', () => {
    const failed = baseRecord({ id: 'r-failed', spec: 'cnn-lstm-tuned', status: 'failed' });
    const female = baseRecord({
      id: 'r-female',
      spec: 'baseline-cnn',
      resolvedSpec: { name: 'baseline-cnn', data: { split: { by: 'speaker' } }, eval: { positive_class: 'female' } },
      metrics: { 'eval.accuracy': 0.9 },
    });
    const text = formatTable1(table1Entries([failed, female]), 'text');
    expect(text).toMatch(/^Hyperparameter-tuned CNN-LSTM +paper +99\.9 +99\.3 +99\.9 +99\.2$/m);
    expect(text).toMatch(/^Hyperparameter-tuned CNN-LSTM +xp +r-failed +– +– +– +– +speaker +– +–$/m);
    expect(text).toContain('r-failed has no eval metrics (run failed)');
    expect(text).toContain('precision, recall and F1 are for each run\'s positive class: r-failed male, r-female female');
  });

  it('xp table takes run references and spec files (their latest run); default is the latest run of every spec', async () => {
    const [cnn] = await twoRuns();
    const newer = { ...cnn, id: '20250103-100000-baseline-cnn-cccc', createdAt: '2025-01-03T10:00:00.000Z' };
    openProject(root).runs.save(newer);
    writeFileSync(path.join(root, 'cnn.yaml'), 'name: baseline-cnn\n');
    const bySpec = await xp('table', 'cnn.yaml', '--format', 'csv');
    expect(bySpec.code).toBe(0);
    expect(bySpec.stdout).toContain(',xp,20250103-100000-baseline-cnn-cccc,');
    expect(bySpec.stdout).not.toContain('aaaa');
    const byRef = await xp('table', '20250101', 'logreg-baseline@latest', '--format', 'md');
    expect(byRef.stdout).toContain('| 20250101-100000-baseline-cnn-aaaa |');
    expect(byRef.stdout).toContain('| 20250102-100000-logreg-baseline-bbbb |');
    const all = (await xp('table', '--format', 'csv')).stdout.trim().split('\n').map((l) => l.split(',')[2]);
    expect(all).toEqual(['run', '', '20250103-100000-baseline-cnn-cccc', '20250102-100000-logreg-baseline-bbbb']);
    expect((await xp('table', '--format', 'html')).code).toBe(2);
    const missing = await xp('table', 'nope@latest');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no runs of spec "nope"');
  });
});
