import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mulberry32 } from '../../src/data/rng.ts';
import { buildGraph, paramCount, weightSpecs, type LayerGraph, type ModelSpec } from '../../src/engine/graph.ts';
import { createLibtorchModel, getLibtorchThreads, libtorchAvailable, setLibtorchThreads, type LibtorchModel, type WeightTensor } from '../../src/engine/libtorch.ts';
import { ANCHOR_SIZES, centralDifference, disposeAfterAll, modelSpec, mulberry32Gaussian } from './harness.ts';
import { referenceLoss, referencePredict, toWeightMap } from './reference.ts';

const avail = libtorchAvailable();
if (!avail.ok) console.warn(`skipping libtorch engine tests: ${avail.reason}`);

const KINDS: ModelSpec['kind'][] = ['cnn', 'cnn-lstm', 'lstm-cnn'];

/**
 * Separable synthetic task: the label is the sign of the mean of coefficients [2, 5) over time.
 * The band gets a ±0.5 offset drawn per example first, so that the classes have a margin.
 */
function bandTask(n: number, frames: number, coeffs: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = mulberry32Gaussian(n * frames * coeffs, seed);
  const u = mulberry32(seed + 1000);
  const y = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    const offset = u() < 0.5 ? -0.5 : 0.5;
    for (let t = 0; t < frames; t++) for (let c = 2; c < 5; c++) x[(b * frames + t) * coeffs + c] += offset;
  }
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let t = 0; t < frames; t++) for (let c = 2; c < 5; c++) s += x[(b * frames + t) * coeffs + c];
    y[b] = s > 0 ? 1 : 0;
  }
  return { x, y };
}

function slice(x: Float32Array, per: number, from: number, count: number): Float32Array {
  return x.slice(from * per, (from + count) * per);
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

function weightsBitsEqual(a: WeightTensor[], b: WeightTensor[]): boolean {
  return a.length === b.length && a.every((w, i) => w.name === b[i].name && bitsEqual(w.data, b[i].data));
}

describe.skipIf(!avail.ok)('libtorch engine (native addon)', () => {
  let threadsBefore = 1;
  beforeAll(() => {
    threadsBefore = getLibtorchThreads();
    setLibtorchThreads(1);
  });
  afterAll(() => setLibtorchThreads(threadsBefore));
  // Registered after the hook above: vitest runs afterAll hooks last-first, so the models go before the threads are restored.
  const keep = disposeAfterAll();
  const make = (graph: LayerGraph, seed: number, extra: Partial<Parameters<typeof createLibtorchModel>[1]> = {}): LibtorchModel => keep(createLibtorchModel(graph, { seed, ...extra }));

  it('builds the anchor-size models with the Keras parameter counts and weight layout', () => {
    const expected: Record<string, number> = { cnn: 516_929, 'cnn-lstm': 107_585, 'lstm-cnn': 2_689_569 };
    for (const kind of KINDS) {
      const spec = modelSpec(kind, { ...ANCHOR_SIZES, conv: kind === 'lstm-cnn' ? { ...ANCHOR_SIZES.conv, filters: [16] } : ANCHOR_SIZES.conv });
      const g = buildGraph(spec, { frames: 100, coeffs: 40 });
      const m = make(g, 1);
      expect(m.paramCount()).toBe(expected[kind]);
      expect(m.paramCount()).toBe(paramCount(g).total);
      expect(m.getWeights().map((w) => ({ name: w.name, shape: w.shape }))).toEqual(weightSpecs(g).map((w) => ({ name: w.name, shape: w.shape })));
      m.dispose();
    }
  });

  it('initialises like Keras: zero biases, LSTM forget bias 1, orthogonal recurrent kernel, Glorot-bounded kernels', () => {
    const g = buildGraph(modelSpec('cnn-lstm'), { frames: 20, coeffs: 8 });
    const w = new Map(make(g, 3).getWeights().map((t) => [t.name, t]));
    const lb = w.get('lstm_1/bias')!.data;
    const u = 5;
    expect(Array.from(lb)).toEqual([...Array(u).fill(0), ...Array(u).fill(1), ...Array(2 * u).fill(0)]);
    expect(Array.from(w.get('dense_1/bias')!.data).every((v) => v === 0)).toBe(true);
    // recurrent_kernel [u, 4u]: its rows are orthonormal.
    const R = w.get('lstm_1/recurrent_kernel')!.data;
    for (let a = 0; a < u; a++)
      for (let b = 0; b < u; b++) {
        let dot = 0;
        for (let k = 0; k < 4 * u; k++) dot += R[a * 4 * u + k] * R[b * 4 * u + k];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
    const K = w.get('conv2d_2/kernel')!; // [3,3,4,6]: limit sqrt(6 / (36 + 54))
    const limit = Math.sqrt(6 / (3 * 3 * 4 + 3 * 3 * 6));
    expect(Math.max(...Array.from(K.data).map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(K.data).map(Math.abs))).toBeGreaterThan(limit * 0.8);
  });

  for (const kind of KINDS) {
    it(`trains ${kind} on a separable synthetic task (loss falls, train accuracy > 90%)`, () => {
      const frames = 16;
      const coeffs = 8;
      const n = 128;
      const B = 32;
      const { x, y } = bandTask(n, frames, coeffs, 11);
      const g = buildGraph(modelSpec(kind, { dropout: 0.1 }), { frames, coeffs });
      const m = make(g, 5, { lr: 0.01 });
      const per = frames * coeffs;
      const epochLoss: number[] = [];
      for (let epoch = 0; epoch < 15; epoch++) {
        let sum = 0;
        for (let b = 0; b < n / B; b++) sum += m.trainStep(slice(x, per, b * B, B), y.slice(b * B, (b + 1) * B), B);
        epochLoss.push(sum / (n / B));
      }
      const p = m.predict(x, n);
      let correct = 0;
      for (let i = 0; i < n; i++) correct += (p[i] > 0.5 ? 1 : 0) === y[i] ? 1 : 0;
      expect(epochLoss[epochLoss.length - 1]).toBeLessThan(epochLoss[0] * 0.6);
      expect(correct / n).toBeGreaterThan(0.9);
    });
  }

  for (const threads of [1, 2]) {
    it(`is deterministic: same seed and ${threads} thread(s) → bitwise-identical losses and weights; another seed differs`, () => {
      setLibtorchThreads(threads);
      try {
        const frames = 16;
        const coeffs = 8;
        const B = 16;
        const { x, y } = bandTask(B, frames, coeffs, 2);
        for (const kind of KINDS) {
          const g = buildGraph(modelSpec(kind, { batch_norm: true }), { frames, coeffs });
          const run = (seed: number): { losses: Float32Array; weights: WeightTensor[] } => {
            const m = make(g, seed);
            const losses = new Float32Array(6);
            for (let i = 0; i < losses.length; i++) losses[i] = m.trainStep(x, y, B);
            const weights = m.getWeights();
            m.dispose();
            return { losses, weights };
          };
          const a = run(42);
          const b = run(42);
          const c = run(43);
          expect(bitsEqual(a.losses, b.losses)).toBe(true);
          expect(weightsBitsEqual(a.weights, b.weights)).toBe(true);
          expect(bitsEqual(a.losses, c.losses)).toBe(false);
          expect(weightsBitsEqual(a.weights, c.weights)).toBe(false);
        }
      } finally {
        setLibtorchThreads(1);
      }
    });
  }

  it('round-trips weights in Keras layout: getWeights → setWeights on a fresh model gives identical predictions', () => {
    const frames = 16;
    const coeffs = 8;
    const B = 16;
    const { x, y } = bandTask(B, frames, coeffs, 3);
    for (const kind of KINDS) {
      const g = buildGraph(modelSpec(kind, { batch_norm: true }), { frames, coeffs });
      const a = make(g, 1);
      for (let i = 0; i < 3; i++) a.trainStep(x, y, B); // moves the weights and the batch-norm statistics
      const b = make(g, 2);
      expect(bitsEqual(a.predict(x, B), b.predict(x, B))).toBe(false);
      b.setWeights(a.getWeights());
      expect(bitsEqual(a.predict(x, B), b.predict(x, B))).toBe(true);
      expect(weightsBitsEqual(a.getWeights(), b.getWeights())).toBe(true);
    }
  });

  it('resumes from saved weights + optimizer state exactly as uninterrupted training (dropout included)', () => {
    const frames = 16;
    const coeffs = 8;
    const B = 16;
    const { x, y } = bandTask(4 * B, frames, coeffs, 4);
    const per = frames * coeffs;
    const batch = (i: number): [Float32Array, Float32Array] => [slice(x, per, (i % 4) * B, B), y.slice((i % 4) * B, (i % 4 + 1) * B)];
    for (const kind of KINDS) {
      const g = buildGraph(modelSpec(kind, { dropout: 0.5, batch_norm: true }), { frames, coeffs });
      const a = make(g, 9, { lr: 3e-3 });
      for (let i = 0; i < 5; i++) a.trainStep(...batch(i), B);
      const weights = a.getWeights();
      const state = a.getOptimizerState();
      expect(state.step).toBe(5);
      expect(state.slots.map((s) => s.name)).toEqual(weightSpecs(g).filter((w) => w.trainable).map((w) => w.name));
      const continued = new Float32Array(5);
      for (let i = 0; i < 5; i++) continued[i] = a.trainStep(...batch(5 + i), B);

      const b = make(g, 1234, { lr: 0.5 }); // other seed and lr: everything must come from the checkpoint
      b.setWeights(weights);
      b.setOptimizerState(state);
      expect(b.getLearningRate()).toBe(3e-3);
      const resumed = new Float32Array(5);
      for (let i = 0; i < 5; i++) resumed[i] = b.trainStep(...batch(5 + i), B);
      expect(bitsEqual(continued, resumed)).toBe(true);
      expect(weightsBitsEqual(a.getWeights(), b.getWeights())).toBe(true);

      // Without the optimizer state the continuation differs (fresh Adam moments, other dropout masks).
      const c = make(g, 1234, { lr: 3e-3 });
      c.setWeights(weights);
      const fresh = new Float32Array(5);
      for (let i = 0; i < 5; i++) fresh[i] = c.trainStep(...batch(5 + i), B);
      expect(bitsEqual(continued, fresh)).toBe(false);
    }
  });

  it('matches an independent float64 TypeScript forward pass that reads the Keras-layout weights', () => {
    const frames = 12;
    const coeffs = 6;
    const B = 6;
    const { x, y } = bandTask(B, frames, coeffs, 5);
    for (const kind of KINDS) {
      for (const kernel of [3, 2]) {
        const g = buildGraph(modelSpec(kind, { batch_norm: true, conv: { filters: [3, 4], kernel, pool: 2 } }), { frames, coeffs });
        const m = make(g, 7, { lr: 0.05 });
        for (let i = 0; i < 3; i++) m.trainStep(x, y, B); // non-trivial batch-norm statistics
        const p = m.predict(x, B);
        const ref = referencePredict(g, toWeightMap(m.getWeights()), x, B);
        for (let i = 0; i < B; i++) expect(Math.abs(p[i] - ref[i]), `${kind} k=${kernel} #${i}`).toBeLessThan(2e-6);
      }
    }
  });

  it('computes gradients that agree with finite differences of the TypeScript reference (conv, LSTM, dense)', () => {
    const frames = 8;
    const coeffs = 5;
    const B = 4;
    const { x, y } = bandTask(B, frames, coeffs, 6);
    for (const kind of KINDS) {
      const g = buildGraph(modelSpec(kind, { conv: { filters: [3], kernel: 3, pool: 2 }, lstm: { units: 3 }, dense: { units: 4 } }), { frames, coeffs });
      const m = make(g, 8);
      const { loss, gradients } = m.gradients(x, y, B);
      const weights = toWeightMap(m.getWeights());
      expect(loss).toBeCloseTo(referenceLoss(g, weights, x, y, B), 5);
      const u = mulberry32(17);
      let checked = 0;
      for (const grad of gradients) {
        const w = weights.get(grad.name)!;
        const picks = new Set<number>([0, w.length - 1]);
        while (picks.size < Math.min(6, w.length)) picks.add(Math.floor(u() * w.length));
        for (const i of picks) {
          // h small: a larger step can cross a ReLU / max-pool kink (the reference is float64)
          const fd = centralDifference(w, i, 1e-6, () => referenceLoss(g, weights, x, y, B));
          expect(Math.abs(grad.data[i] - fd), `${kind} ${grad.name}[${i}]: ${grad.data[i]} vs ${fd}`).toBeLessThan(2e-5 + 2e-3 * Math.abs(fd));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(20);
      expect(gradients.map((t) => t.name)).toEqual(weightSpecs(g).filter((w) => w.trainable).map((w) => w.name));
    }
  });

  it("gives the same predictions and gradients with the fused LSTM as with torch's at::lstm", () => {
    const frames = 12;
    const coeffs = 6;
    const B = 6;
    const { x, y } = bandTask(B, frames, coeffs, 15);
    for (const kind of ['cnn-lstm', 'lstm-cnn'] as const) {
      const g = buildGraph(modelSpec(kind), { frames, coeffs });
      const fused = make(g, 4, { lstmImpl: 'fused' });
      const aten = make(g, 4, { lstmImpl: 'aten' });
      expect(weightsBitsEqual(fused.getWeights(), aten.getWeights())).toBe(true);
      const pf = fused.predict(x, B);
      const pa = aten.predict(x, B);
      for (let i = 0; i < B; i++) expect(Math.abs(pf[i] - pa[i])).toBeLessThan(1e-6);
      const gf = fused.gradients(x, y, B).gradients;
      const ga = aten.gradients(x, y, B).gradients;
      for (let k = 0; k < gf.length; k++) {
        const scale = Math.max(1e-3, ...Array.from(ga[k].data).map(Math.abs));
        for (let i = 0; i < gf[k].data.length; i++) expect(Math.abs(gf[k].data[i] - ga[k].data[i]) / scale, `${kind} ${gf[k].name}[${i}]`).toBeLessThan(1e-5);
      }
    }
  });

  it('weights the loss by class', () => {
    const frames = 8;
    const coeffs = 5;
    const B = 8;
    const { x, y } = bandTask(B, frames, coeffs, 12);
    const g = buildGraph(modelSpec('cnn'), { frames, coeffs });
    const m = make(g, 1);
    const weights = toWeightMap(m.getWeights());
    const plain = m.gradients(x, y, B).loss;
    m.setClassWeights([0.25, 3]);
    const weighted = m.gradients(x, y, B).loss;
    expect(weighted).toBeCloseTo(referenceLoss(g, weights, x, y, B, [0.25, 3]), 5);
    expect(Math.abs(weighted - plain)).toBeGreaterThan(1e-3);
    m.setClassWeights(null);
    expect(m.gradients(x, y, B).loss).toBe(plain);
    const m2 = make(g, 1, { classWeights: [0.25, 3] });
    expect(m2.gradients(x, y, B).loss).toBe(weighted);
  });

  it('applies dropout only in training mode', () => {
    const frames = 8;
    const coeffs = 5;
    const B = 8;
    const { x, y } = bandTask(B, frames, coeffs, 13);
    const m = make(buildGraph(modelSpec('cnn-lstm', { dropout: 0.5 }), { frames, coeffs }), 1);
    expect(bitsEqual(m.predict(x, B), m.predict(x, B))).toBe(true);
    expect(m.gradients(x, y, B, false).loss).toBe(m.gradients(x, y, B, false).loss);
    expect(m.gradients(x, y, B, true).loss).not.toBe(m.gradients(x, y, B, true).loss);
  });

  it('sets the learning rate (lr 0 leaves the weights unchanged)', () => {
    const { x, y } = bandTask(8, 8, 5, 14);
    const m = make(buildGraph(modelSpec('cnn'), { frames: 8, coeffs: 5 }), 1);
    m.setLearningRate(0);
    expect(m.getLearningRate()).toBe(0);
    const before = m.getWeights();
    m.trainStep(x, y, 8);
    expect(weightsBitsEqual(before, m.getWeights())).toBe(true);
    m.setLearningRate(0.01);
    m.trainStep(x, y, 8);
    expect(weightsBitsEqual(before, m.getWeights())).toBe(false);
  });

  it('rejects bad input with clear errors', () => {
    const g = buildGraph(modelSpec('cnn'), { frames: 8, coeffs: 5 });
    const m = make(g, 1);
    expect(() => m.trainStep(new Float32Array(10), new Float32Array(2), 2)).toThrow(/x has 10 elements, expected 80/);
    expect(() => m.predict(new Float32Array(40), 0)).toThrow(/batch must be a positive integer/);
    const w = m.getWeights();
    w[0] = { ...w[0], shape: [1, 2, 3] };
    expect(() => m.setWeights(w)).toThrow(/conv2d_1\/kernel.*expected shape \[3,3,1,4\]/);
    expect(() => m.setWeights(m.getWeights().slice(1))).toThrow(/conv2d_1\/kernel' is missing/);
    const bad = { ...g, nodes: g.nodes.map((n) => (n.op === 'conv2d' ? { ...n, op: 'conv3d' } : n)) } as unknown as LayerGraph;
    expect(() => createLibtorchModel(bad, { seed: 1 })).toThrow(/unknown op 'conv3d'/);
    const wrongShape = { ...g, nodes: g.nodes.map((n) => (n.op === 'flatten' ? { ...n, shape: [7] } : n)) } as LayerGraph;
    expect(() => createLibtorchModel(wrongShape, { seed: 1 })).toThrow(/declared shape \[7\]/);
    m.dispose();
    expect(() => m.predict(new Float32Array(40), 1)).toThrow(/disposed/);
  });
});
