import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, sha256 } from '../util/canonicalJson.ts';

/**
 * Everything a stage's output depends on, in a readable form. The stage key is the sha256
 * of its canonical JSON, so `xp why` can show exactly which field changed a key.
 */
export interface Fingerprint {
  kind: string;
  implVersion: number;
  params: unknown;
  seed: number | null;
  /** Upstream stage kind → its key. */
  inputs: Record<string, string>;
  /** Input file (relative to the project root when inside it) → sha256 of its content. */
  files: Record<string, string>;
  /** npm package → installed version, for packages that change the stage's output. */
  libraries: Record<string, string>;
  /** Facts resolved at run time that change the output (e.g. the training backend). */
  environment: Record<string, unknown>;
}

export function fingerprintKey(fingerprint: Fingerprint): string {
  return sha256(canonicalJson(fingerprint));
}

export interface FingerprintChange {
  /** Dotted path inside the fingerprint, e.g. "params.n_mfcc" or "files.data/cv-mini/validated.tsv". */
  path: string;
  before: unknown;
  after: unknown;
}

/** Leaf-level differences between two fingerprints ("params.n_mfcc: 40 → 64"). */
export function diffFingerprints(before: Fingerprint, after: Fingerprint): FingerprintChange[] {
  const changes: FingerprintChange[] = [];
  const visit = (a: unknown, b: unknown, at: string) => {
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
    const bothObjects = isObject(a) && isObject(b);
    if (bothObjects) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) visit(a[key], b[key], at ? `${at}.${key}` : key);
      return;
    }
    changes.push({ path: at, before: a, after: b });
  };
  visit(before, after, '');
  return changes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const versions = new Map<string, string>();

/** Installed version of an npm package of xp's, read from its package.json. */
export function libraryVersion(name: string): string {
  let version = versions.get(name);
  if (version === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      version = String(manifest.version);
    } catch {
      version = 'not-installed';
    }
    versions.set(name, version);
  }
  return version;
}

/** How an input file is named in a fingerprint: project-relative, so clones elsewhere share keys. */
export function fingerprintPath(file: string, root: string): string {
  const absolute = absolutePath(file, root);
  // path.relative, without its cost (~50 µs a call before the JIT warms up, × every input
  // file) for the usual case of a file under a normalized root.
  const base = absolutePath(root);
  const prefix = base.endsWith(path.sep) ? base : base + path.sep;
  const relative = base === root && absolute.startsWith(prefix) ? absolute.slice(prefix.length) : path.relative(root, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative.split(path.sep).join('/');
}

const NOT_NORMALIZED = /\/\/|\/\.\.?(?:\/|$)|.\/$/;

/** A relative POSIX path with no `.`/`..` segment, no empty segment and no trailing slash. */
const NOT_CLEAN_RELATIVE = /^$|^\/|(?:^|\/)\.\.?(?:\/|$)|\/\/|\/$/;

/**
 * `path.resolve(root, file)` (or `path.resolve(file)`) without its cost (~15 µs a call before
 * the JIT warms up, × every input file of a cached run) in the usual cases: `file` already
 * absolute and normalized is returned as it is, a clean relative `file` under a normalized
 * absolute `root` is appended to it. Anything else goes through path.resolve.
 */
export function absolutePath(file: string, root?: string): string {
  if (path.sep === '/') {
    if (file.charCodeAt(0) === 47) {
      if (!NOT_NORMALIZED.test(file)) return file;
    } else if (root !== undefined && root.length > 1 && root.charCodeAt(0) === 47 && !NOT_NORMALIZED.test(root) && !NOT_CLEAN_RELATIVE.test(file)) {
      return `${root}/${file}`;
    }
  }
  return root === undefined ? path.resolve(file) : path.resolve(root, file);
}

/** `path.join(dir, name)`, cheaply when `dir` came from path.join and `name` is a clean relative path. */
export function childPath(dir: string, name: string): string {
  return path.sep === '/' && !NOT_CLEAN_RELATIVE.test(name) && dir !== '' && dir !== '.' && !dir.endsWith('/') ? `${dir}/${name}` : path.join(dir, name);
}
