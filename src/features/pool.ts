/**
 * A worker_threads pool that runs extractClip over many clips.
 *
 * - Results come back in input order whatever order workers finish in, and each clip's features
 *   depend only on its bytes and params, so a run is bitwise identical at 1 or N workers.
 * - At most `maxInFlight` jobs are pulled from the input and not yet handed back (queued, running
 *   or finished out of order), so memory stays flat however long the job list is; the input may
 *   be a lazy (async) iterable.
 * - A clip that fails (undecodable, missing file, too short, even a worker crash on it) becomes a
 *   `{ ok: false, error }` result and the run goes on; the caller applies its on_bad_clip policy.
 *   A worker that cannot even start fails the whole run: that is a broken install, not a bad clip.
 * - An AbortSignal terminates the workers at once and makes the iterator throw the abort reason.
 *
 * Workers default to one per core (2 on the reference machine: a third adds nothing there).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ClipFeatures, ClipParams } from './extractClip.ts';
import type { ClipErrorInfo, FromWorker, JobMessage } from './poolProtocol.ts';

export type { ClipErrorInfo } from './poolProtocol.ts';

export interface FeatureJob {
  /** The caller's id for the clip; returned unchanged with its result. */
  index: number;
  path: string;
  params: ClipParams;
}

export type FeatureResult =
  | { index: number; ok: true; features: ClipFeatures }
  | { index: number; ok: false; error: ClipErrorInfo };

export interface FeaturePoolOptions {
  /** Worker threads (default: available parallelism). */
  workers?: number;
  /** Jobs taken from the input and not yet yielded (default 2 × workers). */
  maxInFlight?: number;
  /** Worker script (default: workerEntry.mjs next to this file). Tests use it to inject failures. */
  workerEntry?: URL;
}

export interface FeatureProgress {
  /** Clips finished (successes and failures). */
  done: number;
  failed: number;
  /** Known when the jobs were given as an array. */
  total: number | undefined;
}

export interface FeatureRunOptions {
  signal?: AbortSignal;
  /** Called each time a clip finishes (in completion order, not yield order). */
  onProgress?: (progress: FeatureProgress) => void;
}

const WORKER_ENTRY = new URL('./workerEntry.mjs', import.meta.url);

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Sequence number of the job it is running. */
  busy: { seq: number; path: string } | undefined;
  /** Set when we terminate it ourselves, so its exit is not a crash. */
  stopping: boolean;
  lastError: Error | undefined;
}

export class FeaturePool {
  readonly workerCount: number;
  readonly maxInFlight: number;
  private readonly workerEntry: URL;
  private slots: Slot[] = [];
  private waiters: (() => void)[] = [];
  private running = false;
  private closed = false;
  private fatal: Error | undefined;
  // Per-run state, reachable from the worker event handlers.
  private queue: { seq: number; job: FeatureJob }[] = [];
  private finished = new Map<number, FeatureResult>();
  private indexOf = new Map<number, number>(); // seq → job.index
  private onResult: ((result: FeatureResult) => void) | undefined;

  constructor(options: FeaturePoolOptions = {}) {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`FeaturePool: workers must be a positive integer, got ${workers}`);
    const maxInFlight = options.maxInFlight ?? 2 * workers;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`FeaturePool: maxInFlight must be a positive integer, got ${maxInFlight}`);
    this.workerCount = workers;
    this.maxInFlight = maxInFlight;
    this.workerEntry = options.workerEntry ?? WORKER_ENTRY;
  }

  /** Yields one result per job, in input order. One run at a time per pool. */
  async *run(jobs: Iterable<FeatureJob> | AsyncIterable<FeatureJob>, options: FeatureRunOptions = {}): AsyncGenerator<FeatureResult> {
    if (this.closed) throw new Error('FeaturePool is closed');
    if (this.running) throw new Error('FeaturePool.run: a run is already in progress');
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    this.running = true;
    this.fatal = undefined;
    const total = Array.isArray(jobs) ? jobs.length : undefined;
    const iterator: Iterator<FeatureJob> | AsyncIterator<FeatureJob> =
      Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
    let done = 0;
    let failed = 0;
    this.onResult = (result) => {
      done++;
      if (!result.ok) failed++;
      onProgress?.({ done, failed, total });
    };
    const onAbort = (): void => {
      this.stopAll();
      this.notify();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    let nextSeq = 0;
    let yieldSeq = 0;
    let exhausted = false;
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (this.fatal) throw this.fatal;
        if (this.closed) throw new Error('FeaturePool was closed during a run');
        while (!exhausted && nextSeq - yieldSeq < this.maxInFlight) {
          const next = await iterator.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          this.indexOf.set(nextSeq, next.value.index);
          this.queue.push({ seq: nextSeq++, job: next.value });
        }
        signal?.throwIfAborted();
        this.dispatch();
        const result = this.finished.get(yieldSeq);
        if (result) {
          this.finished.delete(yieldSeq);
          this.indexOf.delete(yieldSeq);
          yieldSeq++;
          yield result;
          continue;
        }
        if (exhausted && yieldSeq === nextSeq) return;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Workers still busy with this run's jobs (early break, abort, error) would post stale
      // results into the next run: stop them; fresh ones start on demand.
      for (const slot of this.slots) if (slot.busy) this.stop(slot);
      this.queue = [];
      this.finished.clear();
      this.indexOf.clear();
      this.onResult = undefined;
      this.running = false;
      for (const slot of this.slots) slot.worker.unref(); // idle workers must not keep the process alive
      await (iterator as { return?: () => unknown }).return?.();
    }
  }

  /** Live worker threads (started on demand, stopped by abort, close or an early break mid-job). */
  get liveWorkers(): number {
    return this.slots.length;
  }

  /** Terminates all workers. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = this.slots.map((slot) => this.stop(slot));
    this.notify(); // a run waiting for results ends with an error instead of hanging
    await Promise.all(exits);
  }

  private spawnUpTo(count: number): void {
    while (this.slots.length < count) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(this.workerEntry);
    const slot: Slot = { worker, ready: false, busy: undefined, stopping: false, lastError: undefined };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') {
        slot.ready = true;
        this.dispatch();
        return;
      }
      if (!slot.busy || slot.busy.seq !== msg.seq) return; // stale (should not happen: see run's finally)
      slot.busy = undefined;
      const index = this.indexOf.get(msg.seq)!;
      this.complete(msg.seq, msg.ok ? { index, ok: true, features: msg.features } : { index, ok: false, error: msg.error });
      this.dispatch();
    });
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => {
      this.slots = this.slots.filter((s) => s !== slot);
      if (slot.stopping) return;
      const why = slot.lastError ? `: ${slot.lastError.message}` : '';
      if (!slot.ready) {
        // It never got as far as loading the pipeline: every clip would fail the same way.
        this.fatal = new Error(`feature worker failed to start (exit code ${code})${why}`, { cause: slot.lastError });
        this.notify();
        return;
      }
      if (slot.busy) {
        const { seq, path } = slot.busy;
        this.complete(seq, {
          index: this.indexOf.get(seq)!,
          ok: false,
          error: { name: 'WorkerCrash', message: `feature worker exited with code ${code} while processing ${path}${why}` },
        });
      }
      this.dispatch(); // replaces the lost worker if jobs are waiting
      this.notify();
    });
    return slot;
  }

  private complete(seq: number, result: FeatureResult): void {
    this.finished.set(seq, result);
    this.onResult?.(result);
    this.notify();
  }

  /** Hands queued jobs to idle workers, starting workers (up to workerCount) while jobs wait. */
  private dispatch(): void {
    const busy = this.slots.filter((slot) => slot.busy).length;
    this.spawnUpTo(Math.min(this.workerCount, busy + this.queue.length));
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.busy || slot.stopping) continue;
      const { seq, job } = this.queue.shift()!;
      slot.busy = { seq, path: job.path };
      slot.worker.ref();
      const msg: JobMessage = { type: 'job', seq, path: job.path, params: job.params };
      slot.worker.postMessage(msg);
    }
  }

  private stop(slot: Slot): Promise<number> {
    slot.stopping = true;
    this.slots = this.slots.filter((s) => s !== slot);
    return slot.worker.terminate();
  }

  private stopAll(): void {
    for (const slot of [...this.slots]) void this.stop(slot);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** One-shot convenience: a pool for this job list, closed when the iteration ends. */
export async function* extractFeatures(
  jobs: Iterable<FeatureJob> | AsyncIterable<FeatureJob>,
  options: FeaturePoolOptions & FeatureRunOptions = {},
): AsyncGenerator<FeatureResult> {
  const pool = new FeaturePool(options);
  try {
    yield* pool.run(jobs, options);
  } finally {
    await pool.close();
  }
}
