import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { fast } from '../util/fast.ts';
import { absolutePath } from './fingerprint.ts';

/**
 * Content hashes of input files, never mtimes. Hashing 11,000 clips on every run would
 * cost seconds, so a stat cache remembers (path, size, mtime, ctime, inode) → sha256 and an
 * unchanged file costs one stat. ctime is in the entry because a tool can write new bytes
 * and then restore the old mtime (touch -d, rsync -t); it cannot restore ctime.
 */
interface Entry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

export class FileHasher {
  private entries: Record<string, Entry> = {};
  private dirty = false;

  constructor(private readonly cacheFile: string | null) {
    if (cacheFile) {
      try {
        this.entries = JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, Entry>;
      } catch {
        this.entries = {};
      }
    }
  }

  /**
   * The sha256 of each file, in order. Files whose stats changed are read a few at a time.
   * A missing file rejects with Node's ENOENT error, whose `path` names it. (The stats are
   * synchronous: a few hundred async ones cost twice as much in a short-lived process.)
   */
  async hashAll(files: readonly string[]): Promise<string[]> {
    const absolutes = files.map((file) => absolutePath(file));
    const stats = statAll(absolutes);
    const hashes = absolutes.map((absolute, i) => {
      const known = this.entries[absolute];
      const s = stats[i];
      const same = known && known.size === s.size && known.mtimeMs === s.mtimeMs && known.ctimeMs === s.ctimeMs && known.ino === s.ino;
      return same ? known.sha256 : undefined;
    });
    const changed = hashes.flatMap((hash, i) => (hash === undefined ? [i] : []));
    await inBatches(changed, HASH_CONCURRENCY, async (i) => {
      const s = stats[i];
      hashes[i] = await hashFile(absolutes[i]);
      this.entries[absolutes[i]] = { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, sha256: hashes[i] };
      this.dirty = true;
    });
    return hashes as string[];
  }

  save(): void {
    if (this.cacheFile && this.dirty) {
      // Compact: every run reads it, and indented it is twice the size.
      writeFileAtomic(this.cacheFile, JSON.stringify(this.entries));
      this.dirty = false;
    }
  }
}

interface FileStats {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The stats the stat cache compares, in one call to native/fast when it is built (a stat there is a syscall, here a Stats object with four Dates). */
function statAll(files: readonly string[]): FileStats[] {
  if (!fast) return files.map((file) => statSync(file));
  const values = fast.statMany(files);
  return files.map((file, i) =>
    // NaN: stat failed; statSync throws the error that says why, naming the file.
    Number.isNaN(values[i * 4]) ? statSync(file) : { size: values[i * 4], mtimeMs: values[i * 4 + 1], ctimeMs: values[i * 4 + 2], ino: values[i * 4 + 3] },
  );
}

/** Files read at once when their stats changed: enough to keep a disk busy, few file handles. */
const HASH_CONCURRENCY = 8;

async function inBatches<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
