// Types for scripts/dist-stamp.cjs (plain JavaScript, so bin/xp.js can load it before any
// TypeScript loader), for TypeScript callers such as bench/noop-rerun.ts.
export declare const REPO: string;
export declare const SRC: string;
export declare const DIST: string;
export declare const STAMP_FILE: string;
export interface DistStamp {
  version: number;
  /** Per-file path/size/mtime/ctime/inode listing; null when the build saw racily recent files. */
  stat: string | null;
  /** sha256 over every input file's path and bytes. */
  content: string;
}
export declare function inputFiles(): string[];
export declare function statSnapshot(files?: string[]): { listing: string; newestMs: number };
export declare function contentDigest(files?: string[]): string;
export declare function currentStamp(): DistStamp;
export declare function readStamp(dist?: string): DistStamp | null;
export declare function distState(dist?: string): 'fresh' | 'stale' | 'missing';
