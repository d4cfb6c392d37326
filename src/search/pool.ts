/**
 * Local worker processes for `search.parallel: N`: up to N long-lived child processes
 * (childEntry.ts through tsx; compiled: childEntry.js), each training one trial at a time with
 * the trial's own thread count (trialThreads: the same at any N, so results do not depend on N)
 * and a bounded V8 heap (`--max-old-space-size`; libtorch's native memory is not covered by
 * it). A process that dies mid-trial (crash, OOM kill) fails that trial with its exit status
 * and the tail of its stderr; a fresh process takes the next job.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EpochRecord } from '../train/trainLoop.ts';
import type { TrialExecutor, TrialRunHooks, TrialRunResult } from './executor.ts';
import type { TrialJob } from './trial.ts';

export type ParentMessage = { type: 'run'; job: TrialJob } | { type: 'abort' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'epoch'; key: string; record: EpochRecord }
  | { type: 'log'; key: string; message: string }
  | { type: 'result'; key: string; computed: boolean }
  | { type: 'error'; key: string; message: string };

/** Running compiled (dist/, scripts/build.mjs): the child needs no TypeScript loader. */
const COMPILED = import.meta.url.endsWith('.js');
const ENTRY = fileURLToPath(new URL(COMPILED ? './childEntry.js' : './childEntry.ts', import.meta.url));
const STDERR_TAIL = 4_000;

export interface PoolOptions {
  /** The cache the children write trials into (`<root>/.xp`). */
  cacheHome: string;
  /** V8 heap limit per process in MiB (default: half the machine's memory shared by the slots, 256…4096). */
  maxOldSpaceMb?: number;
  /** Threads per trial, for OMP_NUM_THREADS (libtorch also sets it per trial). */
  threads?: number;
}

interface Worker {
  process: ChildProcess;
  stderr: string;
  current?: { job: TrialJob; hooks: TrialRunHooks; resolve: (result: TrialRunResult) => void };
  exited: boolean;
}

export class LocalProcessPool implements TrialExecutor {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly maxOldSpaceMb: number;

  constructor(
    readonly slots: number,
    private readonly options: PoolOptions,
  ) {
    this.maxOldSpaceMb = options.maxOldSpaceMb ?? defaultHeapMb(slots);
  }

  /** Process ids of the live worker processes (for tests and diagnostics). */
  pids(): number[] {
    return [...this.all].filter((w) => !w.exited).map((w) => w.process.pid!);
  }

  /** Process id of the one running this trial (number in its search), if any. */
  pidOfTrial(trial: number): number | undefined {
    return [...this.all].find((w) => w.current?.job.trial === trial)?.process.pid;
  }

  run(job: TrialJob, hooks: TrialRunHooks, signal: AbortSignal): Promise<TrialRunResult> {
    if (signal.aborted) return Promise.resolve({ ok: false, error: 'interrupted' });
    let worker = this.idle.pop();
    while (worker?.exited) worker = this.idle.pop();
    worker ??= this.spawn();
    const chosen = worker;
    return new Promise<TrialRunResult>((resolve) => {
      const onAbort = () => {
        if (chosen.current?.job.key === job.key) chosen.process.send({ type: 'abort' } satisfies ParentMessage);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      chosen.current = {
        job,
        hooks,
        resolve: (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
      };
      chosen.process.send({ type: 'run', job } satisfies ParentMessage);
    });
  }

  async close(): Promise<void> {
    const exits = [...this.all].filter((w) => !w.exited).map(
      (w) =>
        new Promise<void>((resolve) => {
          w.process.once('exit', () => resolve());
          w.process.kill('SIGTERM');
          setTimeout(() => {
            if (!w.exited) w.process.kill('SIGKILL');
          }, 5_000).unref();
        }),
    );
    await Promise.all(exits);
  }

  private spawn(): Worker {
    const loader = COMPILED ? [] : ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
    const child = fork(ENTRY, [], {
      execArgv: [...loader, `--max-old-space-size=${this.maxOldSpaceMb}`],
      env: { ...process.env, XP_CACHE_HOME: this.options.cacheHome, OMP_NUM_THREADS: String(this.options.threads ?? 1) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const worker: Worker = { process: child, stderr: '', exited: false };
    this.all.add(worker);
    child.stderr!.on('data', (chunk: Buffer) => {
      worker.stderr = (worker.stderr + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on('message', (message: ChildMessage) => {
      const current = worker.current;
      if (message.type === 'ready' || !current || message.key !== current.job.key) return;
      switch (message.type) {
        case 'epoch':
          current.hooks.onEpoch?.(message.record);
          break;
        case 'log':
          current.hooks.log?.(message.message);
          break;
        case 'result':
        case 'error':
          worker.current = undefined;
          this.idle.push(worker);
          current.resolve(message.type === 'result' ? { ok: true, computed: message.computed } : { ok: false, error: message.message });
          break;
      }
    });
    child.on('exit', (code, signal) => {
      worker.exited = true;
      this.all.delete(worker);
      const current = worker.current;
      worker.current = undefined;
      if (current) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = worker.stderr.trim().split('\n').slice(-5).join('\n');
        current.resolve({ ok: false, error: `the trial's worker process ${how}${tail ? `: ${tail}` : ''}` });
      }
    });
    child.on('error', () => {
      /* reported through 'exit' */
    });
    return worker;
  }
}

function defaultHeapMb(slots: number): number {
  const share = (totalmem() / 2 ** 20) * 0.5 / Math.max(1, slots);
  return Math.round(Math.min(4096, Math.max(256, share)));
}
