import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { libraryVersion } from './fingerprint.ts';

const run = promisify(execFile);

export interface GitState {
  commit: string | null;
  branch: string | null;
  dirty: boolean;
  /** sha256 of the uncommitted diff (tracked changes + untracked file names); null when clean. */
  diffHash: string | null;
}

export interface EnvironmentFacts {
  node: string;
  os: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  packages: Record<string, string>;
}

/** Packages recorded in every run (those that shape results or the way runs are made). */
const RECORDED_PACKAGES = [
  'yaml',
  'ajv',
  'mpg123-decoder',
  '@wasm-audio-decoders/flac',
  '@echogarden/speex-resampler-wasm',
  '@echogarden/sonic-wasm',
  'fft.js',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

/**
 * Commit, branch and dirty state of the project, from plain `git`: two calls (a few ms each),
 * three when the tree is dirty. Outside any repository none is spawned.
 */
export async function gitState(cwd: string): Promise<GitState> {
  const none: GitState = { commit: null, branch: null, dirty: false, diffHash: null };
  if (!mayBeInRepository(cwd)) return none;
  const git = (...args: string[]) =>
    run('git', args, { cwd, maxBuffer: 256 * 2 ** 20 }).then(
      (r) => r.stdout,
      () => null,
    );
  // `rev-parse HEAD --abbrev-ref HEAD` prints the commit, then the branch ("HEAD" when
  // detached), and fails before the first commit, where both are null.
  const [revisions, status] = await Promise.all([
    git('rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'),
    git('status', '--porcelain=v1', '--untracked-files=all'),
  ]);
  if (status === null) return none;
  const [commit, branch] = revisions?.split('\n') ?? [];
  const dirty = status.trim() !== '';
  let diffHash: string | null = null;
  if (dirty) {
    const diff = commit ? ((await git('diff', 'HEAD')) ?? '') : '';
    const untracked = status.split('\n').filter((line) => line.startsWith('??')).join('\n');
    diffHash = createHash('sha256').update(diff).update(untracked).digest('hex');
  }
  return { commit: commit?.trim() || null, branch: branch?.trim() || null, dirty, diffHash };
}

/**
 * False only when git could not find a repository from `cwd` either: no `.git` (folder or
 * file) and no bare repository's HEAD in it or any folder above, and no GIT_DIR. Spares the
 * spawns (~15 ms each) for projects outside version control.
 */
function mayBeInRepository(cwd: string): boolean {
  if (process.env.GIT_DIR) return true;
  for (let dir = path.resolve(cwd); ; ) {
    if (existsSync(path.join(dir, '.git')) || existsSync(path.join(dir, 'HEAD'))) return true;
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

export function environmentFacts(): EnvironmentFacts {
  const packages: Record<string, string> = {};
  for (const name of RECORDED_PACKAGES) {
    const version = libraryVersion(name);
    if (version !== 'not-installed') packages[name] = version;
  }
  const cpus = os.cpus();
  return {
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    packages,
  };
}
