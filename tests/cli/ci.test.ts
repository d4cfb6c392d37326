import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { libtorchAvailable } from '../../src/engine/libtorch.ts';
import { miniSpec, writeMiniCorpus } from '../fixtures/miniCorpus.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';

const currentRoot = useXpRoot();
let root: string;

const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });

beforeEach(() => {
  root = currentRoot();
  writeMiniCorpus(root, 12);
  mkdirSync(path.join(root, 'experiments'));
  writeFileSync(path.join(root, '.gitignore'), '.xp/\nruns/\ncorpus/\n');
  writeFileSync(path.join(root, 'experiments', 'mini.yaml'), miniSpec('mini').replace('{ male: 16, female: 16 }', '{ male: 12, female: 12 }'));
  writeFileSync(path.join(root, 'experiments', 'other.yaml'), 'name: other\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'base');
});

describe('xp ci', () => {
  it('reports that nothing changed when no experiment changed', async () => {
    writeFileSync(path.join(root, 'README.md'), 'docs only\n');
    git('add', '.');
    git('commit', '-qm', 'docs');
    const { code, stdout } = await xp('ci', '--base', 'HEAD~1', '--out', 'report.md');
    expect(code).toBe(0);
    expect(stdout).toContain('No experiment under `experiments/` changed.');
    expect(readFileSync(path.join(root, 'report.md'), 'utf8')).toBe(stdout.trimEnd() + '\n');
  });

  it('refuses an unknown base ref with exit 2', async () => {
    const { code, stderr } = await xp('ci', '--base', 'no-such-ref');
    expect(code).toBe(2);
    expect(stderr).toContain('git rev-parse --verify no-such-ref^{commit} failed');
  });

  it.skipIf(!libtorchAvailable().ok)('runs only the changed experiment and its base version, and writes the diff and report', async () => {
    const file = path.join(root, 'experiments', 'mini.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('frames: 100', 'frames: 100\n  n_mfcc: 20'));
    git('commit', '-qam', 'try 20 MFCCs');
    const { code, stdout } = await xp('ci', '--base', 'HEAD~1', '--out', 'report.md');
    expect(code).toBe(0);
    expect(stdout).toContain('### `experiments/mini.yaml`');
    expect(stdout).not.toContain('other.yaml');
    expect(stdout).toMatch(/features.*params\.features\.n_mfcc: 40 → 20/);
    expect(stdout).toMatch(/verdict/i);
    const runs = JSON.parse((await xp('ls', '--json')).stdout) as { spec: string }[];
    expect(runs.map((r) => r.spec)).toEqual(['mini', 'mini']);
    if (process.env.XP_SHOW_CI_REPORT) console.log(stdout);
  });
});
