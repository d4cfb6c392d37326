import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * The features artifact on disk: per split, float32 shards of [clips, frames, coeffs]
 * (raw, un-normalised) plus a row table, and normalisation statistics computed from the
 * training split only. Readers normalise on the fly, so evaluation and prediction use the
 * very statistics training used.
 */
export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

export interface ClipRecord {
  /** Path relative to the corpus's clips/ folder, as in the TSV. */
  path: string;
  clientId: string;
  gender: 'male' | 'female';
  /** Frames that hold audio; the rest of the fixed-size matrix is zero padding. */
  validFrames: number;
  /** 0 for the original clip; k > 0 for the k-th augmented copy (training split only). */
  copy: number;
  /** Duration of the decoded clip in seconds (before padding or truncation). */
  seconds: number;
}

export interface ShardInfo {
  file: string;
  count: number;
}

export interface FeatureManifest {
  format: 'xp-features/1';
  kind: 'mfcc' | 'logmel';
  frames: number;
  coeffs: number;
  splits: Record<SplitName, { count: number; shards: ShardInfo[] }>;
  normalization: { kind: 'per_coefficient' | 'none'; mean: number[]; std: number[] };
}

const MANIFEST = 'manifest.json';
/** Subfolder of a features artifact holding the pooled per-clip statistics as a feature set of 1 frame. */
export const POOLED_DIR = 'pooled';
export const SHARD_CLIPS = 1024;

/** Appends clips of one split to numbered shard files. */
export class ShardWriter {
  private fd: number | undefined;
  private shards: ShardInfo[] = [];
  private inShard = 0;
  private rows: ClipRecord[] = [];

  constructor(
    private readonly dir: string,
    readonly split: SplitName,
    private readonly frames: number,
    private readonly coeffs: number,
  ) {}

  append(features: Float32Array, row: ClipRecord): void {
    if (features.length !== this.frames * this.coeffs) {
      throw new Error(`clip ${row.path}: expected ${this.frames}×${this.coeffs} features, got ${features.length}`);
    }
    if (this.fd === undefined || this.inShard === SHARD_CLIPS) this.openShard();
    writeSync(this.fd!, new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
    this.inShard++;
    this.shards[this.shards.length - 1].count++;
    this.rows.push(row);
  }

  close(): { count: number; shards: ShardInfo[] } {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    writeJson(path.join(this.dir, `${this.split}.rows.json`), this.rows);
    return { count: this.rows.length, shards: this.shards };
  }

  private openShard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    const file = `${this.split}-${String(this.shards.length).padStart(4, '0')}.f32`;
    this.fd = openSync(path.join(this.dir, file), 'w');
    this.shards.push({ file, count: 0 });
    this.inShard = 0;
  }
}

/**
 * Per-coefficient mean and standard deviation, accumulated clip by clip in float64 over the
 * frames that hold audio (zero padding would drag the mean towards zero).
 */
export class NormalizationStats {
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private frames = 0;

  constructor(private readonly coeffs: number) {
    this.sum = new Float64Array(coeffs);
    this.sumSquares = new Float64Array(coeffs);
  }

  add(data: Float32Array, validFrames: number): void {
    for (let f = 0; f < validFrames; f++) {
      for (let c = 0; c < this.coeffs; c++) {
        const v = data[f * this.coeffs + c];
        this.sum[c] += v;
        this.sumSquares[c] += v * v;
      }
    }
    this.frames += validFrames;
  }

  result(kind: 'per_coefficient' | 'none'): FeatureManifest['normalization'] {
    if (kind === 'none' || this.frames === 0) {
      return { kind: 'none', mean: new Array(this.coeffs).fill(0), std: new Array(this.coeffs).fill(1) };
    }
    const mean = Array.from(this.sum, (s) => s / this.frames);
    const std = Array.from(this.sumSquares, (s, c) => Math.sqrt(Math.max(s / this.frames - mean[c] * mean[c], 0)) || 1);
    return { kind, mean, std };
  }
}

export function writeManifest(dir: string, manifest: FeatureManifest): void {
  writeJson(path.join(dir, MANIFEST), manifest);
}

/** Random access to a features artifact, normalising as it reads. */
export class FeatureSet {
  readonly manifest: FeatureManifest;
  private readonly rowsCache = new Map<SplitName, ClipRecord[]>();
  private readonly clipFloats: number;

  constructor(readonly dir: string) {
    this.manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as FeatureManifest;
    this.clipFloats = this.manifest.frames * this.manifest.coeffs;
  }

  count(split: SplitName): number {
    return this.manifest.splits[split].count;
  }

  rows(split: SplitName): ClipRecord[] {
    let rows = this.rowsCache.get(split);
    if (!rows) {
      rows = JSON.parse(readFileSync(path.join(this.dir, `${split}.rows.json`), 'utf8')) as ClipRecord[];
      this.rowsCache.set(split, rows);
    }
    return rows;
  }

  /** Clips `indices` of a split into `out` ([indices.length, frames, coeffs]), normalised. */
  read(split: SplitName, indices: readonly number[], out = new Float32Array(indices.length * this.clipFloats)): Float32Array {
    const { shards } = this.manifest.splits[split];
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const fds = new Map<string, number>();
    try {
      indices.forEach((index, k) => {
        const shard = shards[Math.floor(index / SHARD_CLIPS)];
        if (!shard || index < 0 || index >= this.count(split)) throw new RangeError(`clip ${index} out of range for ${split}`);
        let fd = fds.get(shard.file);
        if (fd === undefined) {
          fd = openSync(path.join(this.dir, shard.file), 'r');
          fds.set(shard.file, fd);
        }
        const length = this.clipFloats * 4;
        readSync(fd, bytes, k * length, length, (index % SHARD_CLIPS) * length);
      });
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
    this.normalize(out, indices.map((i) => this.rows(split)[i].validFrames));
    return out;
  }

  /** In place; padding frames stay exactly zero, i.e. at the training mean. */
  normalize(data: Float32Array, validFrames: readonly number[]): void {
    const { mean, std, kind } = this.manifest.normalization;
    if (kind === 'none') return;
    const { frames, coeffs } = this.manifest;
    const inverse = std.map((s) => 1 / s);
    validFrames.forEach((valid, k) => {
      const base = k * frames * coeffs;
      for (let f = 0; f < frames; f++) {
        const row = base + f * coeffs;
        if (f >= valid) {
          data.fill(0, row, row + coeffs);
          continue;
        }
        for (let c = 0; c < coeffs; c++) data[row + c] = (data[row + c] - mean[c]) * inverse[c];
      }
    });
  }
}

/** The feature set a model reads: the frames, or the pooled per-clip statistics (logreg, mlp). */
export function openFeatureSet(featuresDir: string, pooled: boolean): FeatureSet {
  return new FeatureSet(pooled ? path.join(featuresDir, POOLED_DIR) : featuresDir);
}

function writeJson(file: string, value: unknown): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, JSON.stringify(value));
  } finally {
    closeSync(fd);
  }
}
