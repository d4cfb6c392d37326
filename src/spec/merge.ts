import type { SourceTree } from './sourceTree.ts';

/**
 * `extends` semantics: objects merge key by key, recursively; anything else in `over`
 * (scalars, lists, null) replaces what `base` had at that path — lists are never
 * concatenated, so a child can shorten one.
 */
export function mergeTrees(base: SourceTree, over: SourceTree): SourceTree {
  const origins = new Map(base.origins);
  const value = mergeValue(base.value, over.value, '', origins, over);
  for (const [path, origin] of over.origins) origins.set(path, origin);
  return { value, origins };
}

function mergeValue(
  base: unknown,
  over: unknown,
  path: string,
  origins: Map<string, unknown>,
  overTree: SourceTree,
): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const result: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
      const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      result[key] = key in base ? mergeValue(base[key], value, childPath, origins, overTree) : value;
    }
    return result;
  }
  // Replaced wholesale: the base's origins below this path no longer describe anything.
  for (const existing of [...origins.keys()]) {
    if (existing.startsWith(path + '/')) origins.delete(existing);
  }
  return over;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
