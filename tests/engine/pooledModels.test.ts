/**
 * The pooled-statistics models (`logreg`, `mlp` on an input [1, D]) on every engine, and Adam's L2
 * weight decay (`weightDecay`, torch.optim.Adam(weight_decay=…) semantics) against a float64 hand
 * computation, its place in the optimizer state, and resume.
 */
import { describe, expect, it } from 'vitest';

import { buildGraph, weightSpecs, type ModelSpec } from '../../src/engine/graph.ts';
import type { WeightTensor } from '../../src/engine/libtorch.ts';
import { availableEngines, engineMaker, lcgGaussian, modelSpec, type Engine } from './harness.ts';
import { referencePredict, toWeightMap } from './reference.ts';

const ENGINES = availableEngines();
const make = engineMaker();

/** This file's sizes: conv [4], LSTM 4, no dropout unless a test asks (dense 8 and the rest are modelSpec's). */
const spec = (kind: ModelSpec['kind'], over: Partial<ModelSpec> = {}): ModelSpec => modelSpec(kind, { conv: { filters: [4], kernel: 3, pool: 2 }, lstm: { units: 4 }, dropout: 0, ...over });

/** Pooled statistics [n, 1, D]; the label follows feature 0 (plus noise from feature 1). */
function statsTask(n: number, D: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = lcgGaussian(n * D, seed);
  const y = new Float32Array(n);
  for (let b = 0; b < n; b++) y[b] = x[b * D] + 0.3 * x[b * D + 1] > 0 ? 1 : 0;
  return { x, y };
}

const bits = (w: WeightTensor[]) => w.flatMap((t) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)));

const D = 10;
const INPUT = { frames: 1, coeffs: D };

describe('logreg and mlp on pooled statistics [1, D]', () => {
  it('graphs: logreg is flatten → dense(1, sigmoid); mlp adds dense(relu) → dropout', () => {
    const lr = buildGraph(spec('logreg'), INPUT);
    expect(lr.nodes.map((n) => n.op)).toEqual(['input', 'flatten', 'dense']);
    expect(weightSpecs(lr).map((w) => [w.name, w.shape])).toEqual([
      ['dense_1/kernel', [D, 1]],
      ['dense_1/bias', [1]],
    ]);
    const mlp = buildGraph(spec('mlp'), INPUT);
    expect(mlp.nodes.map((n) => n.op)).toEqual(['input', 'flatten', 'dense', 'dropout', 'dense']);
  });

  for (const kind of ['logreg', 'mlp'] as const) {
    it(`${kind}: ${ENGINES.join(', ')} train the same steps from the same weights to the same losses and predictions (weight decay on)`, () => {
      const graph = buildGraph(spec(kind), INPUT);
      const { x, y } = statsTask(24, D, 7);
      const opts = { lr: 0.01, weightDecay: 1e-3 };
      const models = ENGINES.map((e, i) => make(e, graph, { seed: 1 + i, ...opts }));
      const w0 = models[0].getWeights();
      for (const m of models.slice(1)) m.setWeights(w0);
      const losses = models.map((m) => Array.from({ length: 6 }, (_, i) => m.trainStep(x.subarray((i % 3) * 8 * D, ((i % 3) + 1) * 8 * D), y.subarray((i % 3) * 8, (i % 3) * 8 + 8), 8)));
      const preds = models.map((m) => m.predict(x, 24));
      const ref = referencePredict(graph, toWeightMap(models[0].getWeights()), x, 24);
      for (let k = 0; k < models.length; k++) {
        for (let i = 0; i < 6; i++) expect(Math.abs(losses[k][i] - losses[0][i]), `${ENGINES[k]} step ${i}`).toBeLessThan(1e-5);
        for (let b = 0; b < 24; b++) {
          expect(Math.abs(preds[k][b] - preds[0][b]), `${ENGINES[k]} clip ${b}`).toBeLessThan(1e-5);
          expect(Math.abs(preds[k][b] - ref[b]), `${ENGINES[k]} vs reference, clip ${b}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  for (const engine of ENGINES) {
    it(`${engine}: mlp with dropout learns the task; predict is deterministic`, () => {
      const graph = buildGraph(spec('mlp', { dropout: 0.3 }), INPUT);
      const { x, y } = statsTask(64, D, 11);
      const m = make(engine, graph, { seed: 5, lr: 0.01, weightDecay: 1e-4 });
      const first = m.trainStep(x, y, 64);
      let last = first;
      for (let i = 0; i < 80; i++) last = m.trainStep(x, y, 64);
      expect(last).toBeLessThan(first * 0.6);
      const p = m.predict(x, 64);
      expect(bits([{ name: 'p', shape: [64], data: p }])).toEqual(bits([{ name: 'p', shape: [64], data: m.predict(x, 64) }]));
      expect(p.filter((v, i) => (v > 0.5 ? 1 : 0) === y[i]).length).toBeGreaterThanOrEqual(56);
    });
  }
});

/** Logistic regression trained by torch.optim.Adam(weight_decay) in float64, by hand. */
function handAdam(x: Float32Array, y: Float32Array, B: number, k0: number[], b0: number, steps: number, o: { lr: number; wd: number; eps: number }): number[] {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const w = [...k0, b0]; // kernel then bias
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    const g = w.map(() => 0);
    for (let b = 0; b < B; b++) {
      let z = w[D];
      for (let j = 0; j < D; j++) z += x[b * D + j] * w[j];
      const r = 1 / (1 + Math.exp(-z)) - y[b];
      for (let j = 0; j < D; j++) g[j] += (r * x[b * D + j]) / B;
      g[D] += r / B;
    }
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + o.wd * w[i]; // torch: grad = grad.add(param, alpha=weight_decay)
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] -= (o.lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps));
    }
  }
  return w;
}

describe('Adam weight decay (torch.optim.Adam weight_decay: grad += wd·w before the moments)', () => {
  const graph = buildGraph(spec('logreg'), INPUT);
  const B = 6;
  const { x, y } = statsTask(B, D, 3);
  const k0 = Array.from(lcgGaussian(D, 99), (v) => v * 0.8);
  const b0 = 0.3;
  const init: WeightTensor[] = [
    { name: 'dense_1/kernel', shape: [D, 1], data: Float32Array.from(k0) },
    { name: 'dense_1/bias', shape: [1], data: Float32Array.from([b0]) },
  ];
  const flat = (m: Engine) => m.getWeights().flatMap((t) => Array.from(t.data));

  for (const engine of ENGINES) {
    for (const eps of [1e-8, 0.1]) {
      it(`${engine}: Adam steps with weightDecay 0.2 (epsilon ${eps}) equal the float64 hand computation`, () => {
        const o = { lr: 0.05, wd: 0.2, eps };
        const m = make(engine, graph, { seed: 1, lr: o.lr, weightDecay: o.wd, epsilon: eps });
        m.setWeights(init);
        for (let s = 1; s <= 3; s++) {
          m.trainStep(x, y, B);
          const want = handAdam(x, y, B, k0, b0, s, o);
          const got = flat(m);
          for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `step ${s} weight ${i}`).toBeLessThan(2e-6);
        }
        // The test sees the decay: without it the weights would be measurably elsewhere (at step 1
        // with a tiny epsilon Adam moves each weight by ±lr whatever the decay, so look at step 3).
        const noDecay = handAdam(x, y, B, k0, b0, 3, { ...o, wd: 0 });
        const want = handAdam(x, y, B, k0, b0, 3, o);
        expect(Math.max(...want.map((w, i) => Math.abs(w - noDecay[i])))).toBeGreaterThan(1e-3);
      });
    }

    it(`${engine}: the decay applies to every trainable weight (conv, batch norm, LSTM, dense), moving statistics untouched`, () => {
      const g = buildGraph({ ...spec('cnn-lstm', { batch_norm: true, conv: { filters: [3], kernel: 3, pool: 2 } }), time_pooling: 'masked_mean' }, { frames: 8, coeffs: 4 });
      const n = 5;
      const xs = lcgGaussian(n * 8 * 4, 21);
      const ys = Float32Array.from({ length: n }, (_, i) => i % 2);
      const o = { lr: 0.01, wd: 0.5, eps: 0.1 };
      const m = make(engine, g, { seed: 4, lr: o.lr, weightDecay: o.wd, epsilon: o.eps });
      const before = new Map(m.getWeights().map((t) => [t.name, t.data]));
      const grads = m.gradients(xs, ys, n, true);
      m.trainStep(xs, ys, n);
      const after = new Map(m.getWeights().map((t) => [t.name, t.data]));
      const trainable = new Set(weightSpecs(g).filter((w) => w.trainable).map((w) => w.name));
      expect(grads.gradients.map((t) => t.name)).toEqual([...trainable]);
      for (const t of grads.gradients) {
        const w0 = before.get(t.name)!;
        const w1 = after.get(t.name)!;
        for (let i = 0; i < w0.length; i++) {
          const gi = t.data[i] + o.wd * w0[i];
          const want = w0[i] - (o.lr / (1 - 0.9)) * (((1 - 0.9) * gi) / (Math.sqrt((1 - 0.999) * gi * gi) / Math.sqrt(1 - 0.999) + o.eps));
          expect(Math.abs(w1[i] - want), `${t.name}[${i}]`).toBeLessThan(1e-6);
        }
      }
    });

    it(`${engine}: weightDecay is in the optimizer state and a resumed run continues bit-identically`, () => {
      const opts = { lr: 0.05, weightDecay: 0.2 };
      const straight = make(engine, graph, { seed: 1, ...opts });
      straight.setWeights(init);
      for (let i = 0; i < 4; i++) straight.trainStep(x, y, B);
      const first = make(engine, graph, { seed: 1, ...opts });
      first.setWeights(init);
      for (let i = 0; i < 2; i++) first.trainStep(x, y, B);
      const state = first.getOptimizerState();
      expect(state.weightDecay).toBe(0.2);
      const resumed = make(engine, graph, { seed: 2, lr: 1, weightDecay: 0 }); // everything comes from the checkpoint
      resumed.setWeights(first.getWeights());
      resumed.setOptimizerState(state);
      expect(resumed.getOptimizerState().weightDecay).toBe(0.2);
      for (let i = 0; i < 2; i++) resumed.trainStep(x, y, B);
      expect(bits(resumed.getWeights())).toEqual(bits(straight.getWeights()));

      // A state saved before weightDecay existed has none: the model keeps its own.
      const { weightDecay: _drop, ...old } = state;
      const keeps = make(engine, graph, { seed: 3, weightDecay: 0.05 });
      keeps.setOptimizerState(old);
      expect(keeps.getOptimizerState().weightDecay).toBe(0.05);
      expect(() => keeps.setOptimizerState({ ...state, weightDecay: -1 })).toThrow(/weightDecay/);
    });

    it(`${engine}: weightDecay 0 (the default) is plain Adam`, () => {
      const a = make(engine, graph, { seed: 1, lr: 0.05 });
      const b = make(engine, graph, { seed: 1, lr: 0.05, weightDecay: 0 });
      a.setWeights(init);
      b.setWeights(init);
      for (let i = 0; i < 2; i++) {
        a.trainStep(x, y, B);
        b.trainStep(x, y, B);
      }
      expect(bits(a.getWeights())).toEqual(bits(b.getWeights()));
      expect(a.getOptimizerState().weightDecay).toBe(0);
      expect(() => make(engine, graph, { seed: 1, weightDecay: -0.1 })).toThrow(/weightDecay/);
    });
  }
});
