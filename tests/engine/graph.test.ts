import { describe, expect, it } from 'vitest';

import { buildGraph, GraphError, graphInput, paramCount, weightSpecs, type ModelSpec } from '../../src/engine/graph.ts';
import { ANCHOR_SIZES, modelSpec } from './harness.ts';

const INPUT = { frames: 100, coeffs: 40 };

/** Anchor-size models (the parameter counts below are the anchors'). */
const spec = (kind: ModelSpec['kind'], over: Partial<ModelSpec> = {}): ModelSpec => modelSpec(kind, { ...ANCHOR_SIZES, ...over });

describe('layer graph (no addon needed)', () => {
  it('has the TF.js parameter counts of the anchor models (shared/anchors/README.md)', () => {
    expect(paramCount(buildGraph(spec('cnn'), INPUT))).toEqual({ total: 516_929, trainable: 516_929 });
    expect(paramCount(buildGraph(spec('cnn-lstm'), INPUT))).toEqual({ total: 107_585, trainable: 107_585 });
    // The anchor's lstm_cnn has a single conv block (1→16).
    expect(paramCount(buildGraph(spec('lstm-cnn', { conv: { filters: [16], kernel: 3, pool: 2 } }), INPUT))).toEqual({ total: 2_689_569, trainable: 2_689_569 });
  });

  it('builds the three architectures with the expected shapes', () => {
    const cnn = buildGraph(spec('cnn'), INPUT);
    expect(cnn.nodes.map((n) => `${n.op}:${n.shape.join('x')}`)).toEqual([
      'input:100x40',
      'expand_channels:100x40x1',
      'conv2d:100x40x16',
      'relu:100x40x16',
      'max_pool2d:50x20x16',
      'conv2d:50x20x32',
      'relu:50x20x32',
      'max_pool2d:25x10x32',
      'flatten:8000',
      'dense:64',
      'dropout:64',
      'dense:1',
    ]);
    const cl = buildGraph(spec('cnn-lstm'), INPUT);
    expect(cl.nodes.filter((n) => ['reshape_time', 'lstm'].includes(n.op)).map((n) => n.shape)).toEqual([[25, 320], [64]]);
    const lc = buildGraph(spec('lstm-cnn', { conv: { filters: [16], kernel: 3, pool: 2 } }), INPUT);
    expect(lc.nodes.slice(0, 5).map((n) => `${n.op}:${n.shape.join('x')}`)).toEqual([
      'input:100x40',
      'lstm:100x64',
      'concat:100x104',
      'expand_channels:100x104x1',
      'conv2d:100x104x16',
    ]);
    const concat = lc.nodes[2];
    expect(concat.op === 'concat' && concat.inputs).toEqual(['lstm_1', 'input_1']);
    const out = lc.nodes[lc.nodes.length - 1];
    expect(out).toMatchObject({ op: 'dense', units: 1, activation: 'sigmoid' });
    expect(lc.output).toBe(out.name);
    expect(graphInput(lc)).toEqual(INPUT);
  });

  it('lists weights in Keras order, names and layout', () => {
    const g = buildGraph(spec('cnn-lstm', { batch_norm: true }), INPUT);
    expect(weightSpecs(g).map((w) => `${w.name}:${w.shape.join('x')}${w.trainable ? '' : ' (frozen)'}`)).toEqual([
      'conv2d_1/kernel:3x3x1x16',
      'conv2d_1/bias:16',
      'batch_normalization_1/gamma:16',
      'batch_normalization_1/beta:16',
      'batch_normalization_1/moving_mean:16 (frozen)',
      'batch_normalization_1/moving_variance:16 (frozen)',
      'conv2d_2/kernel:3x3x16x32',
      'conv2d_2/bias:32',
      'batch_normalization_2/gamma:32',
      'batch_normalization_2/beta:32',
      'batch_normalization_2/moving_mean:32 (frozen)',
      'batch_normalization_2/moving_variance:32 (frozen)',
      'lstm_1/kernel:320x256',
      'lstm_1/recurrent_kernel:64x256',
      'lstm_1/bias:256',
      'dense_1/kernel:64x64',
      'dense_1/bias:64',
      'dense_2/kernel:64x1',
      'dense_2/bias:1',
    ]);
    // Keras counts the moving statistics in countParams() but not in trainable params.
    expect(paramCount(g)).toEqual({ total: 107_585 + 4 * 48, trainable: 107_585 + 2 * 48 });
  });

  it('takes every size from the spec', () => {
    const g = buildGraph(spec('cnn', { conv: { filters: [8, 8, 8], kernel: 5, pool: 3 }, dense: { units: 10 } }), { frames: 300, coeffs: 40 });
    // 300x40 → 100x13 → 33x4 → 11x1, 8 channels: flatten 88
    expect(g.nodes.find((n) => n.op === 'flatten')?.shape).toEqual([88]);
    expect(paramCount(g).total).toBe(5 * 5 * 1 * 8 + 8 + 2 * (5 * 5 * 8 * 8 + 8) + 88 * 10 + 10 + 10 + 1);
  });

  it('rejects specs that do not fit', () => {
    expect(() => buildGraph(spec('cnn', { conv: { filters: [4, 4, 4, 4, 4, 4], kernel: 3, pool: 2 } }), { frames: 100, coeffs: 40 })).toThrow(GraphError);
    expect(() => buildGraph(spec('cnn', { conv: { filters: [], kernel: 3, pool: 2 } }), INPUT)).toThrow(/filters/);
    expect(() => buildGraph(spec('cnn', { dropout: 1 }), INPUT)).toThrow(/dropout/);
    expect(() => buildGraph(spec('cnn-lstm', { lstm: { units: 0 } }), INPUT)).toThrow(/lstm.units/);
  });

  it('is plain JSON', () => {
    const g = buildGraph(spec('lstm-cnn'), INPUT);
    expect(JSON.parse(JSON.stringify(g))).toEqual(g);
  });
});
