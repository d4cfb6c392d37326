import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitState } from '../../src/runner/environment.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=xp', '-c', 'user.email=xp@example.com', ...args], { cwd, encoding: 'utf8' });
const sha256 = (...parts: string[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');

describe('gitState', () => {
  const tempDir = useTempDirs();

  it('is all null outside a repository', async () => {
    const dir = tempDir();
    expect(await gitState(dir)).toEqual({ commit: null, branch: null, dirty: false, diffHash: null });
  });

  it('reads commit, branch and dirty state the way rev-parse, status and diff report them', async () => {
    const dir = tempDir();
    git(dir, 'init', '-q', '-b', 'trunk');
    writeFileSync(path.join(dir, 'spec.yaml'), 'name: a\n');
    // Before the first commit: no commit, the branch to be, dirty with an untracked file.
    expect(await gitState(dir)).toEqual({ commit: null, branch: 'trunk', dirty: true, diffHash: sha256('', '?? spec.yaml') });

    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'first');
    const commit = git(dir, 'rev-parse', 'HEAD').trim();
    expect(await gitState(dir)).toEqual({ commit, branch: 'trunk', dirty: false, diffHash: null });

    // A tracked change and an untracked file in a subfolder: the hash covers `git diff HEAD`
    // and the untracked names as porcelain v1 lists them (what earlier records hold).
    writeFileSync(path.join(dir, 'spec.yaml'), 'name: b\n');
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'new.tsv'), 'x\n');
    const v1Untracked = git(dir, 'status', '--porcelain=v1', '--untracked-files=all').split('\n').filter((l) => l.startsWith('??')).join('\n');
    expect(v1Untracked).toBe('?? data/new.tsv');
    expect(await gitState(dir)).toEqual({ commit, branch: 'trunk', dirty: true, diffHash: sha256(git(dir, 'diff', 'HEAD'), v1Untracked) });

    // Detached: the branch is "HEAD", as `git rev-parse --abbrev-ref HEAD` says.
    git(dir, 'stash', '-q', '-u');
    git(dir, 'checkout', '-q', '--detach');
    expect(await gitState(dir)).toEqual({ commit, branch: 'HEAD', dirty: false, diffHash: null });
  });
});
