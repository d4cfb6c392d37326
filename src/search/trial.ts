/**
 * One search trial as a cache entry of its own: its key, the job that describes it (what a
 * worker process or a remote `xp worker` needs to train it), and the code that trains it —
 * cache first, then under the key's lock, so a trial is never computed twice and a job
 * delivered twice (BullMQ's at-least-once) is harmless.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { resolveBackend, type ConcreteBackend } from '../engine/backend.ts';
import type { ArtifactCache } from '../runner/cache.ts';
import { RunEvents } from '../runner/events.ts';
import { fingerprintKey, type Fingerprint } from '../runner/fingerprint.ts';
import type { FeaturesSpec, Spec } from '../spec/types.ts';
import { trainModel, type TrainValue } from '../stages/train.ts';
import type { EpochRecord } from '../train/trainLoop.ts';
import { canonicalJson } from '../util/canonicalJson.ts';
import { seed32 } from '../data/rng.ts';
import type { TrialConfig } from './space.ts';

/** Bump when a change here changes what a trial entry holds. */
export const TRIAL_IMPL_VERSION = 1;
/** Cache entry kind of trials (for `xp gc`, tests, `meta.json`). */
export const TRIAL_KIND = 'trial';

/**
 * Threads each trial trains with: `engine.threads` if set, else 1 — never derived from
 * `search.parallel` or the machine, because libtorch results depend on the thread count and a
 * trial must give the same result (and key) however many workers run and wherever they run.
 * A search parallelises across trials instead.
 */
export function trialThreads(spec: Pick<Spec, 'engine'>): number {
  return spec.engine.threads ?? 1;
}

/** Seed of a trial: from the spec seed and the trial's configuration, not its index. */
export function trialSeed(specSeed: number, config: TrialConfig): number {
  return seed32(specSeed, 'search-trial', canonicalJson(config));
}

export interface TrialJob {
  /** The trial's cache key: fingerprintKey(fingerprint). */
  key: string;
  fingerprint: Fingerprint;
  /** Trial number in its search (for messages; not part of the key). */
  trial: number;
  /** ASHA rung (0 for other methods). */
  rung: number;
  featuresKey: string;
  config: TrialConfig;
  /** Epoch budget: train up to this many epochs (train.epochs, or an ASHA rung). */
  epochs: number;
  seed: number;
  backend: ConcreteBackend;
  threads: number;
  /** Feature parameters, recorded in the saved model (not part of the key: the features key covers them). */
  features: FeaturesSpec;
  /** Key of a trial entry whose checkpoint this one continues (ASHA promotion). */
  continues: string | null;
  /** Keep the training checkpoint in the entry, so a promotion can continue it. */
  keepCheckpoint: boolean;
}

export interface TrialValue extends TrainValue {
  format: 'xp-trial/1';
  key: string;
  fingerprint: Fingerprint;
  config: TrialConfig;
  epochs: number;
  seed: number;
  threads: number;
  /** Epochs this entry's computation actually trained (excludes those continued from a checkpoint). */
  epochsTrained: number;
  durationMs: number;
  host: string;
  continues: string | null;
}

/** The key and fingerprint of a trial. `environment` = the backend actually used and its thread count. */
export function trialFingerprint(options: {
  featuresKey: string;
  config: TrialConfig;
  epochs: number;
  seed: number;
  backend: ConcreteBackend;
  threads: number;
}): { key: string; fingerprint: Fingerprint } {
  const fingerprint: Fingerprint = {
    kind: TRIAL_KIND,
    implVersion: TRIAL_IMPL_VERSION,
    params: { model: options.config.model, train: options.config.train, epochs: options.epochs },
    seed: options.seed,
    inputs: { features: options.featuresKey },
    files: {},
    libraries: {},
    environment: { backend: options.backend, threads: options.threads },
  };
  return { key: fingerprintKey(fingerprint), fingerprint };
}

export interface TrialHooks {
  signal: AbortSignal;
  onEpoch?(record: EpochRecord): void;
  log?(message: string): void;
}

/**
 * Produce the trial's cache entry unless it exists: `computed` says whether this call trained
 * it. Throws on failure (the caller records the trial as failed).
 */
export async function runTrialJob(cache: ArtifactCache, job: TrialJob, hooks: TrialHooks): Promise<{ value: TrialValue; computed: boolean }> {
  checkJob(job);
  const hit = cache.get<TrialValue>(job.key);
  if (hit) return { value: hit.value, computed: false };
  const features = cache.get(job.featuresKey);
  if (!features) {
    throw new Error(
      `the features artifact ${job.featuresKey.slice(0, 12)} is not in this machine's cache (${describeCache(cache)}); ` +
        'workers must share the project directory (its .xp/) with the search',
    );
  }
  const release = await cache.lock(job.key, hooks.signal, () => hooks.log?.(`waiting for another process training trial ${job.key.slice(0, 12)}`));
  try {
    const winner = cache.get<TrialValue>(job.key);
    if (winner) return { value: winner.value, computed: false };
    const started = Date.now();
    const scratch = cache.scratch(job.key);
    const checkpoint = path.join(scratch, 'checkpoint');
    if (job.continues && !existsSync(path.join(checkpoint, 'state.json')) && !existsSync(path.join(`${checkpoint}.old`, 'state.json'))) {
      const from = cache.get(job.continues);
      const source = from && path.join(from.dir, 'checkpoint');
      if (!source || !existsSync(source)) throw new Error(`trial ${job.key.slice(0, 12)} continues ${job.continues.slice(0, 12)}, whose checkpoint is not in the cache`);
      rmSync(checkpoint, { recursive: true, force: true });
      cpSync(source, checkpoint, { recursive: true });
    }
    const startEpoch = checkpointEpoch(checkpoint);
    const events = new RunEvents();
    events.on((event) => {
      if (event.type === 'metrics' && event.series === 'epoch') hooks.onEpoch?.({ epoch: event.step, ...event.values } as EpochRecord);
    });
    const spec = {
      engine: { backend: job.backend, threads: job.threads },
      features: job.features,
      model: job.config.model,
      train: job.config.train,
    };
    const entry = await cache.put<TrialValue>(job.key, TRIAL_KIND, async (dir) => {
      const trained = await trainModel(
        { dir, scratch, seed: job.seed, spec, signal: hooks.signal, events, log: (m) => hooks.log?.(m), stageId: `trial-${job.trial}` },
        { features: { key: job.featuresKey, dir: features.dir, value: features.value } },
        job.config,
        { epochLimit: job.epochs },
      );
      if (job.keepCheckpoint) cpSync(checkpoint, path.join(dir, 'checkpoint'), { recursive: true });
      const value: TrialValue = {
        format: 'xp-trial/1',
        key: job.key,
        fingerprint: job.fingerprint,
        config: job.config,
        epochs: job.epochs,
        seed: job.seed,
        threads: job.threads,
        ...trained,
        epochsTrained: Math.max(0, trained.history.length - startEpoch),
        durationMs: Date.now() - started,
        host: hostname(),
        continues: job.continues,
      };
      return { value };
    });
    rmSync(scratch, { recursive: true, force: true });
    return { value: entry.value, computed: true };
  } finally {
    release();
  }
}

/** A job from another process or machine must describe exactly the key it claims, built by this code. */
function checkJob(job: TrialJob): void {
  if (job.fingerprint.implVersion !== TRIAL_IMPL_VERSION) {
    throw new Error(`trial job built by another xp version (trial implVersion ${job.fingerprint.implVersion}, this worker has ${TRIAL_IMPL_VERSION})`);
  }
  const expected = trialFingerprint({ featuresKey: job.featuresKey, config: job.config, epochs: job.epochs, seed: job.seed, backend: job.backend, threads: job.threads });
  if (expected.key !== job.key || fingerprintKey(job.fingerprint) !== job.key) throw new Error(`trial job ${job.key.slice(0, 12)}: its key does not match what it describes`);
  const available = resolveBackend(job.backend).name;
  if (available !== job.fingerprint.environment.backend) throw new Error(`trial needs backend ${String(job.fingerprint.environment.backend)}, this worker has ${available}`);
}

function checkpointEpoch(dir: string): number {
  for (const candidate of [dir, `${dir}.old`]) {
    try {
      const state = JSON.parse(readFileSync(path.join(candidate, 'state.json'), 'utf8')) as { epoch?: number };
      return state.epoch ?? 0;
    } catch {
      /* none here */
    }
  }
  return 0;
}

function describeCache(cache: ArtifactCache): string {
  const home = (cache as { home?: string }).home;
  return home ?? 'its cache';
}
