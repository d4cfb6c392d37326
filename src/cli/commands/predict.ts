import { readFileSync } from 'node:fs';
import path from 'node:path';

import { resolveBackend, isBackendName, type TrainingBackend } from '../../engine/backend.ts';
import { UserError } from '../../errors.ts';
import { createClipTools, extractClip } from '../../features/extractClip.ts';
import { clipParamsFor } from '../../stages/features.ts';
import { loadModel, type SavedModel } from '../../model/savedModel.ts';
import { openProject } from '../../runner/project.ts';
import type { RunRecord } from '../../runner/runStore.ts';
import type { Output } from '../output.ts';

export interface PredictResult {
  path: string;
  label?: 'male' | 'female';
  p?: number;
  error?: string;
}

/** The engine a saved model was trained with, from its `backend` description (e.g. "libtorch 1.13.0 (…)"). */
function trainedWith(description: string): string | null {
  for (const [prefix, name] of [
    ['libtorch', 'libtorch'],
    ['tfjs-wasm', 'wasm'],
    ['tfjs-cpu', 'cpu'],
    ['tfjs-node-gpu', 'tfjs-node-gpu'],
    ['tfjs-node', 'tfjs-node'],
  ] as const) {
    if (description.startsWith(prefix)) return name;
  }
  return null;
}

/** The run's own backend if it can be used here, else any available one (weights are engine-neutral). */
function pickBackend(saved: SavedModel): TrainingBackend {
  const own = trainedWith(saved.backend ?? '');
  if (own && isBackendName(own)) {
    try {
      return resolveBackend(own);
    } catch {
      /* fall through to auto */
    }
  }
  return resolveBackend('auto');
}

/**
 * The stage holding the run's model: search or train, or for a multi-seed run its replica for
 * `seed` (`train@<seed>` / `search@<seed>`), by default the first seed's.
 */
function modelStageOf(record: RunRecord, seed: number | undefined): RunRecord['stages'][string] | undefined {
  const replicas = Object.entries(record.stages).filter(([id]) => /^(search|train)@\d+$/.test(id));
  if (replicas.length === 0) {
    if (seed !== undefined) throw new UserError(`run ${record.id} is not a multi-seed run; leave out --seed`);
    return record.stages.search ?? record.stages.train;
  }
  if (seed === undefined) return replicas[0][1];
  const chosen = replicas.find(([id]) => id.endsWith(`@${seed}`));
  if (!chosen) throw new UserError(`run ${record.id} has no seed ${seed}; its seeds: ${replicas.map(([id]) => id.split('@')[1]).join(', ')}`);
  return chosen[1];
}

/**
 * `xp predict <run> file...`: the run's model (the one its eval stage evaluated) on audio files.
 * Each file is decoded in-process with the run's feature parameters and normalised with the
 * training split's statistics. Exit 2 if any file could not be read or decoded (the others are
 * still reported).
 */
export async function predictCommand(ref: string, files: string[], options: { json: boolean; seed?: number }, io: Output): Promise<number> {
  if (files.length === 0) throw new UserError('xp predict needs at least one audio file');
  const project = openProject();
  const record = project.runs.resolve(ref);
  const key = modelStageOf(record, options.seed)?.key;
  if (!key) throw new UserError(`run ${record.id} has no trained model (no train or search stage with a key)`);
  const modelDir = path.join(project.cache.entryDir(key), 'model');
  let loaded: ReturnType<typeof loadModel>;
  try {
    loaded = loadModel(modelDir);
  } catch (e) {
    throw new UserError(`run ${record.id}: cannot load its model from ${modelDir} (was the cache collected?)`, [e instanceof Error ? e.message : String(e)]);
  }
  const { model: saved, weights } = loaded;
  const params = clipParamsFor(saved.features);
  const backend = pickBackend(saved);
  const model = backend.createModel(saved.graph, { seed: 0 });
  const tools = await createClipTools();
  const results: PredictResult[] = [];
  try {
    model.setWeights(weights);
    const { mean, std, kind } = saved.normalization;
    for (const file of files) {
      try {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(readFileSync(file));
        } catch (e) {
          throw new Error(`cannot read: ${e instanceof Error ? e.message : String(e)}`);
        }
        const features = await extractClip(bytes, params, tools);
        const clip = saved.input === 'pooled' ? { data: features.pooled, frames: 1, coeffs: features.pooled.length, validFrames: 1 } : features;
        const x = clip.data;
        const coeffs = clip.coeffs;
        if (kind !== 'none') {
          for (let r = 0; r < clip.frames; r++) {
            const row = r * coeffs;
            if (r >= clip.validFrames) {
              x.fill(0, row, row + coeffs);
              continue;
            }
            for (let c = 0; c < coeffs; c++) x[row + c] = (x[row + c] - mean[c]) / std[c];
          }
        }
        const p = model.predict(x, 1)[0];
        results.push({ path: file, label: p >= 0.5 ? saved.output.positive : saved.output.negative, p });
      } catch (e) {
        results.push({ path: file, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      }
    }
  } finally {
    model.dispose();
    await tools.close();
  }
  if (options.json) {
    io.out(JSON.stringify({ run: record.id, backend: backend.name, results }, null, 2));
  } else {
    const width = Math.max(...results.map((r) => r.path.length));
    for (const r of results) {
      if (r.error === undefined) io.out(`${r.path.padEnd(width)}  ${r.label!.padEnd(6)}  p=${r.p!.toFixed(2)}`);
    }
  }
  const failed = results.filter((r) => r.error !== undefined);
  if (failed.length) {
    throw new UserError(
      failed.length === 1 ? `cannot decode ${failed[0].path}: ${failed[0].error}` : `${failed.length} files could not be decoded`,
      failed.length === 1 ? [] : failed.map((r) => `${r.path}: ${r.error}`),
    );
  }
  return 0;
}
