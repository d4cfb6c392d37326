/**
 * Distributed trials for real: a redis-server on a free port, two `xp worker` processes, a
 * search on the BullMQ executor, and one worker killed (SIGKILL) in the middle of a trial.
 * Skipped, saying why, only when redis-server is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCache } from '../../src/runner/cache.ts';
import type { RunEvent } from '../../src/runner/events.ts';
import { BullmqExecutor } from '../../src/search/bullmq.ts';
import { runSearch, type SearchOutcome } from '../../src/search/driver.ts';
import { InProcessExecutor, type TrialExecutor } from '../../src/search/executor.ts';
import { parseSpace } from '../../src/search/space.ts';
import { TRIAL_KIND } from '../../src/search/trial.ts';
import type { Spec } from '../../src/spec/types.ts';
import { REPO_ROOT, useTempDirs } from '../fixtures/tempProject.ts';
import { tinyFeatures, tinySpec } from './helpers.ts';

const REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
if (!REDIS) console.warn('tests/search/bullmq.test.ts: skipped — redis-server is not installed (apt-get install redis-server)');

const tempDir = useTempDirs();
const started: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(
    started.splice(0).map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

function start(command: string, args: string[], cwd = REPO_ROOT): Proc {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  return {
    child,
    output: () => text,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const began = Date.now();
        const check = () => {
          const match = text.match(pattern);
          if (match) return resolve(match);
          if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`exited before ${pattern}:\n${text}`));
          if (Date.now() - began > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${text}`));
          setTimeout(check, 20);
        };
        check();
      }),
  };
}

async function search(spec: Spec, cache: LocalCache, featuresKey: string, executor: TrialExecutor, events: RunEvent[] = []): Promise<SearchOutcome> {
  try {
    return await runSearch({
      spec,
      space: parseSpace(spec),
      cache,
      featuresKey,
      backend: 'libtorch',
      threads: 1,
      executor,
      signal: new AbortController().signal,
      emit: (event) => events.push(event),
    });
  } finally {
    await executor.close();
  }
}

const summary = (outcome: SearchOutcome) => ({
  best: outcome.best,
  trials: outcome.trials.map((t) => ({ trial: t.trial, params: t.assignment, objective: t.objective, key: t.key })),
});

describe.skipIf(!REDIS)('BullMQ executor with `xp worker` processes', () => {
  it('survives a worker killed mid-trial: every trial completes exactly once, same best as local', { timeout: 240_000 }, async () => {
    const port = await freePort();
    const redis = start(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await redis.waitFor(/Ready to accept connections/);
    const url = `redis://127.0.0.1:${port}`;

    const root = tempDir();
    const cache = new LocalCache(path.join(root, '.xp'));
    const featuresKey = await tinyFeatures(cache, { train: 640, val: 32, test: 8 });
    const spec = tinySpec({ method: 'random', trials: 4, executor: 'bullmq', redis: url, parallel: 2, space: { 'train.lr': { log_uniform: [0.001, 0.05] }, 'model.dense.units': [4, 8, 16] } }, 40);

    const worker = () => start(process.execPath, [path.join(REPO_ROOT, 'bin/xp.js'), 'worker', '--redis', url, '--root', root, '--lock-ms', '2000']);
    const workers = [worker(), worker()];
    await Promise.all(workers.map((w) => w.waitFor(/serving trials/)));

    const events: RunEvent[] = [];
    const executor = await BullmqExecutor.connect(url, 2, cache);
    const running = search(spec, cache, featuresKey, executor, events);
    // Kill whichever worker first reaches epoch 3 of a trial.
    const victim = await Promise.race(workers.map((w) => w.waitFor(/trial ([0-9a-f]{12}): epoch 3\//, 120_000).then((m) => ({ w, key: m[1] }))));
    victim.w.child.kill('SIGKILL');
    const outcome = await running;

    expect(outcome.trials.map((t) => t.status)).toEqual(['done', 'done', 'done', 'done']);
    // The killed trial was started twice (the second worker resumed it) but finished once.
    const survivor = workers.find((w) => w !== victim.w)!;
    expect(survivor.output()).toContain(`trial ${victim.key} (#`);
    const doneLines = workers.flatMap((w) => w.output().match(/trial [0-9a-f]{12}: done in/g) ?? []);
    expect(doneLines.sort()).toEqual(outcome.trials.map((t) => `trial ${t.key.slice(0, 12)}: done in`).sort());
    expect(victim.w.output()).not.toMatch(new RegExp(`trial ${victim.key}: done in`));
    // …resuming from the killed worker's last epoch checkpoint, not from scratch.
    const resumed = survivor.output().match(new RegExp(`trial ${victim.key}: done in [\\d.]+s \\((\\d+) epochs trained\\)`));
    expect(Number(resumed?.[1])).toBeLessThan(40);
    expect(cache.keys().filter((key) => cache.get(key)!.meta.kind === TRIAL_KIND)).toHaveLength(4);
    for (let trial = 0; trial < 4; trial++) {
      expect(events.filter((e) => e.type === 'trial' && e.trial === trial && e.status === 'done')).toHaveLength(1);
    }

    // The same search on the local executor, in a fresh cache: identical trials and best.
    const local = new LocalCache(path.join(tempDir(), '.xp'));
    await tinyFeatures(local, { train: 640, val: 32, test: 8 });
    const reference = await search({ ...spec, search: { ...spec.search!, executor: 'local' } }, local, featuresKey, new InProcessExecutor(local));
    expect(summary(outcome)).toEqual(summary(reference));
  });

  it('says clearly when Redis cannot be reached', async () => {
    const port = await freePort();
    const cache = new LocalCache(path.join(tempDir(), '.xp'));
    await expect(BullmqExecutor.connect(`redis://127.0.0.1:${port}`, 1, cache)).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  }, 30_000);
});
