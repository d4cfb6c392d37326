import { EXIT } from '../../errors.ts';
import { openProject } from '../../runner/project.ts';
import { startTrialWorker } from '../../search/bullmq.ts';
import type { Output } from '../output.ts';

export interface WorkerCommandOptions {
  redis: string;
  root?: string;
  lockMs: number;
}

/**
 * `xp worker --redis redis://host:6379`: serve search trials queued by `search.executor:
 * bullmq`, one at a time, into the project's cache (the project root is --root, else XP_ROOT,
 * else the current directory; it must be the same shared directory the search uses). Runs
 * until Ctrl-C: the first finishes the running trial, a second stops at once (the trial goes
 * back to the queue when its lock expires and another worker resumes it from its checkpoint).
 */
export async function workerCommand(options: WorkerCommandOptions, io: Output): Promise<number> {
  const project = openProject(options.root ?? process.env.XP_ROOT ?? process.cwd());
  const stamp = () => new Date().toISOString().slice(11, 19);
  const log = (line: string) => io.out(`${stamp()} ${line}`);
  const worker = await startTrialWorker({ redis: options.redis, cache: project.cache, lockMs: options.lockMs, log });
  log(`worker ${process.pid} serving trials from ${options.redis} into ${project.cache.home}`);
  let interrupts = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = () => {
      interrupts++;
      if (interrupts === 1) {
        log('stopping after the running trial (Ctrl-C again to stop now)');
        void worker.close(false).then(() => resolve(EXIT.ok));
      } else {
        log('stopping now');
        void worker.close(true).finally(() => resolve(EXIT.interrupted));
        setTimeout(() => process.exit(EXIT.interrupted), 3_000).unref();
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return stopped;
}


