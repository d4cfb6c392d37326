/**
 * The "libtorch" engine: the N-API addon in native/torch (built at `npm install` against the system
 * libtorch; the build fails softly). Whole training steps run in C++: forward, BCE loss, backward,
 * Adam. Weights and optimizer slots cross the boundary in Keras / TF.js layout (see graph.ts).
 *
 * Loading the addon is lazy; `libtorchAvailable()` says whether it loads and, if not, why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { EngineModelOptions } from './backend.ts';
import { graphInput, type InputSize, type LayerGraph } from './graph.ts';

/** A weight (or a gradient) in Keras layout, row-major. */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Adam state, enough to resume training exactly: step count, hyper-parameters, the first/second
 * moment of every trainable weight (Keras layout, weight order) and the dropout generator state.
 */
export interface OptimizerState {
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /**
   * Adam's L2 weight decay (torch.optim.Adam `weight_decay`). Optional: states saved before it
   * existed have none, and restoring such a state keeps the model's own weight decay.
   */
  weightDecay?: number;
  slots: Array<{ name: string; shape: number[]; m: Float32Array; v: Float32Array }>;
  /** State of the model's own random generator (dropout masks); opaque bytes. */
  rngState: Uint8Array;
}

/** The engine-neutral options (backend.ts), plus two libtorch-only knobs. */
export interface LibtorchModelOptions extends EngineModelOptions {
  /** Use channels_last (NHWC) memory for conv activations and kernels (default true: faster). */
  channelsLast?: boolean;
  /** LSTM implementation: 'fused' (default; one custom autograd op) or 'aten' (torch's at::lstm). Same maths. */
  lstmImpl?: 'fused' | 'aten';
}

export interface LibtorchModel {
  readonly graph: LayerGraph;
  readonly input: InputSize;
  /** One step of Adam on a batch: `x` is [batch, frames, coeffs] row-major, `y` is [batch] of 0/1. Returns the mean loss. */
  trainStep(x: Float32Array, y: Float32Array, batch: number): number;
  /** Probabilities of class 1, eval mode (no dropout, batch-norm running statistics). */
  predict(x: Float32Array, batch: number): Float32Array;
  /** Loss and gradients of the trainable weights (Keras layout), without changing anything. Eval mode unless `training`. */
  gradients(x: Float32Array, y: Float32Array, batch: number, training?: boolean): { loss: number; gradients: WeightTensor[] };
  /** All weights in Keras order and layout (TF.js `model.getWeights()` order). */
  getWeights(): WeightTensor[];
  /** Sets all weights, matched by name; every weight must be given, with its Keras shape. */
  setWeights(weights: WeightTensor[]): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  setLearningRate(lr: number): void;
  getLearningRate(): number;
  setClassWeights(weights: [number, number] | null): void;
  /** Number of weights, counted as Keras does (batch-norm moving statistics included). */
  paramCount(): number;
  /** Frees the native tensors now; the model cannot be used afterwards. */
  dispose(): void;
}

export type LibtorchAvailability = { ok: true; torchVersion: string; addonPath: string } | { ok: false; reason: string };

/** What the addon's TorchModel instances expose: the model API minus what the TS wrapper adds. */
type NativeModel = Omit<LibtorchModel, 'graph' | 'input' | 'gradients'> & {
  gradients(x: Float32Array, y: Float32Array, batch: number, training: boolean): { loss: number; gradients: WeightTensor[] };
};

interface NativeAddon {
  TorchModel: new (graph: LayerGraph, options: LibtorchModelOptions) => NativeModel;
  setThreads(n: number): void;
  getThreads(): number;
  info(): { torchVersion: string; parallelInfo: string; threads: number };
}

const ADDON_RELATIVE = join('native', 'torch', 'build', 'Release', 'xp_torch.node');
const STATUS_RELATIVE = join('native', 'torch', 'build', 'xp-status.json');

/** The package root: the nearest folder above this module that has native/torch. */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'torch', 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

let loaded: { addon: NativeAddon; path: string } | { error: string } | undefined;

function load(): { addon: NativeAddon; path: string } | { error: string } {
  if (loaded) return loaded;
  const root = packageRoot();
  const path = process.env.XP_TORCH_ADDON ?? (root ? join(root, ADDON_RELATIVE) : null);
  if (process.env.XP_TORCH_ADDON && !existsSync(process.env.XP_TORCH_ADDON)) {
    loaded = { error: `XP_TORCH_ADDON=${process.env.XP_TORCH_ADDON} does not exist` };
    return loaded;
  }
  if (!path || !existsSync(path)) {
    let why = 'the native addon is not built';
    const status = root ? join(root, STATUS_RELATIVE) : null;
    if (status && existsSync(status)) {
      try {
        const s = JSON.parse(readFileSync(status, 'utf8')) as { ok?: boolean; reason?: string };
        if (s.ok === false && s.reason) why = s.reason;
      } catch {
        /* keep the generic reason */
      }
    }
    loaded = { error: `${why} (build it with: node native/torch/build.mjs)` };
    return loaded;
  }
  // OpenMP threads that spin while idle collapse throughput when another process holds a core
  // (see shared/notes/engine-routes.md §6). libgomp reads this once, when libtorch loads.
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    const require = createRequire(import.meta.url);
    loaded = { addon: require(path) as NativeAddon, path };
  } catch (e) {
    loaded = { error: `cannot load ${path}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  return loaded;
}

function addon(): NativeAddon {
  const l = load();
  if ('error' in l) throw new Error(`libtorch backend unavailable: ${l.error}`);
  return l.addon;
}

/**
 * Whether the addon file is there, without loading it (loading libtorch costs ~0.4 s, which a
 * run served entirely from the cache should not pay just to compute its keys).
 */
export function libtorchBuilt(): { ok: true } | { ok: false; reason: string } {
  if (loaded) return 'error' in loaded ? { ok: false, reason: loaded.error } : { ok: true };
  const root = packageRoot();
  const path = process.env.XP_TORCH_ADDON ?? (root ? join(root, ADDON_RELATIVE) : null);
  if (path && existsSync(path)) return { ok: true };
  const l = load();
  return 'error' in l ? { ok: false, reason: l.error } : { ok: true };
}

export function libtorchAvailable(): LibtorchAvailability {
  const l = load();
  if ('error' in l) return { ok: false, reason: l.error };
  return { ok: true, torchVersion: l.addon.info().torchVersion, addonPath: l.path };
}

/** Intra-op threads of libtorch (OpenMP, and OpenBLAS-OpenMP with it). Process-wide. */
export function setLibtorchThreads(n: number): void {
  addon().setThreads(n);
}

export function getLibtorchThreads(): number {
  return addon().getThreads();
}

export function libtorchInfo(): { torchVersion: string; parallelInfo: string; threads: number } {
  return addon().info();
}

export function createLibtorchModel(graph: LayerGraph, options: LibtorchModelOptions): LibtorchModel {
  const native = new (addon().TorchModel)(graph, options);
  const input = graphInput(graph);
  return {
    graph,
    input,
    trainStep: (x, y, batch) => native.trainStep(x, y, batch),
    predict: (x, batch) => native.predict(x, batch),
    gradients: (x, y, batch, training = false) => native.gradients(x, y, batch, training),
    getWeights: () => native.getWeights(),
    setWeights: (w) => native.setWeights(w),
    getOptimizerState: () => native.getOptimizerState(),
    setOptimizerState: (s) => native.setOptimizerState(s),
    setLearningRate: (lr) => native.setLearningRate(lr),
    getLearningRate: () => native.getLearningRate(),
    setClassWeights: (w) => native.setClassWeights(w),
    paramCount: () => native.paramCount(),
    dispose: () => native.dispose(),
  };
}
