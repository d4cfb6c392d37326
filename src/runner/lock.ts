import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { processAlive } from '../util/processAlive.ts';
import { InterruptedError } from '../errors.ts';

/**
 * A lock file per cache key, created with O_EXCL. The holder refreshes its mtime as a
 * heartbeat. A lock is stale when its holder is a dead process on this host (kill -9), or
 * when its heartbeat stopped (a holder on another machine sharing the cache died).
 */
const HEARTBEAT_MS = 2_000;
const STALE_AFTER_MS = 30_000;
const POLL_MS = 50;

interface Holder {
  pid: number;
  host: string;
  since: string;
}

export type Release = () => void;

export async function acquireLock(file: string, signal?: AbortSignal, onWait?: (holder: Holder) => void): Promise<Release> {
  mkdirSync(path.dirname(file), { recursive: true });
  let reported = false;
  for (;;) {
    if (signal?.aborted) throw new InterruptedError();
    const release = tryAcquire(file);
    if (release) return release;
    const holder = readHolder(file);
    if (holder && isStale(file, holder)) {
      breakLock(file, holder);
      continue;
    }
    if (holder && !reported) {
      reported = true;
      onWait?.(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function tryAcquire(file: string): Release | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  const holder: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  writeSync(fd, JSON.stringify(holder));
  closeSync(fd);
  const heartbeat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      /* lock was broken by someone who judged it stale; nothing to refresh */
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    // Only remove the file if it is still ours.
    const current = readHolder(file);
    if (current && current.pid === holder.pid && current.host === holder.host && current.since === holder.since) {
      rmSync(file, { force: true });
    }
  };
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    // Missing, or created but not yet written: treat as held and look again shortly —
    // unless it has sat empty long enough to be debris from a crash.
    try {
      const age = Date.now() - statSync(file).mtimeMs;
      return age > STALE_AFTER_MS ? { pid: -1, host: '', since: '' } : undefined;
    } catch {
      return undefined;
    }
  }
}

function isStale(file: string, holder: Holder): boolean {
  if (holder.pid === -1) return true;
  if (holder.host === hostname() && !processAlive(holder.pid)) return true;
  try {
    return Date.now() - statSync(file).mtimeMs > STALE_AFTER_MS;
  } catch {
    return false;
  }
}

/**
 * Break a stale lock under a short-lived `.breaking` directory (mkdir is atomic), and only if
 * the file still names the holder judged stale — so a fresh lock taken meanwhile survives.
 */
function breakLock(file: string, stale: Holder): void {
  const guard = `${file}.breaking`;
  try {
    mkdirSync(guard);
  } catch {
    try {
      if (Date.now() - statSync(guard).mtimeMs > STALE_AFTER_MS) rmSync(guard, { recursive: true, force: true });
    } catch {
      /* gone already */
    }
    return;
  }
  try {
    const current = readHolder(file);
    if (current && current.pid === stale.pid && current.since === stale.since && current.host === stale.host) {
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}
