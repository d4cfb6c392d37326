/**
 * Test scaffolding shared by the engine and model tests (tests/engine, tests/model): seeded data, a
 * finite difference, a ModelSpec builder and the engine list/make/dispose harness. These used to be
 * copied into each test file with small variations; they live here once so that the copies cannot
 * drift apart.
 *
 * The generators are the exact algorithms the tests were written against: several tests pin
 * numbers or compare bit patterns, so changing one changes what those tests check. Where two files
 * used different generators, both are kept here under their own names.
 */
import { afterAll } from 'vitest';

import { mulberry32 } from '../../src/data/rng.ts';
import type { EngineModelOptions } from '../../src/engine/backend.ts';
import type { LayerGraph, ModelSpec } from '../../src/engine/graph.ts';
import { createLibtorchModel, libtorchAvailable, type LibtorchModel } from '../../src/engine/libtorch.ts';
import { createTfjsModel } from '../../src/engine/tfjs.ts';

// ---------------------------------------------------------------------------------------------
// Seeded data

/** One step of the 32-bit linear congruential generator (Numerical Recipes constants). */
const lcgNext = (s: number): number => (Math.imul(s, 1664525) + 1013904223) >>> 0;

/** `n` values uniform in [-1, 1): the LCG's successive states after `seed`, scaled. */
export function lcgUniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = lcgNext(s);
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** `n` standard normal values: Box–Muller on the LCG's states mapped to (0, 1). */
export function lcgGaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = lcgNext(s);
    return (s + 0.5) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** `n` standard normal values: Box–Muller on mulberry32 (another stream than `lcgGaussian`; the libtorch tests use it). */
export function mulberry32Gaussian(n: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * Central finite difference of `loss` with respect to `w[i]`: evaluates it at w[i] + h and w[i] - h,
 * then puts w[i] back.
 */
export function centralDifference(w: Float64Array, i: number, h: number, loss: () => number): number {
  const orig = w[i];
  w[i] = orig + h;
  const up = loss();
  w[i] = orig - h;
  const down = loss();
  w[i] = orig;
  return (up - down) / (2 * h);
}

// ---------------------------------------------------------------------------------------------
// Model specs

/**
 * A ModelSpec with small default sizes (conv [4, 6] k3 p2, LSTM 5, dense 8, dropout 0.25, no batch
 * norm, no time pooling); `overrides` replace whole fields.
 */
export function modelSpec(kind: ModelSpec['kind'], overrides: Partial<ModelSpec> = {}): ModelSpec {
  return { kind, conv: { filters: [4, 6], kernel: 3, pool: 2 }, lstm: { units: 5 }, dense: { units: 8 }, dropout: 0.25, batch_norm: false, ...overrides };
}

/** The sizes of the anchor models (shared/anchors/README.md), as `modelSpec` overrides. */
export const ANCHOR_SIZES = { conv: { filters: [16, 32], kernel: 3, pool: 2 }, lstm: { units: 64 }, dense: { units: 64 }, dropout: 0.3 } satisfies Partial<ModelSpec>;

// ---------------------------------------------------------------------------------------------
// Engines

export type EngineName = 'libtorch' | 'cpu' | 'wasm';

/** The engines to test here: libtorch first when its addon loads, then the TF.js cpu and wasm engines. */
export function availableEngines(): EngineName[] {
  return libtorchAvailable().ok ? ['libtorch', 'cpu', 'wasm'] : ['cpu', 'wasm'];
}

/** What the tests use of a model, on every engine (the TF.js models have the same methods). */
export type Engine = Pick<LibtorchModel, 'trainStep' | 'predict' | 'gradients' | 'getWeights' | 'setWeights' | 'getOptimizerState' | 'setOptimizerState' | 'dispose'>;

/**
 * Registers an `afterAll` (in the file or describe block that calls this) that disposes every model
 * passed to the returned function; that function returns its argument.
 */
export function disposeAfterAll(): <M extends { dispose(): void }>(model: M) => M {
  const open: Array<{ dispose(): void }> = [];
  afterAll(() => open.forEach((m) => m.dispose()));
  return (model) => {
    open.push(model);
    return model;
  };
}

/** A `make(engine, graph, options)` that creates a model on any engine and disposes it in `afterAll` (see `disposeAfterAll`). */
export function engineMaker(): (engine: EngineName, graph: LayerGraph, options: EngineModelOptions) => Engine {
  const keep = disposeAfterAll();
  return (engine, graph, options) => keep(engine === 'libtorch' ? createLibtorchModel(graph, options) : createTfjsModel(engine, graph, options));
}
