/**
 * `time_pooling: masked_mean` (graph op `masked_time_mean`): forward and gradient parity between the
 * libtorch addon, the TF.js engine (cpu and wasm) and the float64 reference, on batches whose clips
 * have zero-padded tails of different lengths; and padding invariance (a clip padded to T or to 2T
 * gives the same output).
 */
import { describe, expect, it } from 'vitest';

import { buildGraph, weightSpecs, type InputSize, type LayerGraph, type ModelSpec } from '../../src/engine/graph.ts';
import { createLibtorchModel, libtorchAvailable } from '../../src/engine/libtorch.ts';
import { availableEngines, centralDifference, engineMaker, lcgGaussian, modelSpec, type Engine, type EngineName } from './harness.ts';
import { referenceLoss, referencePredict, toWeightMap } from './reference.ts';

const torch = libtorchAvailable();
const ENGINES = availableEngines();

const makeModel = engineMaker();
const make = (engine: EngineName, graph: LayerGraph, seed: number, lr = 1e-3): Engine => makeModel(engine, graph, { seed, lr });

/** Masked time pooling, batch norm on; conv [3, 4] and dense 6 (the other sizes are modelSpec's). */
const spec = (kind: ModelSpec['kind'], over: Partial<ModelSpec> = {}): ModelSpec =>
  modelSpec(kind, { time_pooling: 'masked_mean', conv: { filters: [3, 4], kernel: 3, pool: 2 }, dense: { units: 6 }, batch_norm: true, ...over });

/** Clips of `lengths[b]` real frames, zero-padded to `frames`; the clip content depends only on (seed, b). */
function padded(lengths: number[], input: InputSize, seed: number): Float32Array {
  const { frames, coeffs } = input;
  const x = new Float32Array(lengths.length * frames * coeffs);
  lengths.forEach((len, b) => x.set(lcgGaussian(len * coeffs, seed + 17 * b).map((v, i) => v + (i % coeffs === 2 ? (b % 2 ? 0.7 : -0.7) : 0)), b * frames * coeffs));
  return x;
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
};

// 18 frames, two pools of 2: T' = 4 steps of 4 frames; frames 16 and 17 are beyond T'·s (ignored,
// as max-pool floor drops them). Lengths: full, ending inside steps, one frame, and an empty clip.
const INPUT: InputSize = { frames: 18, coeffs: 6 };
const LENGTHS = [18, 13, 9, 0, 5, 1, 16];
const B = LENGTHS.length;
const Y = Float32Array.from(LENGTHS, (_, i) => i % 2);

describe('masked_time_mean: graph', () => {
  it('records the time stride (product of the pools) and pools to [width, channels] / [units]', () => {
    const cnn = buildGraph(spec('cnn'), INPUT);
    const mean = cnn.nodes.find((n) => n.op === 'masked_time_mean')!;
    expect(mean).toMatchObject({ inputs: ['max_pooling2d_2', 'input_1'], time_stride: 4, shape: [1, 4] });
    const lstm = buildGraph(spec('cnn-lstm'), INPUT);
    expect(lstm.nodes.find((n) => n.op === 'masked_time_mean')).toMatchObject({ inputs: ['lstm_1', 'input_1'], time_stride: 4, shape: [5] });
  });

  it.skipIf(!torch.ok)('the libtorch addon checks the op: time_stride, its second input, steps that do not fit the input', () => {
    const g = buildGraph(spec('cnn'), INPUT);
    const edit = (f: (n: Record<string, unknown>) => Record<string, unknown>) =>
      ({ ...g, nodes: g.nodes.map((n) => (n.op === 'masked_time_mean' ? f({ ...n }) : n)) }) as unknown as LayerGraph;
    expect(() => createLibtorchModel(edit((n) => ({ ...n, time_stride: 0 })), { seed: 1 })).toThrow(/time_stride must be >= 1/);
    expect(() => createLibtorchModel(edit((n) => ({ ...n, time_stride: 5 })), { seed: 1 })).toThrow(/4 time steps of 5 frames do not fit the 18 input frames/);
    expect(() => createLibtorchModel(edit((n) => ({ ...n, inputs: ['max_pooling2d_2', 'conv2d_1'] })), { seed: 1 })).toThrow(/second input must be the graph input/);
    expect(() => createLibtorchModel(edit((n) => ({ ...n, time_stride: undefined })), { seed: 1 })).toThrow(/time_stride: required number/);
  });
});

for (const kind of ['cnn-lstm', 'cnn', 'lstm-cnn'] as const) {
  describe(`masked_mean ${kind}: ${ENGINES.join(', ')} and the float64 reference agree on padded clips`, () => {
    const graph = buildGraph(spec(kind, { conv: { filters: [3, 4], kernel: 3, pool: 2 } }), INPUT);
    const x = padded(LENGTHS, INPUT, 5);
    // Shared weights: a few training steps on the base engine (non-trivial batch-norm statistics and biases).
    const base = make(ENGINES[0], graph, 3, 0.01);
    for (let i = 0; i < 3; i++) base.trainStep(x, Y, B);
    const weights = base.getWeights();
    const models = new Map<EngineName, Engine>(ENGINES.map((e) => [e, e === ENGINES[0] ? base : make(e, graph, 9)]));
    for (const m of models.values()) m.setWeights(weights);

    it('forward: every engine matches the reference', () => {
      const ref = referencePredict(graph, toWeightMap(weights), x, B);
      for (const [name, m] of models) {
        const p = m.predict(x, B);
        const tol = name === 'libtorch' ? 2e-6 : 1e-5;
        for (let b = 0; b < B; b++) expect(Math.abs(p[b] - ref[b]), `${name} clip ${b} (${LENGTHS[b]} frames)`).toBeLessThan(tol);
      }
    });

    it.skipIf(!torch.ok)('libtorch: the same with NCHW memory (channelsLast false) and with at::lstm', () => {
      const ref = referencePredict(graph, toWeightMap(weights), x, B);
      for (const opts of [{ channelsLast: false }, { lstmImpl: 'aten' as const }]) {
        const m = createLibtorchModel(graph, { seed: 1, ...opts });
        try {
          m.setWeights(weights);
          const p = m.predict(x, B);
          for (let b = 0; b < B; b++) expect(Math.abs(p[b] - ref[b]), `${JSON.stringify(opts)} clip ${b}`).toBeLessThan(2e-6);
        } finally {
          m.dispose();
        }
      }
    });

    it('gradients: every engine agrees with the base engine, and the base engine with finite differences of the reference', () => {
      const g0 = models.get(ENGINES[0])!.gradients(x, Y, B, false);
      const w = toWeightMap(weights);
      expect(g0.loss).toBeCloseTo(referenceLoss(graph, w, x, Y, B), 5);
      for (const [name, m] of models) {
        const g = m.gradients(x, Y, B, false);
        expect(Math.abs(g.loss - g0.loss), name).toBeLessThan(1e-5);
        expect(g.gradients.map((t) => t.name)).toEqual(weightSpecs(graph).filter((s) => s.trainable).map((s) => s.name));
        g.gradients.forEach((t, i) => expect(relErr(t.data, g0.gradients[i].data), `${name} ${t.name}`).toBeLessThan(1e-3));
      }
      // Finite differences without the empty clip: its pooled vector is 0, so a hidden unit's
      // pre-activation is its bias, exactly 0 for a unit that never fired (a ReLU kink).
      const keep = LENGTHS.map((len, i) => (len > 0 ? i : -1)).filter((i) => i >= 0);
      const per = INPUT.frames * INPUT.coeffs;
      const nb = keep.length;
      const xf = new Float32Array(nb * per);
      keep.forEach((b, k) => xf.set(x.subarray(b * per, (b + 1) * per), k * per));
      const yf = Float32Array.from(keep, (b) => Y[b]);
      const gf = models.get(ENGINES[0])!.gradients(xf, yf, nb, false);
      let checked = 0;
      for (const grad of gf.gradients) {
        const v = w.get(grad.name)!;
        for (const i of new Set([0, Math.floor(v.length / 2), v.length - 1])) {
          const fd = centralDifference(v, i, 1e-6, () => referenceLoss(graph, w, xf, yf, nb));
          expect(Math.abs(grad.data[i] - fd), `${grad.name}[${i}]: ${grad.data[i]} vs ${fd}`).toBeLessThan(2e-5 + 2e-3 * Math.abs(fd));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(10);
    });

    it('training mode (dropout, batch statistics) runs on every engine and changes the weights', () => {
      for (const [name, m] of models) {
        const before = m.getWeights();
        const loss = m.trainStep(x, Y, B);
        expect(Number.isFinite(loss), name).toBe(true);
        expect(m.getWeights().some((t, i) => relErr(t.data, before[i].data) > 0), name).toBe(true);
        m.setWeights(weights);
      }
    });
  });
}

describe('masked_mean: padding is excluded exactly', () => {
  // A clip padded to T and the same clip padded to 2T: the extra steps are masked out, the LSTM is
  // causal, and what the counted steps see of the padding through the conv receptive fields is the
  // same in both, so the outputs are equal. (Not for a clip that ends within a receptive field of
  // the end of the T array: there the T version's deeper convs read their own zero 'same' padding
  // where the 2T version reads activations of padding frames, e.g. relu(bias). Here the second
  // conv block reads input frames up to 4t'+6 for step t', so clips end at least 4 frames before T.)
  for (const kind of ['cnn-lstm', 'cnn'] as const) {
    it(`${kind}: a clip padded to T or to 2T gives the same probability (1e-6) on ${ENGINES.join(', ')}`, () => {
      const short: InputSize = { frames: 16, coeffs: 6 };
      const long: InputSize = { frames: 32, coeffs: 6 };
      const lengths = [11, 12, 3, 8, 1];
      const gs = buildGraph(spec(kind), short);
      const gl = buildGraph(spec(kind), long);
      const xs = padded(lengths, short, 41);
      const xl = padded(lengths, long, 41);
      const trainer = make(ENGINES[0], gs, 12, 0.01);
      for (let i = 0; i < 3; i++) trainer.trainStep(xs, Y.subarray(0, lengths.length), lengths.length);
      const weights = trainer.getWeights();
      for (const e of ENGINES) {
        const a = make(e, gs, 1);
        const b = make(e, gl, 2);
        a.setWeights(weights);
        b.setWeights(weights); // the same weight shapes: nothing after the pooling depends on T
        const pa = a.predict(xs, lengths.length);
        const pb = b.predict(xl, lengths.length);
        for (let i = 0; i < lengths.length; i++) expect(Math.abs(pa[i] - pb[i]), `${e} clip ${i}`).toBeLessThan(1e-6);
        // Gradients too: the padding steps get none.
        const ga = a.gradients(xs, Y.subarray(0, lengths.length), lengths.length);
        const gb = b.gradients(xl, Y.subarray(0, lengths.length), lengths.length);
        ga.gradients.forEach((t, i) => expect(relErr(gb.gradients[i].data, t.data), `${e} ${t.name}`).toBeLessThan(1e-4));
      }
    });
  }

  it('without masking (time_pooling none) the cnn-lstm output does depend on the padding length', () => {
    const gs = buildGraph(spec('cnn-lstm', { time_pooling: 'none' }), { frames: 16, coeffs: 6 });
    const gl = buildGraph(spec('cnn-lstm', { time_pooling: 'none' }), { frames: 32, coeffs: 6 });
    const a = make(ENGINES[0], gs, 1);
    const b = make(ENGINES[0], gl, 2);
    b.setWeights(a.getWeights());
    const pa = a.predict(padded([5], { frames: 16, coeffs: 6 }, 3), 1);
    const pb = b.predict(padded([5], { frames: 32, coeffs: 6 }, 3), 1);
    expect(Math.abs(pa[0] - pb[0])).toBeGreaterThan(1e-6);
  });

  it('an all-zero clip pools to zeros (no division by zero)', () => {
    const g = buildGraph(spec('cnn-lstm', { batch_norm: false }), INPUT);
    for (const e of ENGINES) {
      const m = make(e, g, 4);
      const p = m.predict(new Float32Array(INPUT.frames * INPUT.coeffs), 1);
      // mean = 0 → dense(relu) of the bias (0) → output sigmoid(bias 0) = 0.5
      expect(p[0], e).toBeCloseTo(0.5, 6);
    }
  });
});
