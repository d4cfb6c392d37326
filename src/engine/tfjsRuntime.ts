/**
 * Loading TF.js and its backends, synchronously and on first use (xp's backend API is synchronous,
 * and `xp ls` should not pay for TF.js).
 *
 * - `wasm`: @tensorflow/tfjs-backend-wasm 4.22.0, SIMD build, one thread. The stock backend factory
 *   is asynchronous (emscripten); here the module is instantiated synchronously from the .wasm bytes
 *   (allowed in Node for any size) and registered with a synchronous factory, then xp's kernels
 *   (tfjsKernels.ts) are installed. Uses tfjs internals: the versions are pinned to 4.22.0.
 * - `cpu`: @tensorflow/tfjs-backend-cpu (plain JS; correct, slow).
 * - `tfjs-node` / `tfjs-node-gpu`: loaded at run time if the user installed them
 *   (`npm install @tensorflow/tfjs-node-gpu@4.22.0`; their install downloads libtensorflow, so they are
 *   not dependencies of xp). Loaded with a synchronous `require` inside try/catch; a probe reports why
 *   they cannot be used.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs-core';

import { installWasmKernels } from './tfjsKernels.ts';

export type TfjsEngine = 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';

const require = createRequire(import.meta.url);

/** The WebAssembly global (the project's TS lib has no DOM/WebAssembly types). */
const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => unknown; Instance: new (m: unknown, i: unknown) => { exports: unknown } } }).WebAssembly;

export interface TfjsRuntime {
  tf: typeof TF;
  /** The TF.js backend name (`wasm`, `cpu`, `tensorflow`). */
  tfBackend: string;
  /** One line for logs. */
  description: string;
}

let tfCore: typeof TF | undefined;
let wasmRegistered = false;
const loaded = new Map<TfjsEngine, TfjsRuntime | { error: string }>();

function core(): typeof TF {
  if (!tfCore) {
    tfCore = require('@tensorflow/tfjs-core') as typeof TF;
    // tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them
    // (as the @tensorflow/tfjs union package does).
    require('@tensorflow/tfjs-layers');
    // TF.js prints a hint about tfjs-node on first use; xp documents its backends itself.
    tfCore.env().set('IS_TEST', true);
  }
  return tfCore;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

function loadWasm(): TfjsRuntime {
  const tf = core();
  const pkg = require('@tensorflow/tfjs-backend-wasm') as { BackendWasm: new (module: unknown) => TF.KernelBackend; version_wasm: string };
  if (!wasmRegistered) {
    const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js') as (m: Record<string, unknown>) => Promise<unknown>;
    const bytes = readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm'));
    const before = { ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection') };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const mod: Record<string, any> = {
      instantiateWasm(imports: unknown, receive: (i: unknown, m: unknown) => void) {
        const m = new WA.Module(bytes);
        const inst = new WA.Instance(m, imports);
        receive(inst, m);
        return inst.exports;
      },
    };
    const ready = factory(mod);
    ready.catch(() => undefined);
    // The emscripten runtime installs process handlers that rethrow; xp has its own.
    for (const l of process.listeners('uncaughtException')) if (!before.ue.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.ur.includes(l)) process.removeListener('unhandledRejection', l);
    if (typeof mod.cwrap !== 'function' || !mod.HEAPU8) throw new Error('the wasm module did not initialise synchronously');
    mod.tfjs = {
      init: mod.cwrap('init', null, []),
      initWithThreadsCount: mod.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: mod.cwrap('get_threads_count', 'number', []),
      registerTensor: mod.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: mod.cwrap('dispose_data', null, ['number']),
      dispose: mod.cwrap('dispose', null, []),
    };
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', () => new pkg.BackendWasm(mod), 2);
    wasmRegistered = true;
  }
  void tf.setBackend('wasm'); // synchronous in effect: the factory is synchronous
  if (tf.getBackend() !== 'wasm') throw new Error('could not set the wasm backend');
  installWasmKernels(tf);
  return { tf, tfBackend: 'wasm', description: `tfjs-wasm ${pkg.version_wasm} (XNNPACK SIMD, 1 thread, xp kernels)` };
}

function loadCpu(): TfjsRuntime {
  const tf = core();
  const pkg = require('@tensorflow/tfjs-backend-cpu') as { version_cpu: string };
  void tf.setBackend('cpu');
  if (tf.getBackend() !== 'cpu') throw new Error('could not set the cpu backend');
  return { tf, tfBackend: 'cpu', description: `tfjs-cpu ${pkg.version_cpu} (plain JavaScript, 1 thread)` };
}

function loadNode(which: 'tfjs-node' | 'tfjs-node-gpu'): TfjsRuntime {
  const pkgName = `@tensorflow/${which}`;
  try {
    require.resolve(pkgName);
  } catch {
    throw new Error(`${pkgName} is not installed (npm install ${pkgName}@4.22.0; its install downloads libtensorflow)`);
  }
  const other = which === 'tfjs-node' ? 'tfjs-node-gpu' : 'tfjs-node';
  const otherLoaded = loaded.get(other);
  if (otherLoaded && !('error' in otherLoaded)) throw new Error(`@tensorflow/${other} is already loaded in this process`);
  const node = require(pkgName) as { version: Record<string, string> };
  const tf = core();
  void tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error(`${pkgName} loaded but did not register the tensorflow backend`);
  const be = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  if (which === 'tfjs-node-gpu' && be.isUsingGpuDevice === false) throw new Error('no CUDA GPU is visible to libtensorflow');
  const v = node.version?.['tfjs-node'] ?? '';
  return { tf, tfBackend: 'tensorflow', description: `${which} ${v} (libtensorflow, ${be.isUsingGpuDevice ? 'GPU' : 'CPU'})` };
}

/** Loads (once) and returns the runtime for a TF.js engine, or why it cannot be used. */
export function tfjsRuntime(engine: TfjsEngine): TfjsRuntime | { error: string } {
  const have = loaded.get(engine);
  if (have) return have;
  let r: TfjsRuntime | { error: string };
  try {
    r = engine === 'wasm' ? loadWasm() : engine === 'cpu' ? loadCpu() : loadNode(engine);
  } catch (e) {
    r = { error: message(e) };
  }
  loaded.set(engine, r);
  return r;
}

/** Whether a TF.js engine could be used, without loading TF.js for the packaged ones. */
export function tfjsProbe(engine: TfjsEngine): { ok: true } | { ok: false; reason: string } {
  const have = loaded.get(engine);
  if (have) return 'error' in have ? { ok: false, reason: have.error } : { ok: true };
  if (engine === 'wasm' || engine === 'cpu') {
    const pkg = engine === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu';
    try {
      require.resolve(pkg);
      require.resolve('@tensorflow/tfjs-core');
      return { ok: true };
    } catch {
      return { ok: false, reason: `${pkg} is not installed (npm install)` };
    }
  }
  const r = tfjsRuntime(engine);
  return 'error' in r ? { ok: false, reason: r.error } : { ok: true };
}

/** Makes `rt` the active TF.js backend (TF.js has one global backend; models switch on entry). */
export function activate(rt: TfjsRuntime): typeof TF {
  if (rt.tf.getBackend() !== rt.tfBackend) void rt.tf.setBackend(rt.tfBackend);
  return rt.tf;
}
