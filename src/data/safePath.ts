/**
 * Turning a TSV `path` value into a file inside `<root>/clips/`, safely.
 *
 * A TSV is input data, possibly from a mirror or a colleague's edited copy. Its
 * `path` column must name a file *inside* clips/: an absolute path, a `..`
 * escape, or a symlink leading elsewhere would let a crafted TSV make us read
 * (and hash, decode, cache) arbitrary files. Such rows are errors, not skips,
 * because they indicate a broken or hostile dataset.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DataError } from './errors.ts';

/** Where a path came from, for error messages. */
export interface RowRef {
  /** The TSV file, as it should appear in messages. */
  file: string;
  /** 1-based line of the row. */
  line: number;
}

export type ClipCheck =
  | { status: 'ok'; file: string }
  | { status: 'missing'; file: string };

function inside(base: string, target: string): boolean {
  const rel = relative(base, target);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Lexical check only (no file system access): returns the absolute path of the
 * clip under `clipsDir`, or throws a DataError naming the row.
 */
export function resolveClipPath(clipsDir: string, clipPath: string, where: RowRef): string {
  const fail = (what: string): never => {
    throw new DataError({ file: where.file, line: where.line, message: `clip path "${clipPath}" ${what}` });
  };
  if (clipPath.length === 0) fail('is empty');
  if (clipPath.includes('\0')) fail('contains a NUL byte');
  if (isAbsolute(clipPath)) fail('is absolute (must be relative to clips/)');
  const base = resolve(clipsDir);
  const target = resolve(base, clipPath);
  if (!inside(base, target)) fail('escapes clips/');
  return target;
}

/**
 * Full check: lexical, then on disk. Symlinks are followed and the real path
 * must still lie inside the real clips/ folder (which may itself be a symlink,
 * e.g. to a bigger disk). A missing file is not an error here: the caller
 * decides whether missing clips are fatal.
 */
export class ClipPathChecker {
  private realBase: Promise<string> | undefined;

  constructor(readonly clipsDir: string) {}

  async check(clipPath: string, where: RowRef): Promise<ClipCheck> {
    const target = resolveClipPath(this.clipsDir, clipPath, where);
    // clips/ itself is resolved once: it may legitimately be a symlink.
    this.realBase ??= realpath(this.clipsDir);
    const realBase = await this.realBase;
    const escape = (dest: string): never => {
      throw new DataError({
        file: where.file,
        line: where.line,
        message: `clip path "${clipPath}" resolves outside clips/ through a symlink (${dest})`,
      });
    };
    let real: string;
    try {
      real = await realpath(target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // realpath also fails on a dangling link; one pointing outside is still an
      // escape attempt, so resolve it one level by hand before calling it missing.
      const link = await lstat(target).catch(() => undefined);
      if (link?.isSymbolicLink()) {
        const dest = resolve(dirname(target), await readlink(target));
        if (!inside(realBase, dest) && !inside(resolve(this.clipsDir), dest)) escape(dest);
      }
      return { status: 'missing', file: target };
    }
    if (!inside(realBase, real)) escape(real);
    return { status: 'ok', file: target };
  }
}

/** One-off form of {@link ClipPathChecker.check}. */
export function checkClipPath(clipsDir: string, clipPath: string, where: RowRef): Promise<ClipCheck> {
  return new ClipPathChecker(clipsDir).check(clipPath, where);
}
