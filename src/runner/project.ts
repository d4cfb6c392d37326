import path from 'node:path';
import { LocalCache } from './cache.ts';
import { FileHasher } from './fileHash.ts';
import { RunStore } from './runStore.ts';

/** Where a project keeps its state: `.xp/` (cache, locks, stat cache, spec cache) and `runs/`, under the root. */
export interface Project {
  root: string;
  cache: LocalCache;
  runs: RunStore;
  hasher: FileHasher;
  /** Resolved specs, reused while their files are unchanged (src/spec/specCache.ts). */
  specCache: string;
}

/** The root is `XP_ROOT` if set, else the current directory: specs name data relative to it. */
export function openProject(root = process.env.XP_ROOT ?? process.cwd()): Project {
  const absolute = path.resolve(root);
  const home = path.join(absolute, '.xp');
  return {
    root: absolute,
    cache: new LocalCache(home),
    runs: new RunStore(path.join(absolute, 'runs')),
    hasher: new FileHasher(path.join(home, 'stat-cache.json')),
    specCache: path.join(home, 'spec-cache'),
  };
}
