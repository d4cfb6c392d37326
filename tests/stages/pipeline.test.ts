import { existsSync, readdirSync, writeFileSync } from 'node:fs';
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
