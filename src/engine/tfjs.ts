/**
 * The TF.js engines (`wasm`, `cpu`, `tfjs-node`, `tfjs-node-gpu`): a `TrainableModel` built from the
 * layer graph (graph.ts) with TF.js ops and `tf.variableGrads` (not tf.layers: xp needs its own
 * seeded initialisers and dropout, torch's Adam and optimizer-state access, which tf.layers hides).
 *
 * Semantics follow the libtorch engine (libtorch.ts / native/torch/src/model.cc):
 * - weights are TF.js variables in Keras layout and names (conv HWIO, dense [in,out], LSTM kernel
 *   [in,4u] / recurrent [u,4u] / one bias, gates i,f,c,o, recurrent activation sigmoid), so
 *   getWeights/setWeights exchange weights with the libtorch engine unchanged;
 * - Keras initialisers: Glorot-uniform kernels, orthogonal recurrent kernel (QR with sign fix), zero
 *   biases, LSTM forget-gate bias 1; BN gamma 1, beta 0, moving mean 0, moving variance 1.
 *   Drawn from xp's own generator (xoshiro128**), seeded by `seed`: deterministic per seed, but not
 *   the same numbers as libtorch's generator;
 * - dropout: inverted (mask/keep), masks drawn from the same generator; its state is the
 *   optimizer state's `rngState` (16 bytes), so a resumed run draws the same masks;
 * - loss: binary cross-entropy on the logits (stable form), each example weighted by its class
 *   weight, mean over the batch;
 * - Adam: torch.optim.Adam's formula, as the libtorch engine, in float32, with its L2 weight decay
 *   (g += wd·p first): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps);
 * - batch norm: batch statistics in training; moving statistics updated with momentum
 *   (moving = momentum·moving + (1-momentum)·batch) using the unbiased batch variance, as torch.
 */
import type * as TF from '@tensorflow/tfjs-core';

import type { Availability, BackendProvider, ConcreteBackend, EngineModelOptions, OptimizerState, TrainableModel, TrainingBackend, WeightTensor } from './backend.ts';
import { graphInput, paramCount as graphParamCount, weightSpecs, type GraphNode, type LayerGraph, type WeightSpec } from './graph.ts';
import { activate, tfjsProbe, tfjsRuntime, type TfjsEngine, type TfjsRuntime } from './tfjsRuntime.ts';

type Tensor = TF.Tensor;

// ---------------------------------------------------------------------------------------------
// Seeded generator (xoshiro128**), state = 4 × uint32.

export class Rng {
  s = new Uint32Array(4);
  constructor(seed: number) {
    let x = (seed >>> 0) ^ 0x9e3779b9;
    let y = Math.floor(seed / 4294967296) >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x ^ Math.imul(y, 0x85ebca6b);
      y = (y + 0x632be5ab) >>> 0;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) this.s[i] = splitmix();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }
  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }
  normal(): number {
    const u1 = (this.nextU32() + 1) / 4294967297;
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  getState(): Uint8Array {
    return new Uint8Array(this.s.slice().buffer);
  }
  setState(bytes: Uint8Array): void {
    if (bytes.byteLength === 16) {
      this.s.set(new Uint32Array(bytes.slice().buffer));
    } else {
      // Another engine's generator state (e.g. libtorch's): derive a state from its bytes.
      let h = 0x811c9dc5;
      for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      this.s.set(new Rng(h).s);
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function glorotUniform(shape: number[], fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() * 2 - 1) * limit;
  return out;
}

/** Keras Orthogonal for a [u, 4u] recurrent kernel: QR of a normal [4u, u] matrix, q·sign(diag r), transposed. */
function orthogonalRecurrent(u: number, rng: Rng): Float32Array {
  const rows = 4 * u;
  const a: Float64Array[] = Array.from({ length: u }, () => new Float64Array(rows)); // columns of A [4u, u]
  for (let r = 0; r < rows; r++) for (let c = 0; c < u; c++) a[c][r] = rng.normal();
  // Modified Gram-Schmidt: q columns with positive diag(r), i.e. q·sign(diag(r)) of any QR.
  for (let c = 0; c < u; c++) {
    const v = a[c];
    for (let k = 0; k < c; k++) {
      let d = 0;
      for (let r = 0; r < rows; r++) d += a[k][r] * v[r];
      for (let r = 0; r < rows; r++) v[r] -= d * a[k][r];
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += v[r] * v[r];
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < rows; r++) v[r] /= norm;
  }
  // Keras kernel [u, 4u] = qᵀ: kernel[c][r] = q[r][c].
  const out = new Float32Array(u * rows);
  for (let c = 0; c < u; c++) out.set(Float32Array.from(a[c]), c * rows);
  return out;
}

function initialValue(graph: LayerGraph, spec: WeightSpec, rng: Rng): Float32Array {
  const [layer, kind] = spec.name.split('/');
  const node = graph.nodes.find((n) => n.name === layer);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (!node) throw new Error(`weight ${spec.name} has no layer`);
  switch (node.op) {
    case 'conv2d': {
      if (kind === 'bias') return new Float32Array(n);
      const [kh, kw, ci, co] = spec.shape;
      return glorotUniform(spec.shape, kh * kw * ci, kh * kw * co, rng);
    }
    case 'dense':
      return kind === 'bias' ? new Float32Array(n) : glorotUniform(spec.shape, spec.shape[0], spec.shape[1], rng);
    case 'lstm': {
      const u = node.units;
      if (kind === 'kernel') return glorotUniform(spec.shape, spec.shape[0], spec.shape[1], rng);
      if (kind === 'recurrent_kernel') return orthogonalRecurrent(u, rng);
      const b = new Float32Array(4 * u);
      b.fill(1, u, 2 * u);
      return b;
    }
    case 'batch_norm':
      return kind === 'gamma' || kind === 'moving_variance' ? new Float32Array(n).fill(1) : new Float32Array(n);
    default:
      throw new Error(`layer ${layer} (${node.op}) has no weights`);
  }
}

// ---------------------------------------------------------------------------------------------

let modelCounter = 0;

interface Slot {
  spec: WeightSpec;
  variable: TF.Variable;
  m?: TF.Variable;
  v?: TF.Variable;
}

export class TfjsModel implements TrainableModel {
  readonly graph: LayerGraph;
  private readonly tf: typeof TF;
  private readonly slots: Slot[];
  private readonly byName = new Map<string, Slot>();
  private readonly rng: Rng;
  private lr: number;
  private beta1: number;
  private beta2: number;
  private eps: number;
  private weightDecay: number;
  private classWeights: [number, number] | null;
  private step = 0;
  private disposed = false;
  /** ReLUs whose only consumer is a max-pool: applied after the pool (they commute; 1/pool² of the work), as the libtorch engine. */
  private readonly deferredRelu = new Set<string>();

  constructor(
    private readonly rt: TfjsRuntime,
    graph: LayerGraph,
    options: EngineModelOptions,
  ) {
    this.graph = graph;
    const tf = (this.tf = activate(rt));
    graphInput(graph);
    const out = graph.nodes.find((n) => n.name === graph.output);
    if (!out || out.op !== 'dense' || out.units !== 1 || out.activation !== 'sigmoid') throw new Error(`graph output '${graph.output}' must be a dense layer with 1 unit and sigmoid activation`);
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error('options.seed must be a non-negative safe integer');
    this.rng = new Rng(options.seed);
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    if (!(this.weightDecay >= 0 && Number.isFinite(this.weightDecay))) throw new Error('options.weightDecay must be finite and >= 0');
    this.classWeights = options.classWeights ?? null;
    for (const n of graph.nodes) {
      if (n.op !== 'relu' || n.name === graph.output) continue;
      const consumers = graph.nodes.filter((c) => c.op !== 'input' && (c.inputs as string[]).includes(n.name));
      if (consumers.length === 1 && consumers[0].op === 'max_pool2d') this.deferredRelu.add(n.name);
    }
    const id = ++modelCounter;
    this.slots = weightSpecs(graph).map((spec) => {
      const value = initialValue(graph, spec, this.rng);
      const variable = tf.variable(tf.tensor(value, spec.shape, 'float32'), spec.trainable, `xp${id}/${spec.name}`);
      const slot: Slot = { spec, variable };
      if (spec.trainable) {
        slot.m = tf.variable(tf.zeros(spec.shape), false, `xp${id}/${spec.name}/adam_m`);
        slot.v = tf.variable(tf.zeros(spec.shape), false, `xp${id}/${spec.name}/adam_v`);
      }
      this.byName.set(spec.name, slot);
      return slot;
    });
  }

  private use(): typeof TF {
    if (this.disposed) throw new Error('model was disposed');
    return activate(this.rt);
  }

  private w(name: string): TF.Variable {
    const s = this.byName.get(name);
    if (!s) throw new Error(`missing weight ${name}`);
    return s.variable;
  }

  /**
   * The logits [batch, 1]. In training mode, `masks` holds the dropout masks (by node name) and
   * batch-norm batch statistics are pushed to `bnStats` (kept tensors, caller disposes).
   */
  private forward(x: Tensor, training: boolean, masks: Map<string, Tensor>, bnStats: Array<{ node: string; mean: Tensor; variance: Tensor; count: number }>): Tensor {
    const tf = this.tf;
    const B = x.shape[0];
    const vals = new Map<string, Tensor>();
    const input = (n: GraphNode, i = 0): Tensor => {
      if (n.op === 'input') throw new Error('input has no inputs');
      const v = vals.get(n.inputs[i]);
      if (!v) throw new Error(`node ${n.name}: input ${n.inputs[i]} not computed`);
      return v;
    };
    let out: Tensor | undefined;
    for (const n of this.graph.nodes) {
      let y: Tensor;
      switch (n.op) {
        case 'input':
          y = x;
          break;
        case 'expand_channels':
          y = tf.reshape(input(n), [B, ...n.shape]);
          break;
        case 'conv2d':
          y = tf.add(tf.conv2d(input(n) as TF.Tensor4D, this.w(`${n.name}/kernel`) as TF.Tensor4D, 1, 'same'), this.w(`${n.name}/bias`));
          break;
        case 'batch_norm': {
          const h = input(n);
          const gamma = this.w(`${n.name}/gamma`);
          const beta = this.w(`${n.name}/beta`);
          let mean: Tensor;
          let variance: Tensor;
          if (training) {
            const mo = tf.moments(h, [0, 1, 2]);
            mean = mo.mean;
            variance = mo.variance;
            const count = h.size / h.shape[3]!;
            bnStats.push({ node: n.name, mean: tf.keep(tf.clone(mean)), variance: tf.keep(tf.clone(variance)), count });
          } else {
            mean = this.w(`${n.name}/moving_mean`);
            variance = this.w(`${n.name}/moving_variance`);
          }
          y = tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, n.epsilon))), gamma), beta);
          break;
        }
        case 'relu':
          y = this.deferredRelu.has(n.name) ? input(n) : tf.relu(input(n));
          break;
        case 'max_pool2d':
          y = tf.maxPool(input(n) as TF.Tensor4D, n.pool, n.pool, 'valid');
          if (this.deferredRelu.has(n.inputs[0])) y = tf.relu(y);
          break;
        case 'flatten':
          y = tf.reshape(input(n), [B, -1]);
          break;
        case 'reshape_time':
          y = tf.reshape(input(n), [B, ...n.shape]);
          break;
        case 'lstm':
          y = this.lstm(input(n), n.name, n.units, n.return_sequences);
          break;
        case 'concat':
          y = tf.concat([input(n, 0), input(n, 1)], -1);
          break;
        case 'dense': {
          y = tf.add(tf.matMul(input(n), this.w(`${n.name}/kernel`)), this.w(`${n.name}/bias`));
          if (n.name !== this.graph.output) {
            if (n.activation === 'relu') y = tf.relu(y);
            else if (n.activation === 'sigmoid') y = tf.sigmoid(y);
          }
          break;
        }
        case 'masked_time_mean':
          y = this.maskedTimeMean(input(n, 0), input(n, 1), n.time_stride);
          break;
        case 'dropout': {
          const mask = training ? masks.get(n.name) : undefined;
          y = mask ? tf.mul(input(n), mask) : input(n);
          break;
        }
      }
      vals.set(n.name, y);
      if (n.name === this.graph.output) {
        out = y;
        break;
      }
    }
    if (!out) throw new Error('graph output not reached');
    return out;
  }

  /**
   * Mean over axis 1 of h [B, T', …] of the steps that hold audio: step t' counts when any value of
   * the input frames [t'·s, t'·s+s) of `src` [B, T, F] is non-zero. No gradient flows through the mask.
   */
  private maskedTimeMean(h: Tensor, src: Tensor, stride: number): Tensor {
    const tf = this.tf;
    const [B, Tp] = h.shape as [number, number];
    const F = src.shape[2]!;
    const frames = Tp * stride === src.shape[1] ? src : tf.slice(src, [0, 0, 0], [B, Tp * stride, F]);
    const m = tf.cast(tf.any(tf.notEqual(tf.reshape(frames, [B, Tp, stride * F]), 0), 2), 'float32'); // [B, T']
    const w = tf.div(m, tf.maximum(tf.sum(m, 1, true), 1)); // [B, T']
    return tf.sum(tf.mul(h, tf.reshape(w, [B, Tp, ...h.shape.slice(2).map(() => 1)])), 1);
  }

  private lstm(x: Tensor, name: string, u: number, returnSequences: boolean): Tensor {
    const tf = this.tf;
    const [B, T, F] = x.shape as [number, number, number];
    const K = this.w(`${name}/kernel`);
    const R = this.w(`${name}/recurrent_kernel`);
    const bias = this.w(`${name}/bias`);
    // Input projection for all steps at once, then [T, B, 4u] so each step is a contiguous slice.
    const xp = tf.transpose(tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, F]), K), bias), [B, T, 4 * u]), [1, 0, 2]);
    const steps = tf.unstack(xp, 0);
    let h: Tensor | null = null;
    let c: Tensor | null = null;
    const hs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const z: Tensor = h ? tf.add(steps[t], tf.matMul(h, R)) : steps[t];
      const [zi, zf, zg, zo] = tf.split(z, 4, 1);
      const i = tf.sigmoid(zi);
      const g = tf.tanh(zg);
      const o = tf.sigmoid(zo);
      c = c ? tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(i, g)) : tf.mul(i, g);
      h = tf.mul(o, tf.tanh(c));
      if (returnSequences) hs.push(h);
    }
    if (!h) throw new Error(`lstm ${name}: no time steps`);
    return returnSequences ? tf.stack(hs, 1) : h;
  }

  private dropoutMasks(batch: number): Map<string, Tensor> {
    const tf = this.tf;
    const masks = new Map<string, Tensor>();
    for (const n of this.graph.nodes) {
      if (n.op !== 'dropout' || n.rate === 0) continue;
      const keep = 1 - n.rate;
      const size = batch * n.shape.reduce((a, b) => a * b, 1);
      const m = new Float32Array(size);
      const scale = 1 / keep;
      for (let i = 0; i < size; i++) m[i] = this.rng.uniform() < keep ? scale : 0;
      masks.set(n.name, tf.tensor(m, [batch, ...n.shape], 'float32'));
    }
    return masks;
  }

  private lossOf(logits: Tensor, y: Tensor): TF.Scalar {
    const tf = this.tf;
    const z = tf.reshape(logits, [-1]);
    // max(z,0) - z·y + log(1 + exp(-|z|))
    let l = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    if (this.classWeights) {
      const [w0, w1] = this.classWeights;
      l = tf.mul(l, tf.add(tf.mul(y, w1 - w0), w0));
    }
    return tf.mean(l) as TF.Scalar;
  }

  private inputTensor(x: Float32Array, batch: number): Tensor {
    const { frames, coeffs } = graphInput(this.graph);
    if (x.length !== batch * frames * coeffs) throw new Error(`x has ${x.length} values, expected ${batch}×${frames}×${coeffs}`);
    return this.tf.tensor(x, [batch, frames, coeffs], 'float32');
  }

  /** Loss and gradients of the trainable weights (Keras layout), without changing the weights or the generator. Eval mode unless `training`. */
  gradients(x: Float32Array, y: Float32Array, batch: number, training = false): { loss: number; gradients: WeightTensor[] } {
    const tf = this.use();
    const saved = this.rng.getState();
    const result = tf.tidy(() => {
      const X = this.inputTensor(x, batch);
      const Y = tf.tensor(y, [batch], 'float32');
      const masks = training ? this.dropoutMasks(batch) : new Map<string, Tensor>();
      const stats: Array<{ node: string; mean: Tensor; variance: Tensor; count: number }> = [];
      const trainable = this.slots.filter((s) => s.spec.trainable);
      const { value, grads } = tf.variableGrads(() => this.lossOf(this.forward(X, training, masks, stats), Y), trainable.map((s) => s.variable));
      for (const s of stats) tf.dispose([s.mean, s.variance]);
      return {
        loss: value.dataSync()[0],
        gradients: trainable.map((s) => ({ name: s.spec.name, shape: [...s.spec.shape], data: grads[s.variable.name].dataSync().slice() as Float32Array })),
      };
    });
    this.rng.setState(saved);
    return result;
  }

  trainStep(x: Float32Array, y: Float32Array, batch: number): number {
    const tf = this.use();
    return tf.tidy(() => {
      const X = this.inputTensor(x, batch);
      const Y = tf.tensor(y, [batch], 'float32');
      const masks = this.dropoutMasks(batch);
      const stats: Array<{ node: string; mean: Tensor; variance: Tensor; count: number }> = [];
      const trainable = this.slots.filter((s) => s.spec.trainable);
      const { value, grads } = tf.variableGrads(() => this.lossOf(this.forward(X, true, masks, stats), Y), trainable.map((s) => s.variable));
      const loss = value.dataSync()[0];
      this.step++;
      const bc1 = 1 - Math.pow(this.beta1, this.step);
      const bc2 = 1 - Math.pow(this.beta2, this.step);
      const stepSize = Math.fround(this.lr / bc1);
      const bc2Sqrt = Math.fround(Math.sqrt(bc2));
      for (const s of trainable) {
        let g = grads[s.variable.name];
        if (this.weightDecay !== 0) g = tf.add(g, tf.mul(s.variable, this.weightDecay)); // torch Adam weight_decay (L2)
        const m = tf.add(tf.mul(s.m!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(s.v!, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        s.m!.assign(m);
        s.v!.assign(v);
        s.variable.assign(tf.sub(s.variable, tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps)), stepSize)));
      }
      for (const st of stats) {
        const node = this.graph.nodes.find((n) => n.name === st.node);
        const momentum = node && node.op === 'batch_norm' ? node.momentum : 0.99;
        const mm = this.w(`${st.node}/moving_mean`);
        const mv = this.w(`${st.node}/moving_variance`);
        const unbiased = tf.mul(st.variance, st.count / Math.max(1, st.count - 1));
        mm.assign(tf.add(tf.mul(mm, momentum), tf.mul(st.mean, 1 - momentum)));
        mv.assign(tf.add(tf.mul(mv, momentum), tf.mul(unbiased, 1 - momentum)));
        tf.dispose([st.mean, st.variance]);
      }
      return loss;
    });
  }

  predict(x: Float32Array, batch: number): Float32Array {
    const tf = this.use();
    return tf.tidy(() => tf.sigmoid(this.forward(this.inputTensor(x, batch), false, new Map(), [])).dataSync().slice() as Float32Array);
  }

  getWeights(): WeightTensor[] {
    this.use();
    return this.slots.map((s) => ({ name: s.spec.name, shape: [...s.spec.shape], data: s.variable.dataSync().slice() as Float32Array }));
  }

  setWeights(weights: WeightTensor[]): void {
    const tf = this.use();
    const given = new Map(weights.map((w) => [w.name, w]));
    for (const s of this.slots) {
      const w = given.get(s.spec.name);
      if (!w) throw new Error(`setWeights: missing weight ${s.spec.name}`);
      const n = s.spec.shape.reduce((a, b) => a * b, 1);
      if (w.shape.length !== s.spec.shape.length || w.shape.some((d, i) => d !== s.spec.shape[i]) || w.data.length !== n) {
        throw new Error(`setWeights: ${s.spec.name} has shape [${w.shape}], expected [${s.spec.shape}]`);
      }
    }
    for (const s of this.slots) tf.tidy(() => s.variable.assign(tf.tensor(given.get(s.spec.name)!.data, s.spec.shape, 'float32')));
  }

  getOptimizerState(): OptimizerState {
    this.use();
    return {
      step: this.step,
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.eps,
      weightDecay: this.weightDecay,
      slots: this.slots
        .filter((s) => s.spec.trainable)
        .map((s) => ({ name: s.spec.name, shape: [...s.spec.shape], m: s.m!.dataSync().slice() as Float32Array, v: s.v!.dataSync().slice() as Float32Array })),
      rngState: this.rng.getState(),
    };
  }

  setOptimizerState(state: OptimizerState): void {
    const tf = this.use();
    const trainable = this.slots.filter((s) => s.spec.trainable);
    const given = new Map(state.slots.map((s) => [s.name, s]));
    for (const s of trainable) {
      const g = given.get(s.spec.name);
      const n = s.spec.shape.reduce((a, b) => a * b, 1);
      if (!g) throw new Error(`setOptimizerState: missing slot ${s.spec.name}`);
      if (g.m.length !== n || g.v.length !== n) throw new Error(`setOptimizerState: slot ${s.spec.name} has the wrong size`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error('setOptimizerState: step must be a non-negative integer');
    if (state.weightDecay !== undefined && !(state.weightDecay >= 0 && Number.isFinite(state.weightDecay))) throw new Error('setOptimizerState: weightDecay must be finite and >= 0');
    for (const s of trainable) {
      const g = given.get(s.spec.name)!;
      tf.tidy(() => {
        s.m!.assign(tf.tensor(g.m, s.spec.shape, 'float32'));
        s.v!.assign(tf.tensor(g.v, s.spec.shape, 'float32'));
      });
    }
    this.step = state.step;
    this.lr = state.lr;
    this.beta1 = state.beta1;
    this.beta2 = state.beta2;
    this.eps = state.epsilon;
    if (state.weightDecay !== undefined) this.weightDecay = state.weightDecay;
    this.rng.setState(state.rngState);
  }

  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  getLearningRate(): number {
    return this.lr;
  }

  setClassWeights(weights: [number, number] | null): void {
    if (weights && !(weights.every((w) => Number.isFinite(w) && w >= 0) && weights.length === 2)) throw new Error('class weights must be finite and >= 0');
    this.classWeights = weights;
  }

  paramCount(): number {
    return graphParamCount(this.graph).total;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots) {
      s.variable.dispose();
      s.m?.dispose();
      s.v?.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Providers.

function runtimeOrThrow(engine: TfjsEngine): TfjsRuntime {
  const rt = tfjsRuntime(engine);
  if ('error' in rt) throw new Error(`${engine} backend unavailable: ${rt.error}`);
  return rt;
}

/** Creates a TF.js model on one of the TF.js engines (loads the engine on first use). */
export function createTfjsModel(engine: TfjsEngine, graph: LayerGraph, options: EngineModelOptions): TfjsModel {
  return new TfjsModel(runtimeOrThrow(engine), graph, options);
}

function provider(engine: TfjsEngine): BackendProvider {
  return {
    name: engine as ConcreteBackend,
    probe(): Availability {
      return tfjsProbe(engine);
    },
    load(): TrainingBackend {
      return {
        name: engine as ConcreteBackend,
        describe: () => runtimeOrThrow(engine).description,
        setThreads: (n: number) => {
          // wasm and cpu run on one thread (the threaded wasm build needs workers); libtensorflow
          // reads its thread count when it loads.
          if ((engine === 'tfjs-node' || engine === 'tfjs-node-gpu') && process.env.TF_NUM_INTRAOP_THREADS === undefined) {
            process.env.TF_NUM_INTRAOP_THREADS = String(n);
          }
        },
        createModel: (graph, options) => createTfjsModel(engine, graph, options),
      };
    },
  };
}

export const wasmProvider = provider('wasm');
export const cpuProvider = provider('cpu');
export const tfjsNodeProvider = provider('tfjs-node');
export const tfjsNodeGpuProvider = provider('tfjs-node-gpu');
export const tfjsProviders: readonly BackendProvider[] = [tfjsNodeGpuProvider, tfjsNodeProvider, wasmProvider, cpuProvider];
