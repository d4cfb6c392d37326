import { createHash } from 'node:crypto';
import os from 'node:os';
import { simpleGit } from 'simple-git';
import { libraryVersion } from './fingerprint.ts';

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

export async function gitState(cwd: string): Promise<GitState> {
  try {
    const git = simpleGit({ baseDir: cwd });
    if (!(await git.checkIsRepo())) return { commit: null, branch: null, dirty: false, diffHash: null };
    const [commit, branch, status] = await Promise.all([
      git.revparse(['HEAD']).catch(() => null),
      git.revparse(['--abbrev-ref', 'HEAD']).catch(() => null),
      git.status(),
    ]);
    const dirty = !status.isClean();
    let diffHash: string | null = null;
    if (dirty) {
      const diff = commit ? await git.diff(['HEAD']) : '';
      diffHash = createHash('sha256').update(diff).update(status.not_added.join('\n')).digest('hex');
    }
    return { commit, branch, dirty, diffHash };
  } catch {
    return { commit: null, branch: null, dirty: false, diffHash: null };
  }
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
