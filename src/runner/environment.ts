import { createHash } from 'node:crypto';
import os from 'node:os';
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

/** Commit, branch and dirty state of the project, from plain `git` (a few ms per call). */
export async function gitState(cwd: string): Promise<GitState> {
  const none: GitState = { commit: null, branch: null, dirty: false, diffHash: null };
  const git = (...args: string[]) =>
    run('git', args, { cwd, maxBuffer: 256 * 2 ** 20 }).then(
      (r) => r.stdout,
      () => null,
    );
  const [commit, branch, status] = await Promise.all([
    git('rev-parse', '--verify', '-q', 'HEAD'),
    git('rev-parse', '--abbrev-ref', 'HEAD'),
    git('status', '--porcelain=v1', '--untracked-files=all'),
  ]);
  if (status === null) return none;
  const dirty = status.trim() !== '';
  let diffHash: string | null = null;
  if (dirty) {
    const diff = commit ? ((await git('diff', 'HEAD')) ?? '') : '';
    const untracked = status.split('\n').filter((line) => line.startsWith('??')).join('\n');
    diffHash = createHash('sha256').update(diff).update(untracked).digest('hex');
  }
  return { commit: commit?.trim() || null, branch: branch?.trim() || null, dirty, diffHash };
}

export function environmentFacts(): EnvironmentFacts {
  const packages: Record<string, string> = {};
  for (const name of RECORDED_PACKAGES) {
    const version = libraryVersion(name);
    if (version !== 'not-installed') packages[name] = version;
  }
  return {
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    packages,
  };
}
