/** Messages between the feature pool (pool.ts) and its workers (worker.ts). */
import type { ClipFeatures, ClipParams } from './extractClip.ts';

/** A clip failure as data: it crosses the thread boundary and ends up in run records. */
export interface ClipErrorInfo {
  /** Error class name, e.g. 'AudioDecodeError', 'ClipError', 'Error' (with `code` 'ENOENT'), 'WorkerCrash'. */
  name: string;
  message: string;
  code?: string;
}

export interface JobMessage {
  type: 'job';
  seq: number;
  path: string;
  params: ClipParams;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; seq: number; ok: true; features: ClipFeatures }
  | { type: 'result'; seq: number; ok: false; error: ClipErrorInfo };

export function toErrorInfo(error: unknown): ClipErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}
