/**
 * The model **layer graph**: an engine-neutral, JSON-serialisable description of a classifier,
 * built here from the model spec. The libtorch addon (native/torch) builds and trains it; a TF.js
 * engine can build the same layers with tf.layers (names, shapes and weight layout are Keras').
 *
 * Conventions (Keras / TF.js):
 * - shapes exclude the batch; rank 2 = [time, features], rank 3 = [height, width, channels] (NHWC).
 *   The input is [frames, coeffs] (MFCC); `expand_channels` makes it [frames, coeffs, 1].
 * - `flatten` and `reshape_time` read NHWC order, so dense/LSTM kernels after them are Keras-compatible.
 * - weights are listed per layer in Keras order with Keras names and shapes (see `weightSpecs`):
 *   conv kernel HWIO [k,k,in,out] + bias; batch norm gamma, beta, moving_mean, moving_variance;
 *   LSTM kernel [in,4u], recurrent_kernel [u,4u], bias [4u] (gates i,f,c,o; recurrent activation
 *   sigmoid; one bias); dense kernel [in,out] + bias.
 * - the output is `dense` with 1 unit and sigmoid activation (probability of the positive class).
 */

import type { ModelSpec } from '../spec/types.ts';

/** The spec's `model` section: what the graph is built from. */
export type { ModelSpec };

/** Input feature matrix of one example: `frames` time steps × `coeffs` features. */
export interface InputSize {
  frames: number;
  coeffs: number;
}

export type Activation = 'linear' | 'relu' | 'sigmoid';

interface NodeBase {
  /** Unique layer name (Keras style, e.g. `conv2d_1`); weight names are `<name>/<kernel|bias|…>`. */
  name: string;
  /** Output shape without the batch axis. */
  shape: number[];
}

export type GraphNode =
  | (NodeBase & { op: 'input' })
  | (NodeBase & { op: 'expand_channels'; inputs: [string] })
  | (NodeBase & { op: 'conv2d'; inputs: [string]; filters: number; kernel: number; padding: 'same' })
  | (NodeBase & { op: 'batch_norm'; inputs: [string]; epsilon: number; momentum: number })
  | (NodeBase & { op: 'relu'; inputs: [string] })
  | (NodeBase & { op: 'max_pool2d'; inputs: [string]; pool: number })
  | (NodeBase & { op: 'flatten'; inputs: [string] })
  | (NodeBase & { op: 'reshape_time'; inputs: [string] })
  | (NodeBase & { op: 'lstm'; inputs: [string]; units: number; return_sequences: boolean })
  | (NodeBase & { op: 'concat'; inputs: [string, string] })
  | (NodeBase & { op: 'dense'; inputs: [string]; units: number; activation: Activation })
  | (NodeBase & { op: 'dropout'; inputs: [string]; rate: number })
  /**
   * Mean over the time axis (axis 0 of a rank-2 [time, features] or rank-3 [time, width, channels]
   * input) of the time steps that hold audio. Padding is found from the graph input, as Keras'
   * `Masking(mask_value=0)` does: an input frame whose features are all exactly 0 is padding (the
   * feature reader zeroes padded frames after normalisation; a real frame is never all zeros).
   * `time_stride` input frames make one step of `inputs[0]` (the product of the max-pool sizes
   * before it); a step counts when any of its frames holds audio. The second input is the graph input.
   * Padding is left out of the mean exactly, but convolutions before it still let the last real
   * steps of a clip see a little of the padding after them (as 'same' padding does at any edge).
   */
  | (NodeBase & { op: 'masked_time_mean'; inputs: [string, string]; time_stride: number });

export type GraphOp = GraphNode['op'];

export interface LayerGraph {
  format: 'xp-graph/1';
  /** Topologically ordered; the first node is the input. */
  nodes: GraphNode[];
  /** Name of the output node (dense, 1 unit, sigmoid). */
  output: string;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  trainable: boolean;
}

/** Keras BatchNormalization defaults. */
export const BATCH_NORM_DEFAULTS = { epsilon: 1e-3, momentum: 0.99 } as const;

export class GraphError extends Error {
  override name = 'GraphError';
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new GraphError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Builds graphs node by node, inferring output shapes and naming layers Keras-style. */
class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private counters = new Map<string, number>();

  private name(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}_${n}`;
  }

  private shapeOf(name: string): number[] {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new GraphError(`no node named ${name}`);
    return node.shape;
  }

  private add<T extends GraphNode>(node: T): string {
    this.nodes.push(node);
    return node.name;
  }

  input(size: InputSize): string {
    return this.add({ op: 'input', name: 'input_1', shape: [positiveInt(size.frames, 'input frames'), positiveInt(size.coeffs, 'input coeffs')] });
  }

  expandChannels(x: string): string {
    const [t, f] = this.rank(x, 2, 'expand_channels');
    return this.add({ op: 'expand_channels', name: this.name('reshape'), inputs: [x], shape: [t, f, 1] });
  }

  conv2d(x: string, filters: number, kernel: number): string {
    const [h, w] = this.rank(x, 3, 'conv2d');
    return this.add({ op: 'conv2d', name: this.name('conv2d'), inputs: [x], filters, kernel, padding: 'same', shape: [h, w, filters] });
  }

  batchNorm(x: string): string {
    return this.add({ op: 'batch_norm', name: this.name('batch_normalization'), inputs: [x], ...BATCH_NORM_DEFAULTS, shape: [...this.rank(x, 3, 'batch_norm')] });
  }

  relu(x: string): string {
    return this.add({ op: 'relu', name: this.name('re_lu'), inputs: [x], shape: [...this.shapeOf(x)] });
  }

  maxPool(x: string, pool: number): string {
    const [h, w, c] = this.rank(x, 3, 'max_pool2d');
    const oh = Math.floor(h / pool);
    const ow = Math.floor(w / pool);
    if (oh < 1 || ow < 1) throw new GraphError(`max-pool ${pool} does not fit its input [${h}, ${w}, ${c}]: too many conv blocks or too large a pool for this input size`);
    return this.add({ op: 'max_pool2d', name: this.name('max_pooling2d'), inputs: [x], pool, shape: [oh, ow, c] });
  }

  flatten(x: string): string {
    const n = this.shapeOf(x).reduce((a, b) => a * b, 1);
    return this.add({ op: 'flatten', name: this.name('flatten'), inputs: [x], shape: [n] });
  }

  reshapeTime(x: string): string {
    const [h, w, c] = this.rank(x, 3, 'reshape_time');
    return this.add({ op: 'reshape_time', name: this.name('reshape'), inputs: [x], shape: [h, w * c] });
  }

  lstm(x: string, units: number, returnSequences: boolean): string {
    const [t] = this.rank(x, 2, 'lstm');
    return this.add({ op: 'lstm', name: this.name('lstm'), inputs: [x], units, return_sequences: returnSequences, shape: returnSequences ? [t, units] : [units] });
  }

  concat(a: string, b: string): string {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    if (sa.length !== sb.length || sa.slice(0, -1).some((d, i) => d !== sb[i])) throw new GraphError(`cannot concatenate [${sa}] and [${sb}]`);
    return this.add({ op: 'concat', name: this.name('concatenate'), inputs: [a, b], shape: [...sa.slice(0, -1), sa[sa.length - 1] + sb[sb.length - 1]] });
  }

  dense(x: string, units: number, activation: Activation): string {
    this.rank(x, 1, 'dense');
    return this.add({ op: 'dense', name: this.name('dense'), inputs: [x], units, activation, shape: [units] });
  }

  maskedTimeMean(x: string, input: string, timeStride: number): string {
    const shape = this.shapeOf(x);
    if (shape.length !== 2 && shape.length !== 3) throw new GraphError(`masked_time_mean needs a rank-2 or rank-3 input, got [${shape}]`);
    return this.add({ op: 'masked_time_mean', name: this.name('masked_time_mean'), inputs: [x, input], time_stride: timeStride, shape: shape.slice(1) });
  }

  dropout(x: string, rate: number): string {
    return this.add({ op: 'dropout', name: this.name('dropout'), inputs: [x], rate, shape: [...this.shapeOf(x)] });
  }

  private rank(x: string, r: number, op: string): number[] {
    const s = this.shapeOf(x);
    if (s.length !== r) throw new GraphError(`${op} needs a rank-${r} input, got [${s}]`);
    return s;
  }
}

export const MODEL_KINDS = ['cnn', 'cnn-lstm', 'lstm-cnn', 'logreg', 'mlp'] as const;

/** Models that read per-clip pooled statistics (one vector per clip) rather than frames. */
export function readsPooledStatistics(kind: ModelSpec['kind']): boolean {
  return kind === 'logreg' || kind === 'mlp';
}

function checkSpec(spec: ModelSpec): void {
  if (!(MODEL_KINDS as readonly string[]).includes(spec.kind)) throw new GraphError(`unknown model kind ${String(spec.kind)}`);
  if (!Array.isArray(spec.conv.filters) || spec.conv.filters.length === 0) throw new GraphError('conv.filters must be a non-empty list');
  spec.conv.filters.forEach((f, i) => positiveInt(f, `conv.filters[${i}]`));
  positiveInt(spec.conv.kernel, 'conv.kernel');
  positiveInt(spec.conv.pool, 'conv.pool');
  positiveInt(spec.lstm.units, 'lstm.units');
  positiveInt(spec.dense.units, 'dense.units');
  if (typeof spec.dropout !== 'number' || !(spec.dropout >= 0 && spec.dropout < 1)) throw new GraphError(`dropout must be in [0, 1), got ${String(spec.dropout)}`);
}

/**
 * The layer graph of a model kind. Every size comes from `spec`:
 * - `cnn`: per filter count Conv2D k×k same (+BN) + ReLU + MaxPool p → Flatten → Dense+ReLU → Dropout → Dense(1, sigmoid).
 * - `cnn-lstm`: the same conv blocks → [time, freq·channels] → LSTM (last hidden state) → Dense+ReLU → Dropout → Dense(1, sigmoid).
 * - `lstm-cnn` (paper Fig. 1): LSTM (return sequences) over the input → concat [lstm, input] on features →
 *   conv blocks → Flatten → Dense+ReLU → Dropout → Dense(1, sigmoid).
 * - `logreg`: pooled statistics [1, D] → Flatten → Dense(1, sigmoid).
 * - `mlp`: pooled statistics [1, D] → Flatten → Dense+ReLU → Dropout → Dense(1, sigmoid).
 *
 * `time_pooling: masked_mean` replaces what the paper's models do with the time axis (flatten the
 * first N frames, or keep the LSTM's last state, which for a padded clip has read the padding) by a
 * mean over the time steps that hold audio, so a model sees whole clips of any length.
 */
export function buildGraph(spec: ModelSpec, input: InputSize): LayerGraph {
  checkSpec(spec);
  const g = new GraphBuilder();
  const x = g.input(input);
  const masked = spec.time_pooling === 'masked_mean';
  let timeStride = 1;
  const convBlocks = (h: string): string => {
    for (const filters of spec.conv.filters) {
      h = g.conv2d(h, filters, spec.conv.kernel);
      if (spec.batch_norm) h = g.batchNorm(h);
      h = g.relu(h);
      h = g.maxPool(h, spec.conv.pool);
      timeStride *= spec.conv.pool;
    }
    return h;
  };
  let h: string;
  switch (spec.kind) {
    case 'cnn': {
      const conv = convBlocks(g.expandChannels(x));
      h = g.flatten(masked ? g.maskedTimeMean(conv, x, timeStride) : conv);
      break;
    }
    case 'cnn-lstm': {
      const seq = g.reshapeTime(convBlocks(g.expandChannels(x)));
      h = masked ? g.maskedTimeMean(g.lstm(seq, spec.lstm.units, true), x, timeStride) : g.lstm(seq, spec.lstm.units, false);
      break;
    }
    case 'lstm-cnn': {
      const conv = convBlocks(g.expandChannels(g.concat(g.lstm(x, spec.lstm.units, true), x)));
      h = g.flatten(masked ? g.maskedTimeMean(conv, x, timeStride) : conv);
      break;
    }
    case 'logreg':
      return { format: 'xp-graph/1', nodes: g.nodes, output: g.dense(g.flatten(x), 1, 'sigmoid') };
    case 'mlp':
      h = g.flatten(x);
      break;
  }
  h = g.dense(h, spec.dense.units, 'relu');
  h = g.dropout(h, spec.dropout);
  const out = g.dense(h, 1, 'sigmoid');
  return { format: 'xp-graph/1', nodes: g.nodes, output: out };
}

function inputShapes(graph: LayerGraph, node: GraphNode): number[][] {
  if (node.op === 'input') return [];
  return node.inputs.map((name) => {
    const src = graph.nodes.find((n) => n.name === name);
    if (!src) throw new GraphError(`node ${node.name}: unknown input ${name}`);
    return src.shape;
  });
}

/** Weights in Keras order (per layer, graph order), with Keras names and shapes. */
export function weightSpecs(graph: LayerGraph): WeightSpec[] {
  const out: WeightSpec[] = [];
  for (const node of graph.nodes) {
    const ins = inputShapes(graph, node);
    const n = node.name;
    switch (node.op) {
      case 'conv2d': {
        const c = ins[0][2];
        out.push({ name: `${n}/kernel`, shape: [node.kernel, node.kernel, c, node.filters], trainable: true });
        out.push({ name: `${n}/bias`, shape: [node.filters], trainable: true });
        break;
      }
      case 'batch_norm': {
        const c = ins[0][2];
        out.push({ name: `${n}/gamma`, shape: [c], trainable: true }, { name: `${n}/beta`, shape: [c], trainable: true });
        out.push({ name: `${n}/moving_mean`, shape: [c], trainable: false }, { name: `${n}/moving_variance`, shape: [c], trainable: false });
        break;
      }
      case 'lstm': {
        const f = ins[0][ins[0].length - 1];
        const u = node.units;
        out.push({ name: `${n}/kernel`, shape: [f, 4 * u], trainable: true });
        out.push({ name: `${n}/recurrent_kernel`, shape: [u, 4 * u], trainable: true });
        out.push({ name: `${n}/bias`, shape: [4 * u], trainable: true });
        break;
      }
      case 'dense': {
        out.push({ name: `${n}/kernel`, shape: [ins[0][0], node.units], trainable: true });
        out.push({ name: `${n}/bias`, shape: [node.units], trainable: true });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** Parameter counts as Keras' `model.countParams()` (total includes batch-norm moving statistics). */
export function paramCount(graph: LayerGraph): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const w of weightSpecs(graph)) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (w.trainable) trainable += n;
  }
  return { total, trainable };
}

/** The input size a graph expects. */
export function graphInput(graph: LayerGraph): InputSize {
  const first = graph.nodes[0];
  if (!first || first.op !== 'input' || first.shape.length !== 2) throw new GraphError('the first graph node must be the input [frames, coeffs]');
  return { frames: first.shape[0], coeffs: first.shape[1] };
}
