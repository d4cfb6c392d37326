/**
 * The saved model loads in TF.js: model.json's `modelTopology` (src/model/kerasTopology.ts) + weights.bin,
 * read by tfjs-layers' `loadLayersModel` through its HTTP loader (as a browser would), predict what the
 * xp engine that trained the model predicts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs-core';
import type * as TFL from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveBackend, type TrainingBackend } from '../../src/engine/backend.ts';
import { buildGraph, type GraphNode, type LayerGraph, type ModelSpec } from '../../src/engine/graph.ts';
import { libtorchAvailable } from '../../src/engine/libtorch.ts';
import { kerasTopology } from '../../src/model/kerasTopology.ts';
import { loadModel, saveModel, type SavedModel } from '../../src/model/savedModel.ts';
import { lcgUniform, modelSpec } from '../engine/harness.ts';

// The same CommonJS instances src/engine/tfjsRuntime.ts loads (one tfjs-core per process).
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core') as typeof TF;
const tfl = require('@tensorflow/tfjs-layers') as typeof TFL;
require('@tensorflow/tfjs-backend-cpu');

const INPUT = { frames: 12, coeffs: 8 };
const PER = INPUT.frames * INPUT.coeffs;
const BATCH = 5;

const labels = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));

const META: Omit<SavedModel, 'format' | 'weightsManifest' | 'modelTopology' | 'generatedBy' | 'convertedBy' | 'graph'> = {
  features: {
    kind: 'mfcc',
    sample_rate: 16000,
    n_fft: 512,
    window_ms: 25,
    hop_ms: 10,
    n_mels: 40,
    n_mfcc: INPUT.coeffs,
    fmin: 0,
    fmax: null,
    frames: INPUT.frames,
    stats: { over: 'clip', percentiles: [] },
    f0: { enabled: false, fmin: 60, fmax: 400 },
    trim_silence: { enabled: false, top_db: 40 },
    normalize: 'none',
    resample_quality: 5,
  },
  normalization: { kind: 'none', mean: new Array(INPUT.coeffs).fill(0), std: new Array(INPUT.coeffs).fill(1) },
  output: { positive: 'male', negative: 'female' },
  backend: 'test',
};

const BASE_URL = 'http://xp.test/model/';

/** tf.io.http with a fetch that serves `dir`: the loader a browser uses, minus the network. */
function httpFrom(dir: string): TF.io.IOHandler {
  const fetchFunc = (async (input: unknown) => {
    const url = String(input);
    if (!url.startsWith(BASE_URL)) return new Response(null, { status: 404 });
    return new Response(readFileSync(path.join(dir, url.slice(BASE_URL.length))));
  }) as typeof fetch;
  return tf.io.http(`${BASE_URL}model.json`, { fetchFunc });
}

// libtorch when built here; otherwise the pure-JS engine, whose TF.js backend is the one tfjs-layers runs on below.
const ENGINE = libtorchAvailable().ok ? 'libtorch' : 'cpu';

let tmp: string;
let backend: TrainingBackend;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'xp-keras-topology-test-'));
  backend = resolveBackend(ENGINE);
  await tf.setBackend('cpu');
  tf.env().set('IS_TEST', true);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES: Array<{ kind: ModelSpec['kind']; over?: Partial<ModelSpec> }> = [
  { kind: 'cnn' },
  { kind: 'cnn', over: { batch_norm: true } },
  { kind: 'cnn', over: { batch_norm: true, conv: { filters: [3], kernel: 2, pool: 3 } } }, // even kernel: TF's asymmetric 'same' padding
  { kind: 'cnn-lstm' },
  { kind: 'cnn-lstm', over: { batch_norm: true } },
  { kind: 'lstm-cnn' },
  { kind: 'lstm-cnn', over: { batch_norm: true } },
];

describe(`saved model trained on ${ENGINE} → tf.loadLayersModel`, () => {
  for (const [i, { kind, over }] of CASES.entries()) {
    it(`${kind} ${JSON.stringify(over ?? {})}: tfjs-layers predicts as the xp engine (1e-4)`, async () => {
      const graph = buildGraph(modelSpec(kind, over), INPUT);
      const m = backend.createModel(graph, { seed: 7 + i, lr: 0.01 });
      try {
        const before = m.getWeights().map((w) => Array.from(w.data));
        const xTrain = lcgUniform(8 * PER, 100 + i);
        for (let s = 0; s < 3; s++) m.trainStep(xTrain, labels(8), 8);
        // Trained: every weight tensor (kernels, biases, batch-norm statistics) moved off its initial value.
        m.getWeights().forEach((w, k) => expect(Array.from(w.data), w.name).not.toEqual(before[k]));

        const dir = path.join(tmp, `${kind}-${i}`);
        saveModel(dir, { graph, ...META }, m.getWeights());
        const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as SavedModel;
        expect(json.format).toBe('xp-model/1');
        expect(json.modelTopology).toEqual(kerasTopology(graph));
        expect(loadModel(dir).model.graph).toEqual(graph);

        const model = await tfl.loadLayersModel(httpFrom(dir));
        try {
          // tfjs names each weight as the manifest does (it matches them by name; strict loading fails on any mismatch).
          expect(model.weights.map((w) => w.originalName).sort()).toEqual(json.weightsManifest[0].weights.map((w) => w.name).sort());
          const x = lcgUniform(BATCH * PER, 200 + i);
          const out = tf.tidy(() => (model.predict(tf.tensor3d(x, [BATCH, INPUT.frames, INPUT.coeffs])) as TF.Tensor).dataSync());
          expect(out).toHaveLength(BATCH);
          const expected = m.predict(x, BATCH);
          for (let b = 0; b < BATCH; b++) expect(Math.abs(out[b] - expected[b])).toBeLessThan(1e-4);
        } finally {
          model.dispose();
        }
      } finally {
        m.dispose();
      }
    });
  }
});

describe('graphs without a Keras equivalent', () => {
  /** A cnn graph with `extra` spliced in before the final dense layer. */
  function withNode(extra: (prev: GraphNode) => Record<string, unknown>): LayerGraph {
    const graph = buildGraph(modelSpec('cnn'), INPUT);
    const nodes = [...graph.nodes];
    const last = nodes.pop()!;
    const node = extra(nodes[nodes.length - 1]) as unknown as GraphNode;
    return { ...graph, nodes: [...nodes, node, { ...last, inputs: [node.name] } as GraphNode] };
  }

  it('an op kerasTopology does not know gives null, and the saved model has no modelTopology', () => {
    const graph = withNode((prev) => ({ op: 'future_op', name: 'future_op_1', inputs: [prev.name], shape: prev.shape }));
    expect(kerasTopology(graph)).toBeNull();
    const dir = path.join(tmp, 'unknown-op');
    saveModel(dir, { graph, ...META }, []);
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(json).not.toHaveProperty('modelTopology');
    expect(json).not.toHaveProperty('generatedBy');
    expect(json.format).toBe('xp-model/1');
    expect(loadModel(dir).model.graph).toEqual(graph);
  });

  it('a known op with a field it does not know gives null', () => {
    const graph = buildGraph(modelSpec('cnn'), INPUT);
    const nodes = graph.nodes.map((n) => (n.op === 'dense' ? ({ ...n, use_bias: false } as GraphNode) : n));
    expect(kerasTopology({ ...graph, nodes })).toBeNull();
    expect(kerasTopology(graph)).not.toBeNull();
  });
});
