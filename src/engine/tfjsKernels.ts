/**
 * xp's own kernels for the TF.js `wasm` backend (tfjs-backend-wasm 4.22.0), registered over or
 * next to the stock ones. They are compositions of the stock XNNPACK-backed kernels, so no
 * toolchain is needed (measurements: shared/notes/engine-routes.md §1, §3):
 *
 * - `Conv2DBackpropFilter` (missing in tfjs-wasm): dW[i,j,c,o] = Σ_{b,h,w} x[b,h+i-pt,w+j-pl,c]·dy[b,h,w,o].
 *   A transposed im2col written in JS on the wasm heap ([kh·kw·C, B·H·W]) and one plain XNNPACK GEMM
 *   with dy [B·H·W, O], whose result is the HWIO gradient. Measured alternatives were slower: a Conv2D
 *   of x as [C,H,W,B] with dy as an [OH,OW,B,O] filter (XNNPACK is poor at huge filters), and an
 *   im2col from stock PadV2/Slice/Concat kernels (those are slow in tfjs-wasm). Stride 1, dilation 1.
 * - `MaxPoolGrad` for non-overlapping valid pooling (the stock kernel took ~50 ms on [32,100,40,16]):
 *   a JS loop on the wasm heap; other configurations use the stock kernel.
 * - `Conv2DBackpropInput` at stride 1 (the stock kernel is a scalar loop): dx is a Conv2D of dy with
 *   the spatially reversed filter, in/out channels swapped, padded by (k-1-pad) on each side.
 *   Other strides fall back to the stock kernel.
 * - `BatchMatMul` / `_FusedMatMul` with a transposed operand: XNNPACK runs plain GEMMs at 18–32 GF/s
 *   but any transpose flag at ~2.2 GF/s. Backprop is made of such GEMMs (dA = dC·Bᵀ, dB = Aᵀ·dC),
 *   so the operand is transposed explicitly (stock Transpose) and the plain GEMM runs.
 *
 * Stock Sum and the element-wise kernels are used as they are.
 * Every kernel here has a gradient parity test against the `cpu` backend (tests/engine/tfjsKernels.test.ts).
 */
import type * as TF from '@tensorflow/tfjs-core';

type TensorInfo = TF.TensorInfo;
type KernelFunc = TF.KernelFunc;
type Attrs = Record<string, unknown>;

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

interface WasmHeapBackend extends WasmBackendLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** Names of the kernels this module registers for `wasm`. */
export const XP_WASM_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', '_FusedMatMul', 'MaxPoolGrad'] as const;

let installed = false;

/**
 * Registers xp's wasm kernels. Must run after the wasm backend is initialised and set (the stock
 * kernels' setup functions have run), because the stock kernel functions are captured and reused.
 * Idempotent.
 */
export function installWasmKernels(tf: typeof TF): void {
  if (installed) return;
  const stock = (name: string): KernelFunc => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel (version other than 4.22.0?)`);
    return k.kernelFunc;
  };
  const transposeK = stock('Transpose');
  const conv2dK = stock('Conv2D');
  const reverseK = stock('Reverse');
  const batchMatMulK = stock('BatchMatMul');
  const fusedMatMulK = stock('_FusedMatMul');
  const conv2dBackpropInputK = stock('Conv2DBackpropInput');
  const reshapeK = stock('Reshape');
  const maxPoolGradK = stock('MaxPoolGrad');

  const call = (k: KernelFunc, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo =>
    k({ inputs, backend: backend as unknown as TF.KernelBackend, attrs: attrs as TF.NamedAttrMap }) as TensorInfo;
  const transpose = (backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo => call(transposeK, backend, { x }, { perm });
  const swapLast2 = (rank: number): number[] => {
    const p = Array.from({ length: rank }, (_, i) => i);
    [p[rank - 2], p[rank - 1]] = [p[rank - 1], p[rank - 2]];
    return p;
  };
  const convPads = (xShape: number[], filterShape: number[], attrs: Attrs) => {
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs.strides as [number, number] | number,
      (attrs.dilations as [number, number] | number | undefined) ?? 1,
      attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      false,
      tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC'),
    );
    return info;
  };

  const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as Attrs;
    const filterShape = a.filterShape as number[];
    if (((a.dataFormat as string | undefined) ?? 'NHWC') !== 'NHWC') throw new Error('xp wasm Conv2DBackpropFilter supports NHWC only');
    const info = convPads(x.shape, filterShape, a);
    if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
      throw new Error('xp wasm Conv2DBackpropFilter supports stride 1 and dilation 1 only');
    }
    const b = backend as unknown as WasmBackendLike;
    const p = info.padInfo;
    const [B, , , C] = x.shape;
    const [kh, kw, , O] = filterShape;
    const OH = dy.shape[1];
    const OW = dy.shape[2];
    // Transposed im2col on the wasm heap, rows (i, j, c), columns (b, h, w); then one plain GEMM
    // with dy [B·OH·OW, O], whose result [kh·kw·C, O] is the HWIO kernel gradient.
    const wb = b as WasmHeapBackend;
    const H = x.shape[1];
    const W = x.shape[2];
    const N = B * OH * OW;
    const cols = wb.makeOutput([1, kh * kw * C, N], 'float32');
    const heap = wb.wasm.HEAPF32; // after makeOutput: memory growth replaces the view
    const xo = wb.dataIdMap.get(x.dataId).memoryOffset / 4;
    const co = wb.dataIdMap.get(cols.dataId).memoryOffset / 4;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        for (let c = 0; c < C; c++) {
          let d = co + ((i * kw + j) * C + c) * N;
          for (let bb = 0; bb < B; bb++)
            for (let h = 0; h < OH; h++) {
              const hh = h + i - p.top;
              if (hh < 0 || hh >= H) {
                heap.fill(0, d, d + OW);
                d += OW;
                continue;
              }
              const rowBase = xo + (bb * H + hh) * W * C + c;
              for (let w = 0; w < OW; w++) {
                const ww = w + j - p.left;
                heap[d++] = ww >= 0 && ww < W ? heap[rowBase + ww * C] : 0;
              }
            }
        }
    const dy3 = call(reshapeK, b, { x: dy }, { shape: [1, N, O] });
    const g = call(batchMatMulK, b, { a: cols, b: dy3 }, { transposeA: false, transposeB: false }); // [1, kh·kw·C, O]
    b.disposeData(cols.dataId);
    b.disposeData(dy3.dataId);
    const out = call(reshapeK, b, { x: g }, { shape: [kh, kw, C, O] });
    b.disposeData(g.dataId);
    return out;
  };

  /** MaxPoolGrad for non-overlapping valid pooling (stride = window), on the wasm heap in JS; the first maximum of a window gets the gradient, as the cpu backend. */
  const maxPoolGrad: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as Attrs;
    const fs = a.filterSize as number | [number, number];
    const st = a.strides as number | [number, number];
    const [fh, fw] = typeof fs === 'number' ? [fs, fs] : fs;
    const [sh, sw] = typeof st === 'number' ? [st, st] : st;
    if (a.pad !== 'valid' || fh !== sh || fw !== sw || input.shape.length !== 4) return maxPoolGradK(args);
    const wb = backend as unknown as WasmHeapBackend;
    const [B, H, W, C] = input.shape;
    const [, OH, OW] = dy.shape;
    const out = wb.makeOutput(input.shape, 'float32');
    const heap = wb.wasm.HEAPF32;
    const xo = wb.dataIdMap.get(input.dataId).memoryOffset / 4;
    const dyo = wb.dataIdMap.get(dy.dataId).memoryOffset / 4;
    const oo = wb.dataIdMap.get(out.dataId).memoryOffset / 4;
    heap.fill(0, oo, oo + B * H * W * C);
    for (let bb = 0; bb < B; bb++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const dyBase = dyo + ((bb * OH + oh) * OW + ow) * C;
          for (let c = 0; c < C; c++) {
            let best = -1;
            let bestV = -Infinity;
            for (let i = 0; i < fh; i++) {
              const row = ((bb * H + oh * sh + i) * W + ow * sw) * C + c;
              for (let j = 0; j < fw; j++) {
                const v = heap[xo + row + j * C];
                if (v > bestV || best < 0) {
                  bestV = v;
                  best = row + j * C;
                }
              }
            }
            heap[oo + best] += heap[dyBase + c];
          }
        }
    return out;
  };

  const conv2dBackpropInput: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as Attrs;
    const inputShape = a.inputShape as number[];
    if (((a.dataFormat as string | undefined) ?? 'NHWC') !== 'NHWC') return conv2dBackpropInputK(args);
    const info = convPads(inputShape, filter.shape, a);
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return conv2dBackpropInputK(args);
    const b = backend as unknown as WasmBackendLike;
    const [kh, kw] = filter.shape;
    const p = info.padInfo;
    const rev = call(reverseK, b, { x: filter }, { dims: [0, 1] });
    const f = transpose(b, rev, [0, 1, 3, 2]); // [kh,kw,O,C]
    b.disposeData(rev.dataId);
    const pad = [
      [0, 0],
      [kh - 1 - p.top, kh - 1 - p.bottom],
      [kw - 1 - p.left, kw - 1 - p.right],
      [0, 0],
    ];
    const out = call(conv2dK, b, { x: dy, filter: f }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    b.disposeData(f.dataId);
    return out;
  };

  const untransposed = (k: KernelFunc): KernelFunc => (args) => {
    const a = args.attrs as Attrs;
    if (!a.transposeA && !a.transposeB) return k(args);
    const b = args.backend as unknown as WasmBackendLike;
    const ins = { ...(args.inputs as Record<string, TensorInfo>) };
    const temps: TensorInfo[] = [];
    if (a.transposeA) temps.push((ins.a = transpose(b, ins.a, swapLast2(ins.a.shape.length))));
    if (a.transposeB) temps.push((ins.b = transpose(b, ins.b, swapLast2(ins.b.shape.length))));
    const out = k({ ...args, inputs: ins, attrs: { ...a, transposeA: false, transposeB: false } as TF.NamedAttrMap });
    for (const t of temps) b.disposeData(t.dataId);
    return out;
  };

  const register = (kernelName: string, kernelFunc: KernelFunc) => {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  };
  register('Conv2DBackpropFilter', conv2dBackpropFilter);
  register('Conv2DBackpropInput', conv2dBackpropInput);
  register('BatchMatMul', untransposed(batchMatMulK));
  register('_FusedMatMul', untransposed(fusedMatMulK));
  register('MaxPoolGrad', maxPoolGrad);
  installed = true;
}
