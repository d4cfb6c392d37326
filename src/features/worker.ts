/**
 * Feature worker: reads a clip from disk and runs the whole extractClip pipeline on it, so only a
 * path goes in and only the feature matrix (transferred, not copied) comes out.
 *
 * Jobs run strictly one after another through a promise chain: the MP3 decoder must finish
 * `await reset()` before the next clip touches it (shared/notes/audio-routes.md, pitfalls).
 */
import { parentPort } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { createClipTools, extractClip } from './extractClip.ts';
import { toErrorInfo, type FromWorker, type JobMessage } from './poolProtocol.ts';

const port = parentPort;
if (!port) throw new Error('src/features/worker.ts must run in a worker thread');

const tools = await createClipTools();
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

async function handle(job: JobMessage): Promise<void> {
  try {
    const bytes = await readFile(job.path);
    const features = await extractClip(bytes, job.params, tools);
    post({ type: 'result', seq: job.seq, ok: true, features }, [features.data.buffer as ArrayBuffer]);
  } catch (error) {
    post({ type: 'result', seq: job.seq, ok: false, error: toErrorInfo(error) });
  }
}

let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: JobMessage) => {
  if (msg.type !== 'job') return;
  chain = chain.then(() => handle(msg));
});
post({ type: 'ready' });
