import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../util/atomicWrite.ts';
import { sha256 } from '../util/canonicalJson.ts';
import { schemaHash } from './schema.ts';
import type { LoadedSpec } from './types.ts';

/**
 * Resolved specs, kept under `.xp/spec-cache/` so that loading an unchanged spec skips parsing
 * YAML and validating (10-20 ms of a cached `xp run`'s ~100). An entry is found by the root
 * file's path and bytes, the --set overrides, the directory paths are shown from, the schema
 * and the code that loads specs; it is used only if every file of its `extends` chain still has
 * the bytes it had and every environment variable its `${VAR}`s read still has the same value.
 * Only specs that loaded without a problem are kept: diagnostics always come from a real load.
 */
export interface SpecCacheKey {
  /** Absolute path of the spec file named on the command line. */
  file: string;
  cwd: string;
  overrides: string[];
}

interface Entry {
  /** The schema and loader code it was made with (also in its name; here for prune()). */
  made: { schema: string; loader: string };
  /** Every file of the chain (absolute path → sha256), the root included. */
  files: Record<string, string | null>;
  /** Variables the spec's `${VAR}`s read → their values then (null: unset). */
  env: Record<string, string | null>;
  loaded: LoadedSpec;
}

export class SpecCache {
  constructor(private readonly dir: string) {}

  get(key: SpecCacheKey, env: NodeJS.ProcessEnv): LoadedSpec | undefined {
    const entry = readEntry(this.entryFile(key));
    if (!entry || !filesUnchanged(entry)) return undefined;
    for (const [name, value] of Object.entries(entry.env)) if ((env[name] ?? null) !== value) return undefined;
    return entry.loaded;
  }

  /** Remove the entries that can no longer be used (a file, the schema or the loader changed); `dryRun` only lists them. */
  prune(dryRun: boolean): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => name.endsWith('.json'));
    } catch {
      return [];
    }
    const stale = names
      .map((name) => path.join(this.dir, name))
      .filter((file) => {
        const entry = readEntry(file);
        return !entry || entry.made?.schema !== schemaHash() || entry.made?.loader !== loaderDigest() || !filesUnchanged(entry);
      });
    if (!dryRun) for (const file of stale) rmSync(file, { force: true });
    return stale;
  }

  put(key: SpecCacheKey, files: string[], variables: Iterable<string>, env: NodeJS.ProcessEnv, loaded: LoadedSpec): void {
    const entry: Entry = {
      made: { schema: schemaHash(), loader: loaderDigest() },
      files: Object.fromEntries(files.map((file) => [file, fileHash(file)])),
      env: Object.fromEntries([...variables].map((name) => [name, env[name] ?? null])),
      loaded,
    };
    const text = JSON.stringify(entry);
    // Only what JSON gives back unchanged (a YAML `.inf` would come back as null).
    if (!isDeepStrictEqual((JSON.parse(text) as Entry).loaded, loaded)) return;
    try {
      writeFileAtomic(this.entryFile(key), text);
    } catch {
      /* a read-only project: specs load as without the cache */
    }
  }

  /** The entry's name: the key's fields, the root file's bytes, the schema and the loader's code. */
  private entryFile(key: SpecCacheKey): string {
    const name = sha256(JSON.stringify([key.file, key.cwd, key.overrides, fileHash(key.file), schemaHash(), loaderDigest()]));
    return path.join(this.dir, `${name}.json`);
  }
}

function readEntry(file: string): Entry | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Entry;
  } catch {
    return undefined;
  }
}

function filesUnchanged(entry: Entry): boolean {
  return Object.entries(entry.files).every(([file, hash]) => fileHash(file) === hash);
}

function fileHash(file: string): string | null {
  try {
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}

let loaderCode: string | undefined;

/**
 * A digest of the code that turns spec files into a LoadedSpec: the files of this folder as
 * they are being run (src/spec/*.ts from the sources; dist/spec/*.js, built with the CLI
 * bundle, otherwise). Any change to how specs load makes every entry unreachable. The
 * generated validator is left out: the schema's hash stands for it.
 */
function loaderDigest(): string {
  if (loaderCode === undefined) {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    const names = readdirSync(dir).sort().filter((name) => /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts'));
    loaderCode = sha256(names.map((name) => `${name}\0${sha256(readFileSync(path.join(dir, name)))}`).join('\n'));
  }
  return loaderCode;
}
