/**
 * A local trial worker process (`search.parallel`): started by LocalProcessPool with
 * `node --import tsx` (compiled, from dist/: plain node), it trains the trials it is sent over
 * IPC, one at a time, into the cache at $XP_CACHE_HOME. It imports only what training needs,
 * so it starts quickly.
 */
import { LocalCache } from '../runner/cache.ts';
import { describeError } from './executor.ts';
import type { ChildMessage, ParentMessage } from './pool.ts';
import { runTrialJob } from './trial.ts';

const home = process.env.XP_CACHE_HOME;
if (!home || !process.send) {
  process.stderr.write('childEntry: run by LocalProcessPool only (needs XP_CACHE_HOME and an IPC channel)\n');
  process.exit(2);
}
const cache = new LocalCache(home);
const send = (message: ChildMessage) => process.send!(message);
let controller: AbortController | undefined;

// Ctrl-C reaches the whole process group: stop the running trial (its checkpoint stays for a
// resume) and let the parent decide what happens next.
const stop = () => controller?.abort();
process.on('SIGINT', stop);
process.on('SIGTERM', () => {
  stop();
  setTimeout(() => process.exit(0), 2_000).unref();
});
process.on('disconnect', () => process.exit(0));

process.on('message', (message: ParentMessage) => {
  if (message.type === 'abort') return stop();
  if (message.type !== 'run') return;
  const { job } = message;
  controller = new AbortController();
  runTrialJob(cache, job, {
    signal: controller.signal,
    onEpoch: (record) => send({ type: 'epoch', key: job.key, record }),
    log: (text) => send({ type: 'log', key: job.key, message: text }),
  }).then(
    ({ computed }) => send({ type: 'result', key: job.key, computed }),
    (error: unknown) => send({ type: 'error', key: job.key, message: describeError(error) }),
  );
});

send({ type: 'ready' });
