import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FeatureManifest } from '../dataset/featureSet.ts';
import type { LayerGraph } from '../engine/graph.ts';
import type { WeightTensor } from '../engine/backend.ts';
import type { FeaturesSpec } from '../spec/types.ts';
import { kerasTopology, TFJS_LAYERS_VERSION, type KerasTopology } from './kerasTopology.ts';

/**
 * A trained model as files: `model.json` (the layer graph, a TF.js-style weights manifest,
 * and everything needed to turn audio into the model's input — feature parameters and the
 * training split's normalisation statistics) plus `weights.bin` (float32, Keras layout, in
 * manifest order). Evaluation and `xp predict` load exactly this.
 *
 * `model.json` is also a TF.js layers model when the graph maps to Keras layers (kerasTopology.ts;
 * all of cnn, cnn-lstm and lstm-cnn do): it then has `modelTopology`, `generatedBy` and
 * `convertedBy`, and loads in TF.js 4.22 with
 *   `const model = await tf.loadLayersModel('https://…/model/model.json')`  (browser: the
 *   directory served over HTTP; weights.bin is fetched next to model.json), or in Node with
 *   tfjs-node's `tf.loadLayersModel('file:///…/model/model.json')`, or with `tf.io.http(url, { fetchFunc })`
 *   / `tf.io.fromMemory(...)` elsewhere.
 * `model.predict(x)` takes x of shape [batch, frames, coeffs] (or [batch, 1, D] pooled statistics when
 * `input` is `pooled`) — features already computed and
 * normalised as `features` / `normalization` say — and returns P(male), [batch, 1].
 * TF.js ignores `format` (xp's) and the xp fields. A graph with an op that has no Keras layer
 * gets no `modelTopology`; xp still loads it.
 */
export interface SavedModel {
  format: 'xp-model/1';
  graph: LayerGraph;
  /** Keras functional-model JSON for tf.loadLayersModel; absent when the graph has no Keras equivalent. */
  modelTopology?: KerasTopology;
  /** TF.js model.json provenance fields, written with `modelTopology`. */
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: 'float32' }[] }[];
  features: Omit<FeaturesSpec, 'workers'>;
  /**
   * What the model reads: `frames` ([frames, coeffs] per clip) or `pooled` (the clip's pooled
   * statistics as [1, D], for logreg / mlp). Absent in models saved before it existed: frames.
   */
  input?: 'frames' | 'pooled';
  normalization: FeatureManifest['normalization'];
  /** What the sigmoid output means. */
  output: { positive: 'male'; negative: 'female' };
  backend: string;
}

const WEIGHTS_FILE = 'weights.bin';

export function saveModel(dir: string, model: Omit<SavedModel, 'format' | 'weightsManifest' | 'modelTopology' | 'generatedBy' | 'convertedBy'>, weights: WeightTensor[]): void {
  mkdirSync(dir, { recursive: true });
  const topology = kerasTopology(model.graph);
  const saved: SavedModel = {
    format: 'xp-model/1',
    ...model,
    ...(topology ? { modelTopology: topology, generatedBy: `xp (TensorFlow.js tfjs-layers v${TFJS_LAYERS_VERSION} format)`, convertedBy: null } : {}),
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
