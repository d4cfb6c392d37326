import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomicWrite.ts';
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

  async hash(file: string): Promise<string> {
    const absolute = absolutePath(file);
    const stat = statSync(absolute);
    const known = this.entries[absolute];
    if (
      known &&
      known.size === stat.size &&
      known.mtimeMs === stat.mtimeMs &&
      known.ctimeMs === stat.ctimeMs &&
      known.ino === stat.ino
    ) {
      return known.sha256;
    }
    const sha256 = await hashFile(absolute);
    this.entries[absolute] = { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, sha256 };
    this.dirty = true;
    return sha256;
  }

  save(): void {
    if (this.cacheFile && this.dirty) {
      writeJsonAtomic(this.cacheFile, this.entries);
      this.dirty = false;
    }
  }
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
