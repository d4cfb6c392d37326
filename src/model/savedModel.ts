import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FeatureManifest } from '../dataset/featureSet.ts';
import type { LayerGraph } from '../engine/graph.ts';
import type { WeightTensor } from '../engine/backend.ts';
import type { FeaturesSpec } from '../spec/types.ts';

/**
 * A trained model as files: `model.json` (the layer graph, a TF.js-style weights manifest,
 * and everything needed to turn audio into the model's input — feature parameters and the
 * training split's normalisation statistics) plus `weights.bin` (float32, Keras layout, in
 * manifest order). Evaluation and `xp predict` load exactly this.
 */
export interface SavedModel {
  format: 'xp-model/1';
  graph: LayerGraph;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
  features: Omit<FeaturesSpec, 'workers'>;
  normalization: FeatureManifest['normalization'];
  /** What the sigmoid output means. */
  output: { positive: 'male'; negative: 'female' };
  backend: string;
}

const WEIGHTS_FILE = 'weights.bin';

export function saveModel(dir: string, model: Omit<SavedModel, 'format' | 'weightsManifest'>, weights: WeightTensor[]): void {
  mkdirSync(dir, { recursive: true });
  const saved: SavedModel = {
    format: 'xp-model/1',
    ...model,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(saved, null, 1));
  writeFileSync(path.join(dir, WEIGHTS_FILE), Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))));
}

export function loadModel(dir: string): { model: SavedModel; weights: WeightTensor[] } {
  const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as SavedModel;
  const blob = readFileSync(path.join(dir, WEIGHTS_FILE));
  const buffer = blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength);
  let offset = 0;
  const weights = model.weightsManifest[0].weights.map((w) => {
    const length = w.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(buffer, offset, length);
    offset += length * 4;
    return { name: w.name, shape: w.shape, data };
  });
  return { model, weights };
}
