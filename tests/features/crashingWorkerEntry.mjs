// The real feature worker, except that a job whose path contains "CRASH" kills the thread, as an
// out-of-memory abort in the WASM decoder would. Used by pool.test.ts.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
parentPort.on('message', (msg) => {
  if (msg.type === 'job' && msg.path.includes('CRASH')) process.exit(3);
});
await import('../../src/features/worker.ts');
