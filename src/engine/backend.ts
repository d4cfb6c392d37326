/**
 * Training backends: which engine trains a layer graph (graph.ts).
 *
 * Providers: `libtorch` (the native/torch addon, fast on CPU), and the TF.js engines in tfjs.ts:
 * `wasm` (always installed; xp registers its own kernels for what tfjs-wasm lacks), `cpu` (pure
 * JS, slow), and `tfjs-node` / `tfjs-node-gpu`, used when the user has installed those packages.
 * `resolveBackend('auto')` takes the first available in `AUTO_ORDER`. Weights are exchanged in
 * Keras layout, so a model trained on one engine predicts on any other.
 */
import { UserError } from '../errors.ts';
import type { LayerGraph } from './graph.ts';
import {
  createLibtorchModel,
  libtorchAvailable,
  libtorchBuilt,
  libtorchInfo,
  setLibtorchThreads,
  type LibtorchModel,
  type OptimizerState,
  type WeightTensor,
} from './libtorch.ts';
import { tfjsProviders } from './tfjs.ts';

export type BackendName = 'auto' | 'libtorch' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'libtorch', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** The order in which `auto` tries backends: fastest first (a GPU beats libtorch on the CPU). */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tfjs-node-gpu', 'libtorch', 'tfjs-node', 'wasm', 'cpu'];

export type { OptimizerState, WeightTensor };

/** Options every backend accepts when it creates a model. */
export interface EngineModelOptions {
  /** Seeds weight initialisation and dropout. Same seed + same backend + same threads → same run. */
  seed: number;
  /** Adam learning rate (default 1e-3); beta1 0.9, beta2 0.999, epsilon 1e-8 unless given. */
  lr?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /**
   * L2 penalty: `weightDecay · w` is added to the gradient of every trainable weight before the
   * Adam update, exactly torch.optim.Adam(weight_decay=…) (not AdamW). Default 0.
   */
  weightDecay?: number;
  /** Loss weight of class 0 and class 1. */
  classWeights?: [number, number] | null;
}

/**
 * A trainable binary classifier built from a layer graph. Inputs are [batch, frames, coeffs]
 * row-major Float32Arrays; weights are exchanged in Keras / TF.js layout (graph.ts).
 */
export interface TrainableModel {
  readonly graph: LayerGraph;
  trainStep(x: Float32Array, y: Float32Array, batch: number): number;
  predict(x: Float32Array, batch: number): Float32Array;
  getWeights(): WeightTensor[];
  setWeights(weights: WeightTensor[]): void;
  getOptimizerState(): OptimizerState;
  setOptimizerState(state: OptimizerState): void;
  setLearningRate(lr: number): void;
  getLearningRate(): number;
  setClassWeights(weights: [number, number] | null): void;
  paramCount(): number;
  dispose(): void;
}

export interface TrainingBackend {
  readonly name: ConcreteBackend;
  /** One line for logs and run records, e.g. "libtorch 1.13.0 (OpenMP, 2 threads)". */
  describe(): string;
  /** Intra-op threads (process-wide for libtorch). */
  setThreads(n: number): void;
  createModel(graph: LayerGraph, options: EngineModelOptions): TrainableModel;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** What a backend implementation registers. `probe` must be cheap-ish and never throw. */
export interface BackendProvider {
  readonly name: ConcreteBackend;
  probe(): Availability;
  load(): TrainingBackend;
}

const providers = new Map<ConcreteBackend, BackendProvider>();

/** Makes a backend available to `resolveBackend` (replaces an earlier provider of the same name). */
export function registerBackend(provider: BackendProvider): void {
  providers.set(provider.name, provider);
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

function notImplemented(name: ConcreteBackend): string {
  return `backend ${name} is not installed/implemented yet`;
}

/** Each backend and whether it can be used here (for diagnostics). */
export function backendStatus(): Array<{ name: ConcreteBackend } & Availability> {
  return AUTO_ORDER.map((name) => {
    const p = providers.get(name);
    if (!p) return { name, ok: false as const, reason: notImplemented(name) };
    return { name, ...p.probe() };
  });
}

/**
 * The backend to train with. `auto` picks the first available in AUTO_ORDER (today: libtorch).
 * Throws a UserError naming the reason when the requested backend cannot be used.
 */
export function resolveBackend(requested: BackendName): TrainingBackend {
  if (requested === 'auto') {
    const reasons: string[] = [];
    for (const name of AUTO_ORDER) {
      const p = providers.get(name);
      if (!p) {
        reasons.push(`${name}: not installed/implemented yet`);
        continue;
      }
      const a = p.probe();
      if (a.ok) return p.load();
      reasons.push(`${name}: ${a.reason}`);
    }
    throw new UserError('no training backend is available', reasons);
  }
  if (!isBackendName(requested)) throw new UserError(`unknown backend ${String(requested)} (one of ${BACKEND_NAMES.join(', ')})`);
  const p = providers.get(requested);
  if (!p) throw new UserError(notImplemented(requested));
  const a = p.probe();
  if (!a.ok) throw new UserError(`${requested} backend unavailable: ${a.reason}`);
  return p.load();
}

export const libtorchProvider: BackendProvider = {
  name: 'libtorch',
  probe(): Availability {
    return libtorchBuilt();
  },
  // The addon itself (dlopen of libtorch, ~0.4–0.8 s) loads on first real use, not here:
  // computing a train stage's key only needs the backend's name.
  load(): TrainingBackend {
    const available = () => {
      const a = libtorchAvailable();
      if (!a.ok) throw new UserError(`libtorch backend unavailable: ${a.reason}`);
    };
    return {
      name: 'libtorch',
      describe: () => {
        available();
        const i = libtorchInfo();
        return `libtorch ${i.torchVersion} (OpenMP, ${i.threads} thread${i.threads === 1 ? '' : 's'})`;
      },
      setThreads: (n) => {
        available();
        setLibtorchThreads(n);
      },
      createModel: (graph, options): LibtorchModel => {
        available();
        return createLibtorchModel(graph, options);
      },
    };
  },
};

registerBackend(libtorchProvider);
// TF.js engines (src/engine/tfjs.ts): wasm and cpu ship with xp; tfjs-node(-gpu) when installed.
for (const p of tfjsProviders) registerBackend(p);
