import { rmSync } from 'node:fs';
import { openProject } from '../../runner/project.ts';
import { SpecCache } from '../../spec/specCache.ts';
import type { Output } from '../output.ts';

/**
 * Remove cache entries that no run record references (directly, or through an entry's refs,
 * such as a search's trials), temp directories left by crashed processes, and spec-cache
 * entries that can no longer be used.
 */
export function gcCommand(options: { dryRun: boolean; json: boolean }, io: Output): number {
  const { cache, runs, specCache } = openProject();
  const live = new Set<string>();
  const pending: string[] = [];
  for (const record of runs.list()) for (const stage of Object.values(record.stages)) if (stage.key) pending.push(stage.key);
  while (pending.length) {
    const key = pending.pop()!;
    if (live.has(key)) continue;
    live.add(key);
    const entry = cache.has(key) ? cache.get(key) : undefined;
    pending.push(...(entry?.meta.refs ?? []));
  }
  const doomed = cache.keys().filter((key) => !live.has(key));
  const bytes = doomed.reduce((sum, key) => sum + cache.sizeOf(key), 0);
  const temps = cache.abandonedTemps();
  const specs = new SpecCache(specCache).prune(options.dryRun);
  if (!options.dryRun) {
    for (const key of doomed) cache.remove(key);
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  }
  const verb = options.dryRun ? 'would remove' : 'removed';
  if (options.json) {
    io.out(JSON.stringify({ dryRun: options.dryRun, entries: doomed, bytes, abandonedTemps: temps, staleSpecCacheEntries: specs.length, kept: live.size }, null, 2));
  } else {
    for (const key of doomed) io.out(`${verb} ${key}`);
    io.out(`${verb} ${doomed.length} cache entr${doomed.length === 1 ? 'y' : 'ies'} (${(bytes / 2 ** 20).toFixed(1)} MiB), ${temps.length} abandoned temp dir${temps.length === 1 ? '' : 's'} and ${specs.length} stale spec-cache entr${specs.length === 1 ? 'y' : 'ies'}; ${live.size} referenced entr${live.size === 1 ? 'y' : 'ies'} kept`);
  }
  return 0;
}
