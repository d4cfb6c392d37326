/**
 * The search benches' shared set-up: a project of their own under bench/out/<name> (with the
 * embedded corpus linked in), the tuned spec loaded there, and its ingest + features stages run
 * (cached after the first time), so a bench can drive searches on the features artifact.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunEvents } from '../src/runner/events.ts';
import { openProject } from '../src/runner/project.ts';
import { runExperiment } from '../src/runner/run.ts';
import { loadSpec } from '../src/spec/load.ts';
import { featuresStage } from '../src/stages/features.ts';
import { ingestStage } from '../src/stages/ingest.ts';
import type { SearchSpec } from '../src/spec/types.ts';
import type { Stage } from '../src/stages/stage.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** bench/search-efficiency.ts's 36-point grid (tests/search/tpe.test.ts uses it too). */
export const SEARCH_EFFICIENCY_GRID: SearchSpec['space'] = {
  'model.conv.filters': [
    [16, 32],
    [32, 64],
  ],
  'model.lstm.units': [32, 64],
  'train.lr': [0.0003, 0.001, 0.003],
  'train.batch_size': [16, 32, 64],
};

export async function prepareSearchProject(name: string, command: string) {
  const root = path.join(repoRoot, 'bench', 'out', name);
  mkdirSync(root, { recursive: true });
  if (!existsSync(path.join(root, 'data'))) symlinkSync(path.join(repoRoot, 'data'), path.join(root, 'data'));
  const loaded = loadSpec(path.join(repoRoot, 'experiments', 'cnn-lstm-tuned.yaml'), { cwd: root, env: {} });
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  const project = openProject(root);
  const prep = await runExperiment({
    project,
    loaded: loaded.value,
    stages: [ingestStage as Stage, featuresStage as Stage],
    events: new RunEvents(),
    signal: new AbortController().signal,
    command: [command],
  });
  const featuresKey = prep.outcomes.get('features')?.artifact?.key;
  if (!featuresKey) throw new Error(`features failed: ${JSON.stringify(prep.record.stages.features)}`);
  return { root, project, loaded: loaded.value, featuresKey };
}
