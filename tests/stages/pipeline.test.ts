import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { libtorchAvailable } from '../../src/engine/libtorch.ts';
import { openProject } from '../../src/runner/project.ts';
import { miniSpec, writeMiniCorpus } from '../fixtures/miniCorpus.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';

const tempDir = useTempDirs();
const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


function statuses(ref = 'latest') {
  const record = openProject(root).runs.resolve(ref);
  return Object.fromEntries(Object.entries(record.stages).map(([id, s]) => [id, s.status]));
}

describe('ingest and features on real Common Voice-style audio', () => {
  it('runs to the end of features, is a cache hit the second time, and re-runs only features when n_mfcc changes', async () => {
    writeMiniCorpus(root);
    const spec = path.join(root, 'feat.yaml');
    writeFileSync(spec, miniSpec('feat'));
    // Training needs a backend; this test is about the data stages, so it looks at those only.
    await xp('run', spec);
    expect(statuses()).toMatchObject({ ingest: 'done', features: 'done' });
    const record = openProject(root).runs.resolve('latest');
    expect(record.metrics['ingest.train_clips'] + record.metrics['ingest.val_clips'] + record.metrics['ingest.test_clips']).toBe(32);
    expect(record.metrics['features.skipped']).toBe(0);
    await xp('run', spec);
    expect(statuses()).toMatchObject({ ingest: 'cached', features: 'cached' });
    await xp('run', spec, '--set', 'features.n_mfcc=20');
    expect(statuses()).toMatchObject({ ingest: 'cached', features: 'done' });
    const why = await xp('why', 'latest', 'features');
    expect(why.stdout).toContain('params.features.n_mfcc: 40 → 20');
  });

  it('refuses a TSV row whose path escapes clips/: exit 2, the row named, nothing cached', async () => {
    const { root: corpus, lines } = writeMiniCorpus(root, 4);
    const evil = lines[1].split('\t');
    evil[1] = '../../etc/passwd';
    writeFileSync(path.join(corpus, 'validated.tsv'), [...lines, evil.join('\t')].join('\n') + '\n');
    const spec = path.join(root, 'evil.yaml');
    writeFileSync(spec, miniSpec('evil').replace('{ male: 16, female: 16 }', '{ male: 50, female: 50 }'));
    const { code, stderr } = await xp('run', spec);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`validated\\.tsv:${lines.length + 1}: clip path "\\.\\./\\.\\./etc/passwd" escapes clips/`));
    const cacheDir = path.join(root, '.xp', 'cache');
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
    expect(statuses()).toMatchObject({ ingest: 'failed', features: 'skipped' });
  });
});

describe.skipIf(!libtorchAvailable().ok)('the whole pipeline', () => {
  it('trains and evaluates with CIs; the same spec and seed give identical metrics in a fresh project', async () => {
    writeMiniCorpus(root);
    const spec = path.join(root, 'p.yaml');
    writeFileSync(spec, miniSpec('p'));
    expect((await xp('run', spec)).code).toBe(0);
    const a = openProject(root).runs.resolve('latest');
    expect(a.stages.eval.status).toBe('done');
    expect(a.metrics['eval.accuracy']).toBeGreaterThanOrEqual(0);
    expect(a.metrics['eval.accuracy_lo']).toBeLessThanOrEqual(a.metrics['eval.accuracy']);
    expect(a.metrics['eval.accuracy_hi']).toBeGreaterThanOrEqual(a.metrics['eval.accuracy']);
    expect(existsSync(path.join(root, 'runs', a.id, 'plots', 'roc.svg'))).toBe(true);

    const other = tempDir();
    process.env.XP_ROOT = other;
    writeMiniCorpus(other);
    writeFileSync(path.join(other, 'p.yaml'), miniSpec('p'));
    expect((await xp('run', path.join(other, 'p.yaml'))).code).toBe(0);
    const b = openProject(other).runs.resolve('latest');
    expect(b.stages.train.key).toBe(a.stages.train.key);
    expect(b.metrics).toEqual(a.metrics);
  });
});

describe.skipIf(!libtorchAvailable().ok)('baselines and seeds', () => {
  it('logreg reads the pooled statistics of the same features artifact; seeds give per-seed runs and a summary; predict uses pooled input', async () => {
    writeMiniCorpus(root);
    const cnn = path.join(root, 'cnn.yaml');
    writeFileSync(cnn, miniSpec('cnn'));
    expect((await xp('run', cnn)).code).toBe(0);
    const featuresKey = openProject(root).runs.resolve('latest').stages.features.key;

    const logreg = path.join(root, 'logreg.yaml');
    writeFileSync(logreg, miniSpec('logreg').replace('kind: cnn', 'kind: logreg').replace('epochs: 2', 'epochs: 20'));
    const run = await xp('run', logreg, '--seeds', '3');
    expect(run.code).toBe(0);
    const record = openProject(root).runs.resolve('latest');
    expect(statuses()).toEqual({
      ingest: 'cached',
      features: 'cached',
      'train@1': 'done',
      'train@2': 'done',
      'train@3': 'done',
      'eval@1': 'done',
      'eval@2': 'done',
      'eval@3': 'done',
      seeds: 'done',
    });
    expect(record.stages.features.key).toBe(featuresKey);
    // The summary is computed from the per-seed results.
    const accuracies = [1, 2, 3].map((s) => record.metrics[`eval@${s}.accuracy`]);
    const mean = accuracies.reduce((a, b) => a + b, 0) / 3;
    expect(record.metrics['seeds.seeds']).toBe(3);
    expect(record.metrics['seeds.accuracy_mean']).toBeCloseTo(mean, 12);
    expect(record.metrics['seeds.accuracy_lo']).toBeLessThanOrEqual(mean);
    // The saved model reads [1, D] pooled statistics: D = 40 MFCCs × (mean, std).
    const model = JSON.parse(readFileSync(path.join(root, '.xp', 'cache', record.stages['train@1'].key!, 'model', 'model.json'), 'utf8'));
    expect(model.input).toBe('pooled');
    expect(model.graph.nodes[0].shape).toEqual([1, 80]);
    const clip = readdirSync(path.join(root, 'corpus', 'clips'))[0];
    const predicted = await xp('predict', 'latest', path.join(root, 'corpus', 'clips', clip), '--json');
    expect(predicted.code).toBe(0);
    const p = JSON.parse(predicted.stdout).results[0].p;
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
    // --seed picks that seed's model; a seed the run does not have is bad input.
    const third = await xp('predict', 'latest', path.join(root, 'corpus', 'clips', clip), '--json', '--seed', '3');
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout).results[0].p).not.toBe(p);
    const missing = await xp('predict', 'latest', path.join(root, 'corpus', 'clips', clip), '--seed', '9');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('has no seed 9; its seeds: 1, 2, 3');

    // A fourth seed trains only that seed.
    expect((await xp('run', logreg, '--seeds', '4')).code).toBe(0);
    expect(statuses()).toMatchObject({ 'train@1': 'cached', 'train@3': 'cached', 'train@4': 'done', 'eval@4': 'done', seeds: 'done' });
    const report = await xp('report', 'latest', '--format', 'md');
    expect(report.stdout).toContain('### Across 4 seeds (mean ± sd, 95% t interval of the mean)');
    expect(report.stdout).toContain("from the first seed's predictions (eval@1)");
  });
});
