/** Gradient parity of xp's wasm kernels (src/engine/tfjsKernels.ts) against the TF.js cpu backend. */
import { describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs-core';

import { activate, tfjsRuntime, type TfjsRuntime } from '../../src/engine/tfjsRuntime.ts';
import { lcgUniform } from './harness.ts';

function rt(name: 'wasm' | 'cpu'): TfjsRuntime {
  const r = tfjsRuntime(name);
  if ('error' in r) throw new Error(r.error);
  return r;
}

/** Runs `f` on a backend; returns the outputs as plain arrays. */
function on(name: 'wasm' | 'cpu', f: (tf: typeof TF) => TF.Tensor[]): Float32Array[] {
  const tf = activate(rt(name));
  return tf.tidy(() => f(tf).map((t) => t.dataSync().slice() as Float32Array));
}

function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

function parity(f: (tf: typeof TF) => TF.Tensor[]): void {
  const w = on('wasm', f);
  const c = on('cpu', f);
  w.forEach((x, i) => expect(relErr(x, c[i])).toBeLessThanOrEqual(1e-5));
}

describe('xp wasm kernels: gradient parity with the cpu backend', () => {
  for (const [k, pad] of [
    [3, 'same'],
    [2, 'same'],
    [3, 'valid'],
  ] as const) {
    it(`Conv2DBackpropFilter and Conv2DBackpropInput (kernel ${k}, ${pad})`, () => {
      parity((tf) => {
        const x = tf.tensor(lcgUniform(3 * 9 * 7 * 4, 1), [3, 9, 7, 4]) as TF.Tensor4D;
        const f = tf.tensor(lcgUniform(k * k * 4 * 5, 2), [k, k, 4, 5]) as TF.Tensor4D;
        const outShape = tf.conv2d(x, f, 1, pad).shape;
        const r = tf.tensor(lcgUniform(outShape.reduce((a, b) => a * b, 1), 3), outShape);
        const [dx, df] = tf.grads((a: TF.Tensor, b: TF.Tensor) => tf.sum(tf.mul(tf.conv2d(a as TF.Tensor4D, b as TF.Tensor4D, 1, pad), r)))([x, f]);
        return [dx, df];
      });
    });
  }

  it('BatchMatMul with transposed operands (and its gradients)', () => {
    parity((tf) => {
      const a = tf.tensor(lcgUniform(2 * 6 * 5, 4), [2, 6, 5]);
      const b = tf.tensor(lcgUniform(2 * 7 * 5, 5), [2, 7, 5]);
      const r = tf.tensor(lcgUniform(2 * 6 * 7, 6), [2, 6, 7]);
      const [da, db] = tf.grads((p: TF.Tensor, q: TF.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, false, true), r)))([a, b]);
      const at = tf.matMul(a, tf.tensor(lcgUniform(2 * 6 * 3, 7), [2, 6, 3]), true, false);
      return [tf.matMul(a, b, false, true), at, da, db];
    });
  });

  it('_FusedMatMul with transposed operands, bias and relu', () => {
    parity((tf) => {
      const a = tf.tensor(lcgUniform(8 * 5, 8), [8, 5]) as TF.Tensor2D;
      const b = tf.tensor(lcgUniform(4 * 8, 9), [4, 8]) as TF.Tensor2D;
      const bias = tf.tensor(lcgUniform(4, 10), [4]);
      return [tf.fused.matMul({ a, b, transposeA: true, transposeB: true, bias, activation: 'relu' }), tf.fused.matMul({ a: b, b: a, bias: tf.tensor(lcgUniform(5, 11), [5]) })];
    });
  });

  it('MaxPoolGrad (non-overlapping valid pooling, odd sizes)', () => {
    parity((tf) => {
      const x = tf.tensor(lcgUniform(2 * 9 * 7 * 3, 12), [2, 9, 7, 3]) as TF.Tensor4D;
      const r = tf.tensor(lcgUniform(2 * 4 * 3 * 3, 13), [2, 4, 3, 3]);
      const [dx] = tf.grads((a: TF.Tensor) => tf.sum(tf.mul(tf.maxPool(a as TF.Tensor4D, 2, 2, 'valid'), r)))([x]);
      return [dx];
    });
  });
});
