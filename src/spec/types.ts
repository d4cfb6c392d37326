/**
 * The resolved experiment spec: every default filled in, `extends` and `--set` applied,
 * `${VAR}` expanded. Mirrors schemas/experiment.schema.json (the schema is the source of
 * truth for validation and defaults; this is its TypeScript view).
 */
export type Range = [number, number];
export type Gender = 'male' | 'female';

export interface DataSpec {
  source: 'common-voice';
  root: string;
  tsv: string;
  gender_map: Record<Gender, string[]>;
  filter: { down_votes_max: number | null; up_votes_min: number | null };
  subset: { male: number; female: number; max_clips_per_speaker: number | null };
  split: { by: 'speaker' | 'clip' | 'release'; train: number; val: number; test: number; min_val_speakers: number };
  on_bad_clip: 'error' | 'skip';
}

export interface FeaturesSpec {
  kind: 'mfcc' | 'logmel';
  sample_rate: number;
  n_fft: number;
  window_ms: number;
  hop_ms: number;
  n_mels: number;
  n_mfcc: number;
  fmin: number;
  fmax: number | null;
  frames: number;
  stats: { over: 'clip' | 'frames'; percentiles: number[] };
  f0: { enabled: boolean; fmin: number; fmax: number };
  trim_silence: { enabled: boolean; top_db: number };
  normalize: 'per_coefficient' | 'none';
  resample_quality: number;
  workers: number | null;
}

export interface AugmentSpec {
  copies: number;
  pitch_semitones: Range | null;
  preserve_formants: boolean;
  speed: Range | null;
  noise_snr_db: Range | null;
}

export interface ModelSpec {
  kind: 'cnn' | 'cnn-lstm' | 'lstm-cnn' | 'logreg' | 'mlp';
  /** Optional outside resolved specs (engine tests build graphs from partial specs): absent = none. */
  time_pooling?: 'none' | 'masked_mean';
  conv: { filters: number[]; kernel: number; pool: number };
  lstm: { units: number };
  dense: { units: number };
  dropout: number;
  batch_norm: boolean;
}

export interface TrainSpec {
  epochs: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  class_weights: 'none' | 'balanced';
  early_stopping: { enabled: boolean; metric: 'val_loss' | 'val_accuracy' | 'val_f1'; patience: number; restore_best: boolean };
  reduce_on_plateau: { enabled: boolean; factor: number; patience: number; min_lr: number };
}

export interface EngineSpec {
  backend: 'auto' | 'libtorch' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
  threads: number | null;
}

export type SearchDimension =
  | unknown[]
  | { uniform: Range }
  | { log_uniform: Range }
  | { int: Range }
  | { quantized: { range: Range; step: number } };

export interface SearchSpec {
  method: 'grid' | 'random' | 'tpe' | 'asha';
  trials: number;
  parallel: number;
  executor: 'local' | 'bullmq';
  redis: string;
  proposals: 'random' | 'tpe';
  objective: { metric: 'val_f1' | 'val_accuracy' | 'val_loss' | 'val_auc'; mode: 'max' | 'min' };
  asha: { min_epochs: number; reduction_factor: number };
  retrain_on_train_val: boolean;
  space: Record<string, SearchDimension>;
}

export interface EvalSpec {
  positive_class: Gender;
  bootstrap: number;
  confidence: number;
}

export interface Spec {
  name: string;
  description: string;
  seed: number;
  seeds: number[];
  data: DataSpec;
  features: FeaturesSpec;
  augment: AugmentSpec;
  model: ModelSpec;
  train: TrainSpec;
  engine: EngineSpec;
  search?: SearchSpec;
  eval: EvalSpec;
}

/** A spec as loaded: the resolved value plus where it came from. */
export interface LoadedSpec {
  spec: Spec;
  /** The spec file and every file it extends, child first (paths as given / resolved). */
  files: string[];
  /** The `--set` overrides applied, as typed. */
  overrides: string[];
}
