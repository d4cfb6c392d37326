// Types for index.cjs: the helpers of src/fast.c, or null when they are not built.
interface Fast {
  /** [size, mtimeMs, ctimeMs, ino] per path, as fs.statSync gives them; NaN where stat failed. */
  statMany(paths: readonly string[]): Float64Array;
  /** Hex sha256 of the bytes (a string as UTF-8), as node:crypto computes it. */
  sha256(data: string | Uint8Array): string;
  /** Run `file args…` in `cwd` (stdin and stderr: /dev/null): its exit status (-1: did not run) and stdout. */
  capture(file: string, args: readonly string[], cwd: string): Promise<{ status: number; stdout: string }>;
}
declare const fast: Fast | null;
export = fast;
