import os from 'node:os';
import { sha256 } from '../util/canonicalJson.ts';
import { libraryVersion } from './fingerprint.ts';
import { gitStatus, runGit } from './gitStatus.cjs';

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
 * Commit, branch and dirty state of the project, from plain `git`: one `git status` (~15 ms;
 * bin/xp.js starts it before xp loads, see gitStatus.cjs), and `git diff` when the tree is
 * dirty. Outside any repository none is spawned.
 */
export async function gitState(cwd: string): Promise<GitState> {
  const status = await gitStatus(cwd);
  if (status === null) return { commit: null, branch: null, dirty: false, diffHash: null };
  const lines = status.split('\n').filter(Boolean);
  const header = (name: string) => lines.find((line) => line.startsWith(`# branch.${name} `))?.slice(`# branch.${name} `.length).trim();
  const oid = header('oid');
  const head = header('head');
  const commit = oid && oid !== '(initial)' ? oid : null;
  // "HEAD" when detached, as `git rev-parse --abbrev-ref HEAD` says it.
  const branch = head === '(detached)' ? 'HEAD' : (head ?? null);
  const changes = lines.filter((line) => !line.startsWith('#'));
  let diffHash: string | null = null;
  if (changes.length > 0) {
    const diff = commit ? ((await runGit(cwd, ['diff', 'HEAD'])) ?? '') : '';
    // Untracked names as porcelain v1 writes them (`?? path`), so the hash is the one earlier xp versions recorded.
    const untracked = changes.filter((line) => line.startsWith('? ')).map((line) => `?${line}`).join('\n');
    diffHash = sha256(diff + untracked);
  }
  return { commit, branch, dirty: changes.length > 0, diffHash };
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
