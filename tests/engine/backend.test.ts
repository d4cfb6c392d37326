import { afterEach, describe, expect, it, vi } from 'vitest';

import { UserError } from '../../src/errors.ts';
import { backendStatus, resolveBackend, type BackendName } from '../../src/engine/backend.ts';
import { buildGraph } from '../../src/engine/graph.ts';
import { libtorchAvailable } from '../../src/engine/libtorch.ts';

const avail = libtorchAvailable();

describe('backend resolution', () => {
  afterEach(() => {
    delete process.env.XP_TORCH_ADDON;
    vi.resetModules();
  });

  it.each(['tfjs-node-gpu', 'tfjs-node'] as const)('says why %s cannot be used when its package is not installed', (name) => {
    const pkg = name === 'tfjs-node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
    expect(() => resolveBackend(name)).toThrow(UserError);
    expect(() => resolveBackend(name)).toThrow(`${name} backend unavailable: ${pkg} is not installed`);
  });

  it.each(['wasm', 'cpu'] as const)('resolves %s, which ships with xp', (name) => {
    expect(resolveBackend(name).name).toBe(name);
  });

  it('rejects unknown names', () => {
    expect(() => resolveBackend('tpu' as BackendName)).toThrow(/unknown backend tpu/);
  });

  it('reports why libtorch is unavailable when the addon cannot be found', async () => {
    vi.resetModules();
    process.env.XP_TORCH_ADDON = '/nonexistent/xp_torch.node';
    const lt = await import('../../src/engine/libtorch.ts');
    const be = await import('../../src/engine/backend.ts');
    expect(lt.libtorchAvailable()).toEqual({ ok: false, reason: 'XP_TORCH_ADDON=/nonexistent/xp_torch.node does not exist' });
    expect(() => be.resolveBackend('libtorch')).toThrow('libtorch backend unavailable: XP_TORCH_ADDON=/nonexistent/xp_torch.node does not exist');
    expect(() => lt.createLibtorchModel(buildGraph({ kind: 'cnn', conv: { filters: [2], kernel: 3, pool: 2 }, lstm: { units: 2 }, dense: { units: 2 }, dropout: 0, batch_norm: false }, { frames: 4, coeffs: 4 }), { seed: 0 })).toThrow(
      /^libtorch backend unavailable: /,
    );
    // auto falls back to the always-available wasm engine, and backendStatus says why.
    expect(be.resolveBackend('auto').name).toBe('wasm');
    const status = be.backendStatus();
    expect(status.find((s) => s.name === 'libtorch')).toEqual({
      name: 'libtorch',
      ok: false,
      reason: 'XP_TORCH_ADDON=/nonexistent/xp_torch.node does not exist',
    });
  });

  it.skipIf(!avail.ok)('picks libtorch for auto when the addon loads, and trains through the backend interface', () => {
    const backend = resolveBackend('auto');
    expect(backend.name).toBe('libtorch');
    expect(backend.describe()).toMatch(/^libtorch 1\.\d+\.\d+ \(OpenMP, \d+ threads?\)$/);
    expect(backendStatus().find((s) => s.name === 'libtorch')).toEqual({ name: 'libtorch', ok: true });
    const g = buildGraph({ kind: 'cnn', conv: { filters: [2], kernel: 3, pool: 2 }, lstm: { units: 2 }, dense: { units: 3 }, dropout: 0, batch_norm: false }, { frames: 4, coeffs: 4 });
    const m = backend.createModel(g, { seed: 1 });
    const loss = m.trainStep(new Float32Array(2 * 16).fill(0.5), new Float32Array([0, 1]), 2);
    expect(loss).toBeGreaterThan(0);
    expect(m.predict(new Float32Array(16), 1)).toHaveLength(1);
    m.dispose();
  });
});
