import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { evaluate, flattenMetrics, PREDICTIONS_FILE, writePredictionsCsv, type EvalClip } from '../../src/eval/evaluate.ts';
import { mulberry32 } from '../../src/eval/rng.ts';
import type { EnvironmentFacts } from '../../src/runner/environment.ts';
import { fingerprintKey, type Fingerprint } from '../../src/runner/fingerprint.ts';
import { openProject } from '../../src/runner/project.ts';
import type { RunRecord, StageRecord } from '../../src/runner/runStore.ts';

/**
 * Run records made by hand in a temp project, as `xp run` would leave them: runs/<id>/run.json,
 * runs/<id>/fingerprints.json, and the eval stage's cache entry with predictions.csv.
 */

export const ENVIRONMENT: EnvironmentFacts = {
  node: 'v20.20.2',
  os: 'Linux 6.8.0 x64',
  cpu: 'Test CPU',
  cpus: 2,
  memoryGiB: 8,
  packages: { yaml: '2.9.1' },
};

export function baseRecord(overrides: Partial<RunRecord> & { id: string; spec: string }): RunRecord {
  return {
    specFile: `experiments/${overrides.spec}.yaml`,
    specFiles: [`experiments/${overrides.spec}.yaml`],
    overrides: [],
    status: 'done',
    pid: 1,
    host: 'test-host',
    createdAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:05:00.000Z',
    durationMs: 300_000,
    command: ['xp', 'run'],
    resolvedSpec: { name: overrides.spec, seed: 42, data: { split: { by: 'speaker' } }, eval: { positive_class: 'male', bootstrap: 1000, confidence: 0.95 } },
    stages: {},
    metrics: {},
    warnings: [],
    git: { commit: null, branch: null, dirty: false, diffHash: null },
    environment: ENVIRONMENT,
    ...overrides,
  };
}

/** Test clips: `speakers` speakers (genders alternating) × `clips` clips. */
export function testClips(speakers: number, clips: number): EvalClip[] {
  const list: EvalClip[] = [];
  for (let s = 0; s < speakers; s++) {
    for (let c = 0; c < clips; c++) list.push({ path: `common_voice_en_${s}${c}.mp3`, clientId: `client${String(s).padStart(2, '0')}`, gender: s % 2 ? 'male' : 'female' });
  }
  return list;
}

/** p_male per clip: right on a clip when `right(i)`, with some spread in confidence. */
export function outputs(clips: EvalClip[], right: (i: number) => boolean, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from(clips, (clip, i) => {
    const confidence = 0.55 + 0.44 * rng();
    return right(i) === (clip.gender === 'male') ? confidence : 1 - confidence;
  });
}

export interface PipelineRun {
  id: string;
  spec: string;
  createdAt: string;
  nMfcc: number;
  clips: EvalClip[];
  probabilities: Float32Array;
  commit?: string | null;
  dirty?: boolean;
  backend?: string;
  durations?: Partial<Record<string, number>>;
  statuses?: Partial<Record<string, StageRecord['status']>>;
}

/** A four-stage run (ingest → features → train → eval) with fingerprints and an eval artifact. */
export async function writePipelineRun(root: string, run: PipelineRun): Promise<RunRecord> {
  const { runs, cache } = openProject(root);
  const spec = {
    name: run.spec,
    seed: 42,
    data: { root: 'data/cv-mini', split: { by: 'speaker', train: 0.7, val: 0.15, test: 0.15 } },
    features: { kind: 'mfcc', n_mfcc: run.nMfcc, frames: 300 },
    model: { kind: 'cnn', dropout: 0.3 },
    train: { epochs: 30, lr: 0.001 },
    eval: { positive_class: 'male', bootstrap: 400, confidence: 0.95 },
  };
  const fingerprints: Record<string, Fingerprint> = {};
  const keys: Record<string, string> = {};
  const add = (stage: string, fp: Omit<Fingerprint, 'kind' | 'implVersion' | 'libraries'> & { libraries?: Record<string, string> }) => {
    fingerprints[stage] = { kind: stage, implVersion: 1, libraries: {}, ...fp };
    keys[stage] = fingerprintKey(fingerprints[stage]);
  };
  add('ingest', { params: { split: spec.data.split }, seed: 42, inputs: {}, files: { 'data/cv-mini/validated.tsv': 'a'.repeat(64) }, environment: {} });
  add('features', { params: spec.features, seed: null, inputs: { ingest: keys.ingest }, files: {}, libraries: { 'fft.js': '4.0.4' }, environment: {} });
  add('train', { params: { model: spec.model, train: spec.train }, seed: 42, inputs: { features: keys.features }, files: {}, environment: { backend: run.backend ?? 'libtorch' } });
  add('eval', { params: spec.eval, seed: 42, inputs: { train: keys.train }, files: {}, environment: {} });

  const report = evaluate({ clips: run.clips, probabilities: run.probabilities, positiveClass: 'male', bootstrap: 400, confidence: 0.95, seed: 42, splitBy: 'speaker' });
  if (!cache.has(keys.eval)) {
    await cache.put(keys.eval, 'eval', async (dir) => {
      writePredictionsCsv(path.join(dir, PREDICTIONS_FILE), run.clips, run.probabilities, 'male');
      return { value: report };
    });
  }
  const durations: Record<string, number | undefined> = { ingest: 1200, features: 45_000, train: 180_000, eval: 900, ...run.durations };
  const needs: Record<string, string[]> = { ingest: [], features: ['ingest'], train: ['features'], eval: ['train'] };
  const stages: Record<string, StageRecord> = Object.fromEntries(
    Object.keys(fingerprints).map((stage) => [stage, { status: run.statuses?.[stage] ?? 'done', needs: needs[stage], key: keys[stage], durationMs: durations[stage] }]),
  );
  const metrics: Record<string, number> = {
    'ingest.train_clips': 840, 'ingest.train_speakers': 140,
    'ingest.val_clips': 180, 'ingest.val_speakers': 30,
    'ingest.test_clips': run.clips.length, 'ingest.test_speakers': report.speakers,
  };
  for (const [name, value] of Object.entries(flattenMetrics(report))) metrics[`eval.${name}`] = value;
  const record = baseRecord({
    id: run.id,
    spec: run.spec,
    createdAt: run.createdAt,
    resolvedSpec: spec,
    stages,
    metrics,
    durationMs: Object.values(durations).reduce<number>((sum, ms) => sum + (ms ?? 0), 0),
    git: { commit: run.commit ?? null, branch: 'main', dirty: run.dirty ?? false, diffHash: run.dirty ? 'd'.repeat(64) : null },
  });
  runs.save(record);
  runs.saveFingerprints(run.id, fingerprints);
  return record;
}

/** A git repository in `root` with commits of fixed content and dates; returns their hashes. */
export function gitCommits(root: string, messages: string[]): string[] {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  mkdirSync(path.join(root, 'src'), { recursive: true });
  return messages.map((message, i) => {
    writeFileSync(path.join(root, 'src', 'model.txt'), `${message}\n`);
    git('add', 'src/model.txt');
    const date = `2025-01-0${i + 1}T09:00:00Z`;
    execFileSync('git', ['commit', '-q', '-m', message], { cwd: root, env: { ...env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
    return git('rev-parse', 'HEAD');
  });
}
