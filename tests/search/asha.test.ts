/**
 * ASHA through the search driver, with an executor that writes scripted learning curves into
 * the cache instead of training: what a promotion costs, and what happens to a trial whose
 * training stopped early below its rung's budget.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalCache } from '../../src/runner/cache.ts';
import { runSearch, type SearchOutcome } from '../../src/search/driver.ts';
import type { TrialExecutor, TrialRunResult } from '../../src/search/executor.ts';
import { parseSpace } from '../../src/search/space.ts';
import { TRIAL_KIND, type TrialJob, type TrialValue } from '../../src/search/trial.ts';
import type { SearchSpec } from '../../src/spec/types.ts';
import type { EpochRecord } from '../../src/train/trainLoop.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { tinySpec } from './helpers.ts';

const tempDir = useTempDirs();

/** A scripted trial: val_f1 after each epoch, and the epoch its early stopping ends it (if any). */
interface Curve {
  f1: (epoch: number) => number;
  stopsAfter?: number;
}

/** Writes the entry a real trial would, from its curve; a promotion "resumes" the curve. */
class ScriptedExecutor implements TrialExecutor {
  readonly runs: TrialJob[] = [];
  constructor(
    private readonly cache: LocalCache,
    private readonly curves: (lr: number) => Curve,
    readonly slots = 2,
  ) {}

  async run(job: TrialJob): Promise<TrialRunResult> {
    this.runs.push(job);
    const curve = this.curves(job.config.train.lr);
    const trained = Math.min(job.epochs, curve.stopsAfter ?? Infinity);
    const from = job.continues ? this.cache.get<TrialValue>(job.continues)!.value.history.length : 0;
    const history: EpochRecord[] = Array.from({ length: trained }, (_, i) => ({
      epoch: i + 1,
      loss: 1,
      lr: job.config.train.lr,
      seconds: 0,
      samples_per_s: 0,
      val_loss: 1 - curve.f1(i + 1),
      val_accuracy: curve.f1(i + 1),
      val_f1: curve.f1(i + 1),
      val_auc: curve.f1(i + 1),
    }));
    const last = history[history.length - 1];
    await this.cache.put<TrialValue>(job.key, TRIAL_KIND, async () => ({
      value: {
        format: 'xp-trial/1',
        key: job.key,
        fingerprint: job.fingerprint,
        config: job.config,
        epochs: job.epochs,
        seed: job.seed,
        threads: job.threads,
        backend: 'libtorch',
        params: 1,
        history,
        bestEpoch: trained,
        stoppedEarly: curve.stopsAfter !== undefined && curve.stopsAfter <= job.epochs,
        val: { val_loss: last.val_loss!, val_accuracy: last.val_accuracy!, val_f1: last.val_f1!, val_auc: last.val_auc! },
        epochsTrained: trained - from,
        durationMs: 0,
        host: 'test',
        continues: job.continues,
      },
    }));
    return { ok: true, computed: true };
  }

  async close(): Promise<void> {}
}

const LRS = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008];
const SPACE: SearchSpec['space'] = { 'train.lr': LRS };

async function asha(curves: (lr: number) => Curve, asha = { min_epochs: 1, reduction_factor: 2 }, proposals: 'random' | 'tpe' = 'random', slots = 2) {
  const cache = new LocalCache(path.join(tempDir(), '.xp'));
  const spec = tinySpec({ method: 'asha', trials: LRS.length, space: SPACE, asha, proposals }, 8);
  const executor = new ScriptedExecutor(cache, curves, slots);
  const outcome: SearchOutcome = await runSearch({
    spec,
    space: parseSpace(spec),
    cache,
    featuresKey: 'f'.repeat(64),
    backend: 'libtorch',
    threads: 1,
    executor,
    signal: new AbortController().signal,
  });
  return { outcome, executor };
}

/** Better with larger lr, rising with epochs. */
const rising = (lr: number): Curve => ({ f1: (e) => 0.4 + 40 * lr * (1 - Math.exp(-e / 3)) });

describe('ASHA through the driver', () => {
  it('a promotion trains only the epochs past the checkpoint it continues', async () => {
    const { outcome, executor } = await asha(rising);
    expect(outcome.rungs).toEqual([1, 2, 4, 8]);
    for (const job of outcome.jobs) {
      const from = job.continues === null ? 0 : outcome.jobs[job.continues].historyEpochs;
      expect(job.epochsTrained).toBe(job.historyEpochs - from);
      if (job.continues !== null) expect(outcome.jobs[job.continues]).toMatchObject({ trial: job.trial, rung: job.rung - 1 });
    }
    // Every promotion was handed the key of the entry it continues.
    for (const run of executor.runs.filter((r) => r.rung > 0)) expect(run.continues).toBe(outcome.jobs.find((j) => j.trial === run.trial && j.rung === run.rung - 1)!.key);
    // The best configuration reaches the top rung, and wins.
    expect(outcome.trials[outcome.best].assignment).toEqual({ 'train.lr': 0.008 });
  });

  it('a trial that stops early below its rung is complete: carried up untrained, never pruned, eligible as best', async () => {
    // lr 0.008 is the best and stops after 1 epoch; lr 0.001 stops after 1 epoch too, poor.
    const curves = (lr: number): Curve => (lr === 0.008 ? { f1: () => 0.99, stopsAfter: 1 } : lr === 0.001 ? { f1: () => 0.1, stopsAfter: 1 } : rising(lr));
    const { outcome, executor } = await asha(curves);
    const star = outcome.trials.find((t) => t.assignment['train.lr'] === 0.008)!;
    const poor = outcome.trials.find((t) => t.assignment['train.lr'] === 0.001)!;
    // Trained once, for one epoch; its promotions carried that result without a training job.
    expect(executor.runs.filter((r) => r.config.train.lr === 0.008)).toHaveLength(1);
    const starJobs = outcome.jobs.filter((j) => j.trial === star.trial);
    expect(starJobs.map((j) => j.rung)).toEqual([0, 1, 2, 3]);
    expect(starJobs.slice(1).every((j) => j.finished === starJobs[0].index && j.epochsTrained === 0 && j.key === starJobs[0].key)).toBe(true);
    expect(star).toMatchObject({ status: 'done', complete: true, epochsTrained: 1, epochs: 1, key: starJobs[0].key, keys: [starJobs[0].key] });
    expect(outcome.trials[outcome.best].trial).toBe(star.trial);
    // The poor one was not promoted, but it is finished, not pruned.
    expect(poor).toMatchObject({ status: 'done', complete: true, rung: 0 });
    const pruned = outcome.trials.filter((t) => t.status === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    expect(pruned.every((t) => !t.complete && t.rung < outcome.rungs.length - 1)).toBe(true);
  });

  it('with TPE proposals, same jobs and results at any worker count', async () => {
    const curves = (lr: number): Curve => (lr === 0.004 ? { f1: (e) => 0.5 + e / 20, stopsAfter: 2 } : rising(lr));
    const a = await asha(curves, { min_epochs: 1, reduction_factor: 2 }, 'tpe', 1);
    const b = await asha(curves, { min_epochs: 1, reduction_factor: 2 }, 'tpe', 4);
    expect(a.outcome.jobs.some((j) => j.finished !== null)).toBe(true);
    const plain = (o: SearchOutcome) => o.jobs.map((j) => ({ trial: j.trial, rung: j.rung, key: j.key, objective: j.objective, finished: j.finished }));
    expect(plain(b.outcome)).toEqual(plain(a.outcome));
  });
});
