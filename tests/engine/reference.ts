/**
 * An independent, slow, float64 forward pass of a layer graph in plain TypeScript, reading weights
 * in Keras layout (HWIO conv kernels, [in,out] dense, LSTM kernel [in,4u] / recurrent [u,4u] /
 * one bias, gates i,f,c,o). Eval mode: dropout is the identity, batch norm uses moving statistics.
 * `masked_time_mean` is computed literally from its definition in graph.ts (loop over the steps).
 * Used by the tests to check the addon's layout conventions and gradients (finite differences).
 */
import type { GraphNode, LayerGraph } from '../../src/engine/graph.ts';

export type Weights = Map<string, Float64Array>;

interface Value {
  shape: number[];
  data: Float64Array;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function conv2dSame(x: Value, k: Float64Array, b: Float64Array, kernel: number, filters: number): Value {
  const [H, W, C] = x.shape;
  const lo = Math.floor((kernel - 1) / 2);
  const out = new Float64Array(H * W * filters);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let o = 0; o < filters; o++) {
        let s = b[o];
        for (let i = 0; i < kernel; i++) {
          const hh = h + i - lo;
          if (hh < 0 || hh >= H) continue;
          for (let j = 0; j < kernel; j++) {
            const ww = w + j - lo;
            if (ww < 0 || ww >= W) continue;
            for (let c = 0; c < C; c++) s += x.data[(hh * W + ww) * C + c] * k[((i * kernel + j) * C + c) * filters + o];
          }
        }
        out[(h * W + w) * filters + o] = s;
      }
  return { shape: [H, W, filters], data: out };
}

function maxPool(x: Value, p: number): Value {
  const [H, W, C] = x.shape;
  const oh = Math.floor(H / p);
  const ow = Math.floor(W / p);
  const out = new Float64Array(oh * ow * C);
  for (let h = 0; h < oh; h++)
    for (let w = 0; w < ow; w++)
      for (let c = 0; c < C; c++) {
        let m = -Infinity;
        for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) m = Math.max(m, x.data[((h * p + i) * W + (w * p + j)) * C + c]);
        out[(h * ow + w) * C + c] = m;
      }
  return { shape: [oh, ow, C], data: out };
}

function lstm(x: Value, K: Float64Array, R: Float64Array, bias: Float64Array, u: number, returnSequences: boolean): Value {
  const [T, F] = x.shape;
  let h = new Float64Array(u);
  let c = new Float64Array(u);
  const seq = new Float64Array(T * u);
  for (let t = 0; t < T; t++) {
    const z = Float64Array.from(bias);
    for (let f = 0; f < F; f++) {
      const xv = x.data[t * F + f];
      for (let g = 0; g < 4 * u; g++) z[g] += xv * K[f * 4 * u + g];
    }
    for (let k = 0; k < u; k++) for (let g = 0; g < 4 * u; g++) z[g] += h[k] * R[k * 4 * u + g];
    const nh = new Float64Array(u);
    const nc = new Float64Array(u);
    for (let k = 0; k < u; k++) {
      const i = sigmoid(z[k]);
      const fg = sigmoid(z[u + k]);
      const g = Math.tanh(z[2 * u + k]);
      const o = sigmoid(z[3 * u + k]);
      nc[k] = fg * c[k] + i * g;
      nh[k] = o * Math.tanh(nc[k]);
    }
    h = nh;
    c = nc;
    seq.set(h, t * u);
  }
  return returnSequences ? { shape: [T, u], data: seq } : { shape: [u], data: h };
}

function w(weights: Weights, name: string): Float64Array {
  const v = weights.get(name);
  if (!v) throw new Error(`reference: missing weight ${name}`);
  return v;
}

function applyNode(node: GraphNode, ins: Value[], weights: Weights): Value {
  const x = ins[0];
  const n = node.name;
  switch (node.op) {
    case 'input':
      throw new Error('input handled by caller');
    case 'expand_channels':
      return { shape: [...x.shape, 1], data: x.data };
    case 'conv2d':
      return conv2dSame(x, w(weights, `${n}/kernel`), w(weights, `${n}/bias`), node.kernel, node.filters);
    case 'batch_norm': {
      const C = x.shape[2];
      const [g, b, m, v] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((s) => w(weights, `${n}/${s}`));
      const out = new Float64Array(x.data.length);
      for (let i = 0; i < out.length; i++) {
        const c = i % C;
        out[i] = ((x.data[i] - m[c]) / Math.sqrt(v[c] + node.epsilon)) * g[c] + b[c];
      }
      return { shape: x.shape, data: out };
    }
    case 'relu':
      return { shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
    case 'max_pool2d':
      return maxPool(x, node.pool);
    case 'flatten':
      return { shape: [x.data.length], data: x.data };
    case 'reshape_time':
      return { shape: [x.shape[0], x.shape[1] * x.shape[2]], data: x.data };
    case 'lstm':
      return lstm(x, w(weights, `${n}/kernel`), w(weights, `${n}/recurrent_kernel`), w(weights, `${n}/bias`), node.units, node.return_sequences);
    case 'concat': {
      const [a, b] = ins;
      const la = a.shape[a.shape.length - 1];
      const lb = b.shape[b.shape.length - 1];
      const rows = a.data.length / la;
      const out = new Float64Array(rows * (la + lb));
      for (let r = 0; r < rows; r++) {
        out.set(a.data.subarray(r * la, (r + 1) * la), r * (la + lb));
        out.set(b.data.subarray(r * lb, (r + 1) * lb), r * (la + lb) + la);
      }
      return { shape: [...a.shape.slice(0, -1), la + lb], data: out };
    }
    case 'dense': {
      const K = w(weights, `${n}/kernel`);
      const bias = w(weights, `${n}/bias`);
      const inN = x.data.length;
      const out = Float64Array.from(bias);
      for (let i = 0; i < inN; i++) for (let o = 0; o < node.units; o++) out[o] += x.data[i] * K[i * node.units + o];
      if (node.activation === 'relu') for (let o = 0; o < out.length; o++) out[o] = Math.max(0, out[o]);
      if (node.activation === 'sigmoid') for (let o = 0; o < out.length; o++) out[o] = sigmoid(out[o]);
      return { shape: [node.units], data: out };
    }
    case 'dropout':
      return x;
    case 'masked_time_mean': {
      // Step t' of h counts when any value of input frames [t'·s, t'·s+s) is non-zero.
      const [h, src] = ins;
      const Tp = h.shape[0];
      const F = src.shape[1];
      const s = node.time_stride;
      const rest = h.data.length / Tp;
      const out = new Float64Array(rest);
      let count = 0;
      for (let t = 0; t < Tp; t++) {
        let audio = false;
        for (let i = t * s * F; i < (t + 1) * s * F && !audio; i++) audio = src.data[i] !== 0;
        if (!audio) continue;
        count++;
        for (let k = 0; k < rest; k++) out[k] += h.data[t * rest + k];
      }
      for (let k = 0; k < rest; k++) out[k] /= Math.max(1, count);
      return { shape: h.shape.slice(1), data: out };
    }
  }
}

/** Probabilities for a batch x [batch, frames, coeffs]. */
export function referencePredict(graph: LayerGraph, weights: Weights, x: Float32Array | Float64Array, batch: number): Float64Array {
  const [T, F] = graph.nodes[0].shape;
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const vals = new Map<string, Value>();
    vals.set(graph.nodes[0].name, { shape: [T, F], data: Float64Array.from(x.subarray(b * T * F, (b + 1) * T * F)) });
    for (const node of graph.nodes.slice(1)) {
      if (node.op === 'input') throw new Error('second input');
      vals.set(node.name, applyNode(node, node.inputs.map((i) => vals.get(i)!), weights));
    }
    out[b] = vals.get(graph.output)!.data[0];
  }
  return out;
}

/** Mean (optionally class-weighted) binary cross-entropy. */
export function referenceLoss(graph: LayerGraph, weights: Weights, x: Float32Array, y: Float32Array, batch: number, classWeights?: [number, number]): number {
  const p = referencePredict(graph, weights, x, batch);
  let s = 0;
  for (let b = 0; b < batch; b++) {
    const cw = classWeights ? classWeights[y[b] > 0.5 ? 1 : 0] : 1;
    s += -cw * (y[b] * Math.log(p[b]) + (1 - y[b]) * Math.log(1 - p[b]));
  }
  return s / batch;
}

export function toWeightMap(ws: Array<{ name: string; data: Float32Array }>): Weights {
  return new Map(ws.map((t) => [t.name, Float64Array.from(t.data)]));
}
