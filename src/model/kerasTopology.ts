/**
 * The Keras functional-model JSON (`modelTopology` of a TF.js `model.json`) of a layer graph, so a
 * saved model loads with `tf.loadLayersModel` (TF.js 4.22). Only loading in TF.js is tested; Python
 * Keras reads the same config format, but that is not checked.
 *
 * Written as tfjs-layers 4.22 writes `model.toJSON()`: class "Model", snake_case config keys,
 * `keras_version: "tfjs-layers 4.22.0"`, `backend: "tensor_flow.js"`. Layer names are the graph's
 * node names, so TF.js names the weights `<node>/<kernel|bias|gamma|…>` — the names graph.ts's
 * `weightSpecs` (and so the saved weights manifest) already use; TF.js matches weights by these
 * names, not by order (its LSTM weights are `<lstm>/kernel`, `/recurrent_kernel`, `/bias`: the cell
 * builds inside the LSTM layer's name scope).
 *
 * Only the settings that affect the forward pass are written; initialisers are left to the loader's
 * defaults (the saved weights overwrite them, and tfjs-layers skips running them when it loads weights).
 *
 * Returns `null` — never throws — for a graph with an op this mapping does not know (e.g. an op with
 * no Keras layer, such as a masked time mean), or with a known op carrying a field it does not know
 * (a new option could change what the layer computes). The saved model then has no `modelTopology`:
 * xp still loads it, TF.js cannot.
 */
import type { GraphNode, LayerGraph } from '../engine/graph.ts';

/** The tfjs-layers version xp depends on (pinned in package.json). */
export const TFJS_LAYERS_VERSION = '4.22.0';

/** An inbound tensor: [layer name, node index, tensor index, call kwargs]. */
type InboundRef = [string, number, number, Record<string, never>];

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer (here always at most one), listing its input tensors. */
  inbound_nodes: InboundRef[][];
}

export interface KerasTopology {
  class_name: 'Model';
  config: { name: string; layers: KerasLayer[]; input_layers: [string, number, number][]; output_layers: [string, number, number][] };
  keras_version: string;
  backend: 'tensor_flow.js';
}

/** The fields each op's node may have; any other field makes the graph unmappable. */
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  input: [],
  expand_channels: ['inputs'],
  conv2d: ['inputs', 'filters', 'kernel', 'padding'],
  batch_norm: ['inputs', 'epsilon', 'momentum'],
  relu: ['inputs'],
  max_pool2d: ['inputs', 'pool'],
  flatten: ['inputs'],
  reshape_time: ['inputs'],
  lstm: ['inputs', 'units', 'return_sequences'],
  concat: ['inputs'],
  dense: ['inputs', 'units', 'activation'],
  dropout: ['inputs', 'rate'],
};
const BASE_FIELDS = ['op', 'name', 'shape'];

/** Class name and config (without name/trainable) of one node's Keras layer; null when unknown. */
function layerOf(node: GraphNode): { class_name: string; config: Record<string, unknown> } | null {
  const known = KNOWN_FIELDS[node.op];
  if (!known || Object.keys(node).some((k) => !BASE_FIELDS.includes(k) && !known.includes(k))) return null;
  switch (node.op) {
    case 'input':
      return { class_name: 'InputLayer', config: { batch_input_shape: [null, ...node.shape], dtype: 'float32', sparse: false } };
    case 'expand_channels':
    case 'reshape_time':
      // Both are row-major reshapes of NHWC data: [t, f] → [t, f, 1] and [h, w, c] → [h, w·c].
      return { class_name: 'Reshape', config: { target_shape: node.shape } };
    case 'conv2d':
      if (node.padding !== 'same') return null;
      return {
        class_name: 'Conv2D',
        config: {
          filters: node.filters,
          kernel_size: [node.kernel, node.kernel],
          strides: [1, 1],
          padding: 'same',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
          activation: 'linear',
          use_bias: true,
        },
      };
    case 'batch_norm':
      return { class_name: 'BatchNormalization', config: { axis: -1, momentum: node.momentum, epsilon: node.epsilon, center: true, scale: true } };
    case 'relu':
      return { class_name: 'ReLU', config: { max_value: null } };
    case 'max_pool2d':
      return { class_name: 'MaxPooling2D', config: { pool_size: [node.pool, node.pool], strides: [node.pool, node.pool], padding: 'valid', data_format: 'channels_last' } };
    case 'flatten':
      return { class_name: 'Flatten', config: {} };
    case 'lstm':
      return {
        class_name: 'LSTM',
        config: {
          units: node.units,
          activation: 'tanh',
          // tfjs-layers defaults to hard_sigmoid (Keras 1); xp's LSTM uses sigmoid.
          recurrent_activation: 'sigmoid',
          use_bias: true,
          unit_forget_bias: true,
          dropout: 0,
          recurrent_dropout: 0,
          implementation: 2,
          return_sequences: node.return_sequences,
          return_state: false,
          go_backwards: false,
          stateful: false,
          unroll: false,
        },
      };
    case 'concat':
      return { class_name: 'Concatenate', config: { axis: -1 } };
    case 'dense':
      if (!['linear', 'relu', 'sigmoid'].includes(node.activation)) return null;
      return { class_name: 'Dense', config: { units: node.units, activation: node.activation, use_bias: true } };
    case 'dropout':
      return { class_name: 'Dropout', config: { rate: node.rate, noise_shape: null, seed: null } };
    default:
      // An op added to graph.ts after this mapping: no Keras layer known for it.
      return null;
  }
}

/** The Keras functional-model config of `graph`, or null when some node has no Keras layer (see the file comment). */
export function kerasTopology(graph: LayerGraph): KerasTopology | null {
  const layers: KerasLayer[] = [];
  for (const node of graph.nodes) {
    const layer = layerOf(node);
    if (!layer) return null;
    const inputs = node.op === 'input' ? [] : (node.inputs as string[]);
    layers.push({
      name: node.name,
      class_name: layer.class_name,
      config: { ...layer.config, name: node.name, ...(node.op === 'input' ? {} : { trainable: true }) },
      inbound_nodes: inputs.length === 0 ? [] : [inputs.map((name): InboundRef => [name, 0, 0, {}])],
    });
  }
  const inputLayers = graph.nodes.filter((n) => n.op === 'input').map((n): [string, number, number] => [n.name, 0, 0]);
  if (inputLayers.length === 0 || !graph.nodes.some((n) => n.name === graph.output)) return null;
  return {
    class_name: 'Model',
    config: { name: 'xp', layers, input_layers: inputLayers, output_layers: [[graph.output, 0, 0]] },
    keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`,
    backend: 'tensor_flow.js',
  };
}
