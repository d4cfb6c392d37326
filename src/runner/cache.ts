import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../util/processAlive.ts';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
import { acquireLock, type Release } from './lock.ts';

/** What the cache knows about an entry besides its files. */
export interface EntryMeta {
  key: string;
  kind: string;
  createdAt: string;
  durationMs: number;
  /** Other cache keys this entry's value points at (e.g. a search's trials), kept alive by gc. */
  refs: string[];
}

export interface CachedArtifact<Value = unknown> {
  key: string;
  dir: string;
  value: Value;
  meta: EntryMeta;
}

/**
 * The artifact store. Small on purpose (as in lage's cache) so a remote implementation can
 * sit behind the same four calls.
 */
export interface ArtifactCache {
  has(key: string): boolean;
  get<Value = unknown>(key: string): CachedArtifact<Value> | undefined;
  /**
   * Build an entry: `produce` writes files into a fresh temp directory and returns the value;
   * the directory is renamed into place only after everything is written, so an entry either
   * exists complete or not at all.
   */
  put<Value>(key: string, kind: string, produce: (dir: string) => Promise<{ value: Value; refs?: string[] }>): Promise<CachedArtifact<Value>>;
  /** A per-key working directory that outlives crashes (checkpoints), for resuming. */
  scratch(key: string): string;
  /** Exclusive right to compute `key` (across processes and hosts sharing the directory). */
  lock(key: string, signal?: AbortSignal, onWait?: () => void): Promise<Release>;
}

const VALUE_FILE = 'value.json';
const META_FILE = 'meta.json';

/** `.xp/cache/<key>/` entries, `.xp/tmp/` for entries being built, `.xp/locks/` for locks. */
export class LocalCache implements ArtifactCache {
  readonly entriesDir: string;
  readonly tempDir: string;
  readonly locksDir: string;

  constructor(readonly home: string) {
    this.entriesDir = path.join(home, 'cache');
    this.tempDir = path.join(home, 'tmp');
    this.locksDir = path.join(home, 'locks');
  }

  entryDir(key: string): string {
    return path.join(this.entriesDir, key);
  }

  has(key: string): boolean {
    // meta.json is written before the rename, so a directory that exists is complete.
    return existsSync(path.join(this.entryDir(key), META_FILE));
  }

  get<Value = unknown>(key: string): CachedArtifact<Value> | undefined {
    const dir = this.entryDir(key);
    try {
      const meta = JSON.parse(readFileSync(path.join(dir, META_FILE), 'utf8')) as EntryMeta;
      const value = JSON.parse(readFileSync(path.join(dir, VALUE_FILE), 'utf8')) as Value;
      return { key, dir, value, meta };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put<Value>(
    key: string,
    kind: string,
    produce: (dir: string) => Promise<{ value: Value; refs?: string[] }>,
  ): Promise<CachedArtifact<Value>> {
    const started = Date.now();
    const temp = path.join(this.tempDir, `${key}.${process.pid}.${randomBytes(4).toString('hex')}`);
    mkdirSync(temp, { recursive: true });
    try {
      const { value, refs = [] } = await produce(temp);
      const meta: EntryMeta = { key, kind, createdAt: new Date().toISOString(), durationMs: Date.now() - started, refs };
      writeJsonAtomic(path.join(temp, VALUE_FILE), value ?? null);
      writeJsonAtomic(path.join(temp, META_FILE), meta);
      mkdirSync(this.entriesDir, { recursive: true });
      try {
        renameSync(temp, this.entryDir(key));
      } catch (error) {
        // Someone else completed the same key first (without holding the lock): theirs stands.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        rmSync(temp, { recursive: true, force: true });
      }
      return this.get<Value>(key)!;
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      throw error;
    }
  }

  scratch(key: string): string {
    return path.join(this.home, 'scratch', key);
  }

  lock(key: string, signal?: AbortSignal, onWait?: () => void): Promise<Release> {
    return acquireLock(path.join(this.locksDir, `${key}.lock`), signal, onWait);
  }

  keys(): string[] {
    try {
      return readdirSync(this.entriesDir).filter((name) => /^[0-9a-f]{64}$/.test(name));
    } catch {
      return [];
    }
  }

  /** Size of an entry's files in bytes (for `xp gc`). */
  sizeOf(key: string): number {
    return directorySize(this.entryDir(key));
  }

  remove(key: string): void {
    // Rename first, so a reader never sees a half-deleted entry.
    const doomed = path.join(this.tempDir, `deleting-${key}-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.tempDir, { recursive: true });
    try {
      renameSync(this.entryDir(key), doomed);
    } catch {
      return;
    }
    rmSync(doomed, { recursive: true, force: true });
  }

  /** Temp directories left by crashed processes (kill -9 mid-stage). */
  abandonedTemps(): string[] {
    try {
      return readdirSync(this.tempDir)
        .map((name) => path.join(this.tempDir, name))
        .filter((dir) => {
          const pid = Number(path.basename(dir).split('.')[1]);
          return !(Number.isInteger(pid) && pid > 0 && processAlive(pid));
        });
    } catch {
      return [];
    }
  }
}

function directorySize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? directorySize(full) : statSync(full).size;
  }
  return total;
}
