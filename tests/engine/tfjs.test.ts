/** The TF.js engine (src/engine/tfjs.ts) on wasm: forward vs the float64 reference, determinism, weights, resume, parity with libtorch. */
import { describe, expect, it } from 'vitest';

import { resolveBackend } from '../../src/engine/backend.ts';
import { buildGraph, paramCount, weightSpecs, type LayerGraph, type ModelSpec } from '../../src/engine/graph.ts';
import { createLibtorchModel, libtorchAvailable } from '../../src/engine/libtorch.ts';
import { createTfjsModel, type TfjsModel } from '../../src/engine/tfjs.ts';
import { disposeAfterAll, lcgUniform, modelSpec } from './harness.ts';
import { referencePredict, toWeightMap } from './reference.ts';

const KINDS: ModelSpec['kind'][] = ['cnn', 'cnn-lstm', 'lstm-cnn'];
const INPUT = { frames: 12, coeffs: 8 };
const PER = INPUT.frames * INPUT.coeffs;

const labels = (n: number) => Float32Array.from({ length: n }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);

const keep = disposeAfterAll();
const make = (graph: LayerGraph, seed: number, extra: { lr?: number; classWeights?: [number, number] } = {}): TfjsModel => keep(createTfjsModel('wasm', graph, { seed, ...extra }));

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('tfjs engine on wasm', () => {
  it('is registered: resolveBackend("wasm") creates models', () => {
    const b = resolveBackend('wasm');
    expect(b.name).toBe('wasm');
    expect(b.describe()).toMatch(/tfjs-wasm 4\.22\.0/);
  });

  for (const kind of KINDS) {
    it(`${kind}: weights follow graph.ts; forward matches the float64 reference (1e-4)`, () => {
      const graph = buildGraph(modelSpec(kind, { batch_norm: kind === 'cnn' }), INPUT);
      const m = make(graph, 3);
      const w = m.getWeights();
      expect(w.map((t) => [t.name, t.shape])).toEqual(weightSpecs(graph).map((s) => [s.name, s.shape]));
      expect(m.paramCount()).toBe(paramCount(graph).total);
      // a couple of training steps so batch-norm statistics and biases are not at their initial values
      const x = lcgUniform(6 * PER, 11);
      m.trainStep(x, labels(6), 6);
      m.trainStep(x, labels(6), 6);
      const p = m.predict(x, 6);
      const ref = referencePredict(graph, toWeightMap(m.getWeights()), x, 6);
      for (let i = 0; i < 6; i++) expect(Math.abs(p[i] - ref[i])).toBeLessThan(1e-4);
    });
  }

  it('same seed → bit-identical weights after training steps (dropout on); another seed differs', () => {
    const graph = buildGraph(modelSpec('cnn-lstm'), INPUT);
    const run = (seed: number) => {
      const m = make(graph, seed);
      const x = lcgUniform(8 * PER, 5);
      for (let i = 0; i < 3; i++) m.trainStep(x, labels(8), 8);
      return m.getWeights().flatMap((w) => bits(w.data));
    };
    const a = run(42);
    expect(run(42)).toEqual(a);
    expect(run(43)).not.toEqual(a);
  });

  it('getWeights/setWeights round-trip: a model of another seed predicts the same', () => {
    const graph = buildGraph(modelSpec('lstm-cnn'), INPUT);
    const a = make(graph, 1);
    const b = make(graph, 2);
    const x = lcgUniform(4 * PER, 9);
    expect(bits(b.predict(x, 4))).not.toEqual(bits(a.predict(x, 4)));
    b.setWeights(a.getWeights());
    expect(bits(b.predict(x, 4))).toEqual(bits(a.predict(x, 4)));
    expect(() => b.setWeights(a.getWeights().slice(1))).toThrow(/missing weight/);
  });

  it('resume from weights + optimizer state continues bit-identically (dropout masks included)', () => {
    const graph = buildGraph(modelSpec('cnn', { batch_norm: true }), INPUT);
    const x = lcgUniform(8 * PER, 21);
    const y = labels(8);
    const straight = make(graph, 7, { classWeights: [1, 2] });
    for (let i = 0; i < 4; i++) straight.trainStep(x, y, 8);
    const first = make(graph, 7, { classWeights: [1, 2] });
    for (let i = 0; i < 2; i++) first.trainStep(x, y, 8);
    const resumed = make(graph, 99, { classWeights: [1, 2] });
    resumed.setWeights(first.getWeights());
    resumed.setOptimizerState(first.getOptimizerState());
    expect(resumed.getOptimizerState().step).toBe(2);
    for (let i = 0; i < 2; i++) resumed.trainStep(x, y, 8);
    expect(resumed.getWeights().flatMap((w) => bits(w.data))).toEqual(straight.getWeights().flatMap((w) => bits(w.data)));
  });

  it('learns a separable task', () => {
    const graph = buildGraph(modelSpec('cnn', { dropout: 0 }), INPUT);
    const m = make(graph, 5, { lr: 3e-3 });
    const n = 32;
    const x = lcgUniform(n * PER, 77);
    const y = new Float32Array(n);
    for (let b = 0; b < n; b++) {
      y[b] = b % 2;
      for (let t = 0; t < INPUT.frames; t++) x[b * PER + t * INPUT.coeffs + 2] += y[b] ? 1 : -1;
    }
    const first = m.trainStep(x, y, n);
    let last = first;
    for (let i = 0; i < 40; i++) last = m.trainStep(x, y, n);
    expect(last).toBeLessThan(first * 0.5);
    const p = m.predict(x, n);
    expect(p.filter((v, i) => (v > 0.5 ? 1 : 0) === y[i]).length).toBeGreaterThanOrEqual(30);
  });
});

const torch = libtorchAvailable();
describe.skipIf(!torch.ok)('tfjs (wasm) vs libtorch: same weights, same predictions and gradients', () => {
  for (const kind of KINDS) {
    it(kind, () => {
      const graph = buildGraph(modelSpec(kind, { batch_norm: kind !== 'lstm-cnn' }), INPUT);
      const t = createLibtorchModel(graph, { seed: 4 });
      try {
        const x = lcgUniform(5 * PER, 31);
        const y = labels(5);
        for (let i = 0; i < 2; i++) t.trainStep(x, y, 5); // non-trivial BN statistics
        const w = make(graph, 8);
        w.setWeights(t.getWeights());
        const pt = t.predict(x, 5);
        const pw = w.predict(x, 5);
        for (let i = 0; i < 5; i++) expect(Math.abs(pt[i] - pw[i])).toBeLessThan(1e-4);
        const gt = t.gradients(x, y, 5, false);
        const gw = w.gradients(x, y, 5, false);
        expect(Math.abs(gt.loss - gw.loss)).toBeLessThan(1e-5);
        gt.gradients.forEach((g, i) => {
          const o = gw.gradients[i].data;
          let num = 0;
          let den = 0;
          for (let j = 0; j < o.length; j++) {
            num = Math.max(num, Math.abs(o[j] - g.data[j]));
            den = Math.max(den, Math.abs(g.data[j]));
          }
          expect(num / (den || 1), g.name).toBeLessThan(1e-3);
        });
      } finally {
        t.dispose();
      }
    });
  }
});
