/**
 * Where trials run. The search stage hands a job to an executor and learns when it has
 * finished; the result itself is read from the shared cache (the trial's entry), so executors
 * only move jobs and progress around: in this process (tests), in local worker processes
 * (`search.parallel`), or as BullMQ jobs served by `xp worker` on any machine.
 */
import type { ArtifactCache } from '../runner/cache.ts';
import type { EpochRecord } from '../train/trainLoop.ts';
import { runTrialJob, type TrialJob } from './trial.ts';

export interface TrialRunHooks {
  onEpoch?(record: EpochRecord): void;
  log?(message: string): void;
}

export type TrialRunResult = { ok: true; computed: boolean } | { ok: false; error: string };

export interface TrialExecutor {
  /** Jobs it takes at once. */
  readonly slots: number;
  /** Train the job's trial into the cache; never throws for a failed trial (returns ok: false). */
  run(job: TrialJob, hooks: TrialRunHooks, signal: AbortSignal): Promise<TrialRunResult>;
  close(): Promise<void>;
}

/** Trials in the calling process, one at a time: for tests and tools; no crash isolation. */
export class InProcessExecutor implements TrialExecutor {
  readonly slots = 1;

  constructor(private readonly cache: ArtifactCache) {}

  async run(job: TrialJob, hooks: TrialRunHooks, signal: AbortSignal): Promise<TrialRunResult> {
    try {
      const { computed } = await runTrialJob(this.cache, job, { signal, onEpoch: hooks.onEpoch, log: hooks.log });
      return { ok: true, computed };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }

  async close(): Promise<void> {}
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.name === 'AbortError' ? 'interrupted' : error.message;
  return String(error);
}
