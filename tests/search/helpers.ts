import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ShardWriter, writeManifest, type ClipRecord, type SplitName } from '../../src/dataset/featureSet.ts';
import { mulberry32 } from '../../src/data/rng.ts';
import { LocalCache } from '../../src/runner/cache.ts';
import { loadSpec } from '../../src/spec/load.ts';
import type { SearchSpec, Spec } from '../../src/spec/types.ts';
import { REPO_ROOT } from '../fixtures/tempProject.ts';

/** The resolved cnn-lstm-tuned spec with `search` (and anything else) replaced. */
export function tunedSpec(search: Partial<SearchSpec> = {}, overrides: string[] = []): Spec {
  const result = loadSpec(path.join(REPO_ROOT, 'experiments/cnn-lstm-tuned.yaml'), { cwd: REPO_ROOT, overrides, env: {} });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
  const spec = result.value.spec;
  spec.search = { ...spec.search!, ...search };
  return spec;
}

export const FRAMES = 12;
export const COEFFS = 6;

/**
 * A tiny, learnable features artifact put straight into a cache (no audio): male clips have a
 * positive offset on the first coefficients, female a negative one, plus noise.
 */
export async function tinyFeatures(cache: LocalCache, counts = { train: 48, val: 24, test: 8 }, seed = 1): Promise<string> {
  const key = `f${'0'.repeat(62)}${seed}`.slice(0, 64).replace(/[^0-9a-f]/g, '0');
  const rand = mulberry32(seed);
  await cache.put(key, 'features', async (dir) => {
    mkdirSync(dir, { recursive: true });
    const splits = {} as Record<SplitName, { count: number; shards: { file: string; count: number }[] }>;
    for (const split of ['train', 'val', 'test'] as const) {
      const writer = new ShardWriter(dir, split, FRAMES, COEFFS);
      for (let i = 0; i < counts[split]; i++) {
        const male = i % 2 === 0;
        const data = new Float32Array(FRAMES * COEFFS);
        for (let f = 0; f < FRAMES; f++) {
          for (let c = 0; c < COEFFS; c++) {
            const signal = c === 0 ? (male ? 0.2 : -0.2) : 0;
            data[f * COEFFS + c] = signal + (rand() - 0.5) * 2.4;
          }
        }
        const row: ClipRecord = { path: `${split}-${i}.mp3`, clientId: `s${i % 7}`, gender: male ? 'male' : 'female', validFrames: FRAMES, copy: 0, seconds: 1 };
        writer.append(data, row);
      }
      splits[split] = writer.close();
    }
    writeManifest(dir, {
      format: 'xp-features/1',
      kind: 'mfcc',
      frames: FRAMES,
      coeffs: COEFFS,
      splits,
      normalization: { kind: 'none', mean: new Array(COEFFS).fill(0), std: new Array(COEFFS).fill(1) },
    });
    return { value: { counts } };
  });
  return key;
}

/** A spec for tiny real training on tinyFeatures: small CNN, few epochs, one thread. */
export function tinySpec(search: Partial<SearchSpec>, epochs = 4): Spec {
  const spec = tunedSpec(search);
  spec.model = { ...spec.model, kind: 'cnn', conv: { filters: [4], kernel: 3, pool: 2 }, dense: { units: 8 }, dropout: 0.1, batch_norm: false };
  spec.train = { ...spec.train, epochs, batch_size: 16, lr: 0.01, early_stopping: { ...spec.train.early_stopping, enabled: false } };
  spec.engine = { ...spec.engine, threads: 1 };
  spec.features = { ...spec.features, frames: FRAMES, n_mfcc: COEFFS };
  return spec;
}
