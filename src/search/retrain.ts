/**
 * `search.retrain_on_train_val`: the best configuration trained again on train + validation,
 * for as many epochs as the best trial kept (its best epoch) — there is no validation split
 * left to stop early on. The features are a derived feature set (in the search's scratch
 * directory) whose train split is the original train clips followed by the validation clips,
 * raw bytes copied; its normalisation statistics stay those of the original training split,
 * which are also what the eval stage applies to the test split.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { FeatureSet, POOLED_DIR, SHARD_CLIPS, ShardWriter, writeManifest, type SplitName } from '../dataset/featureSet.ts';

/** The merged feature set, and its pooled statistics merged the same way into `<dir>/pooled`. */
export function writeTrainValFeatures(source: FeatureSet, dir: string): FeatureSet {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pooled = path.join(source.dir, POOLED_DIR);
  if (existsSync(pooled)) writeTrainValFeatures(new FeatureSet(pooled), path.join(dir, POOLED_DIR));
  const { frames, coeffs } = source.manifest;
  const train = new ShardWriter(dir, 'train', frames, coeffs);
  const buffer = new Float32Array(frames * coeffs);
  for (const split of ['train', 'val'] as const) {
    const rows = source.rows(split);
    rows.forEach((row, index) => {
      readRaw(source, split, index, buffer);
      train.append(buffer, row);
    });
  }
  const empty = (split: SplitName) => new ShardWriter(dir, split, frames, coeffs).close();
  writeManifest(dir, {
    ...source.manifest,
    splits: { train: train.close(), val: empty('val'), test: empty('test') },
  });
  return new FeatureSet(dir);
}

/** One clip's stored (un-normalised) features. */
function readRaw(source: FeatureSet, split: SplitName, index: number, out: Float32Array): void {
  const shard = source.manifest.splits[split].shards[Math.floor(index / SHARD_CLIPS)];
  const fd = openSync(path.join(source.dir, shard.file), 'r');
  try {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    readSync(fd, bytes, 0, bytes.length, (index % SHARD_CLIPS) * bytes.length);
  } finally {
    closeSync(fd);
  }
}
