/**
 * Distributed trials: `search.executor: bullmq`. The search enqueues each trial as a BullMQ
 * job on Redis (`search.redis`); `xp worker --redis …` processes on any machine that shares
 * the project directory (its `.xp/` cache) train them into the cache.
 *
 * Delivery is at least once — a worker killed mid-trial loses its lock, BullMQ hands the job
 * to another worker after the lock expires, and that one resumes from the trial's last epoch
 * checkpoint — so processing is idempotent by trial key: the job id *is* the trial key (a
 * trial queued twice is one job), a worker checks the cache first and trains under the key's
 * lock, and the search reads the result from the cache, not from the job.
 */
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { UserError } from '../errors.ts';
import type { ArtifactCache } from '../runner/cache.ts';
import type { EpochRecord } from '../train/trainLoop.ts';
import { describeError, type TrialExecutor, type TrialRunHooks, type TrialRunResult } from './executor.ts';
import { runTrialJob, type TrialJob } from './trial.ts';

export const TRIAL_QUEUE = 'xp-trials';
const CONNECT_TIMEOUT_MS = 10_000;
const POLL_MS = 1_000;
const MAX_REQUEUES = 3;

type Progress = { epoch: number; values?: Record<string, number> };

export interface RedisConnection {
  options: { url: string; maxRetriesPerRequest: null; retryStrategy(times: number): number | null };
  /** Stop reconnecting (after a failed first connection, so the process can exit). */
  giveUp(): void;
}

/**
 * Connection options for BullMQ from a redis:// URL. Reconnects forever once connected (a
 * worker outlives Redis restarts), but can be told to give up, which a failed first
 * connection does — otherwise ioredis would keep the process alive retrying.
 */
export function redisConnection(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`not a Redis URL: "${url}" (expected redis://host:port)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new UserError(`not a Redis URL: "${url}" (expected redis://host:port or rediss://…)`);
  let givenUp = false;
  return {
    options: { url, maxRetriesPerRequest: null, retryStrategy: (times) => (givenUp ? null : Math.min(200 * times, 2_000)) },
    giveUp: () => {
      givenUp = true;
    },
  };
}

type Connectable = { waitUntilReady(): Promise<unknown>; disconnect(): Promise<void> };

/** Wait for the first connection of each; on failure give up and drop them all, then throw a UserError. */
async function connectAll(connection: RedisConnection, url: string, clients: Connectable[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UserError(`cannot reach Redis at ${url} (is redis-server running there?)`)), CONNECT_TIMEOUT_MS);
  });
  const readies = clients.map((client) => client.waitUntilReady());
  for (const r of readies) r.catch(() => {});
  try {
    await Promise.race([Promise.all(readies), timeout]);
  } catch (error) {
    connection.giveUp();
    await Promise.race([Promise.allSettled(clients.map((c) => c.disconnect())), new Promise((r) => setTimeout(r, 1_000))]);
    throw error instanceof UserError ? error : new UserError(`cannot reach Redis at ${url}: ${describeError(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

interface Waiter {
  job: TrialJob;
  hooks: TrialRunHooks;
  resolve(result: TrialRunResult): void;
  requeues: number;
  polling: boolean;
}

/** The search side: enqueue trials, follow them through QueueEvents (and the cache, as a fallback). */
export class BullmqExecutor implements TrialExecutor {
  private readonly waiters = new Map<string, Waiter>();
  private readonly poller: NodeJS.Timeout;

  private constructor(
    readonly slots: number,
    private readonly cache: ArtifactCache,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => {
      const computed = parseComputed(returnvalue);
      if (this.cache.has(jobId)) return this.settle(jobId, { ok: true, computed });
      // A shared file system may show the entry a moment later; after that, it is a set-up problem.
      setTimeout(() => this.settle(jobId, this.cache.has(jobId) ? { ok: true, computed } : undefined), 5_000).unref();
    });
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { ok: false, error: failedReason || 'failed on a worker' }));
    events.on('progress', ({ jobId, data }) => {
      const progress = data as Progress;
      if (typeof progress === 'object' && progress && typeof progress.epoch === 'number') {
        this.waiters.get(jobId)?.hooks.onEpoch?.({ epoch: progress.epoch, ...(progress.values ?? {}) } as EpochRecord);
      }
    });
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
  }

  static async connect(url: string, slots: number, cache: ArtifactCache): Promise<BullmqExecutor> {
    const connection = redisConnection(url);
    const queue = new Queue(TRIAL_QUEUE, { connection: connection.options });
    const events = new QueueEvents(TRIAL_QUEUE, { connection: connection.options });
    const quiet = () => {};
    queue.on('error', quiet);
    events.on('error', quiet);
    await connectAll(connection, url, [queue, events]);
    return new BullmqExecutor(slots, cache, queue, events);
  }

  async run(job: TrialJob, hooks: TrialRunHooks, signal: AbortSignal): Promise<TrialRunResult> {
    if (signal.aborted) return { ok: false, error: 'interrupted' };
    const result = new Promise<TrialRunResult>((resolve) => this.waiters.set(job.key, { job, hooks, resolve, requeues: 0, polling: false }));
    const onAbort = () => {
      // A job no worker has started is withdrawn; one being trained finishes into the cache.
      void this.queue.remove(job.key).catch(() => {});
      this.settle(job.key, { ok: false, error: 'interrupted' });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.enqueue(job);
    } catch (error) {
      this.settle(job.key, { ok: false, error: `could not queue the trial: ${describeError(error)}` });
    }
    return result.finally(() => signal.removeEventListener('abort', onAbort));
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await Promise.allSettled([this.events.close(), this.queue.close()]);
  }

  private enqueue(job: TrialJob): Promise<Job> {
    // jobId = trial key: a trial already queued (by this search before a restart, or another
    // search) is joined, not duplicated.
    return this.queue.add(`trial-${job.trial}`, job, { jobId: job.key, attempts: 1, removeOnComplete: true, removeOnFail: true });
  }

  private settle(key: string, result: TrialRunResult | undefined): void {
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    if (!result) {
      result = { ok: false, error: `a worker finished trial ${key.slice(0, 12)} but it is not in this project's cache: workers must share the project directory` };
    }
    this.waiters.delete(key);
    waiter.resolve(result);
  }

  /** Missed events: a finished trial shows up in the cache; a job that vanished is queued again. */
  private async poll(): Promise<void> {
    for (const [key, waiter] of this.waiters) {
      if (waiter.polling) continue;
      waiter.polling = true;
      try {
        if (this.cache.has(key)) {
          this.settle(key, { ok: true, computed: true });
          continue;
        }
        const state = await this.queue.getJobState(key);
        if (state !== 'unknown' || !this.waiters.has(key)) continue;
        // Gone without an event we saw (e.g. failed and removed while we were reconnecting).
        if (++waiter.requeues > MAX_REQUEUES) {
          this.settle(key, { ok: false, error: 'the trial job disappeared from the queue repeatedly' });
          continue;
        }
        await this.enqueue(waiter.job);
      } catch {
        /* Redis hiccup: try again at the next poll */
      } finally {
        waiter.polling = false;
      }
    }
  }
}

function parseComputed(returnvalue: unknown): boolean {
  try {
    const value = typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue;
    return Boolean((value as { computed?: boolean } | null)?.computed);
  } catch {
    return true;
  }
}

export interface TrialWorkerOptions {
  redis: string;
  cache: ArtifactCache;
  /**
   * How long a job's lock lasts without renewal (ms). A killed worker's trial goes to another
   * worker after about this long (checks run every lockMs too). Default 30 000.
   */
  lockMs?: number;
  log(line: string): void;
}

export interface TrialWorker {
  /** Stop taking jobs; with `force`, abandon the running trial (another worker resumes it). */
  close(force?: boolean): Promise<void>;
  readonly worker: Worker;
}

/** The `xp worker` side: one trial at a time (libtorch's thread pool is per process). */
export async function startTrialWorker(options: TrialWorkerOptions): Promise<TrialWorker> {
  const connection = redisConnection(options.redis);
  const lockMs = options.lockMs ?? 30_000;
  const controller = new AbortController();
  const short = (key: string) => key.slice(0, 12);
  const worker = new Worker<TrialJob, { computed: boolean }>(
    TRIAL_QUEUE,
    async (job) => {
      const trial = job.data;
      const started = Date.now();
      options.log(`trial ${short(trial.key)} (#${trial.trial}, up to ${trial.epochs} epochs): started`);
      try {
        const { value, computed } = await runTrialJob(options.cache, trial, {
          signal: controller.signal,
          onEpoch: (record) => {
            const { epoch, ...values } = record;
            const finite = Object.fromEntries(Object.entries(values).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
            void job.updateProgress({ epoch, values: finite } satisfies Progress).catch(() => {});
            options.log(`trial ${short(trial.key)}: epoch ${epoch}/${trial.epochs}${typeof record.val_f1 === 'number' ? ` val_f1 ${record.val_f1.toFixed(4)}` : ''}`);
          },
          log: (message) => options.log(`trial ${short(trial.key)}: ${message}`),
        });
        options.log(
          computed
            ? `trial ${short(trial.key)}: done in ${((Date.now() - started) / 1000).toFixed(1)}s (${value.epochsTrained} epochs trained)`
            : `trial ${short(trial.key)}: already in the cache`,
        );
        return { computed };
      } catch (error) {
        options.log(`trial ${short(trial.key)}: failed: ${describeError(error)}`);
        throw error;
      }
    },
    { connection: connection.options, concurrency: 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 3, autorun: false },
  );
  let connected = false;
  worker.on('error', (error) => {
    if (connected) options.log(`worker: ${describeError(error)}`);
  });
  await connectAll(connection, options.redis, [worker]);
  connected = true;
  worker.run().catch((error: unknown) => options.log(`worker stopped: ${describeError(error)}`));
  return {
    worker,
    async close(force = false) {
      if (force) controller.abort();
      await worker.close(force);
    },
  };
}
