import { suggest, type Diagnostic } from './diagnostic.ts';
import { isPlainObject } from './merge.ts';
import { allowedTypes, experimentSchema, schemaAt } from './schema.ts';
import { pointer, type SourceTree } from './sourceTree.ts';
import { yaml } from './yamlLibrary.ts';

/**
 * Apply `--set a.b.c=value` overrides. The value is typed by the schema at that path:
 * YAML syntax gives numbers, booleans, null and `[lists]`; where the schema wants a string
 * the raw text is kept, so `--set name=007` stays "007". Unknown paths are errors.
 */
export function applyOverrides(tree: SourceTree, overrides: string[]): { tree: SourceTree; diagnostics: Diagnostic[] } {
  const { schema } = experimentSchema();
  const diagnostics: Diagnostic[] = [];
  let value = structuredClone(tree.value) as Record<string, unknown>;
  const origins = new Map(tree.origins);
  for (const text of overrides) {
    const at = (start: number, end: number) => ({ file: '--set', text, start, end });
    const eq = text.indexOf('=');
    if (eq <= 0) {
      diagnostics.push({ message: 'expected path=value, e.g. --set train.lr=0.0005', location: at(0, text.length) });
      continue;
    }
    const dotted = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1);
    const path = splitPath(dotted);
    const found = schemaAt(schema, path);
    if (!found) {
      diagnostics.push({ message: `unknown spec path "${dotted}"`, hint: hintFor(path), location: at(0, eq) });
      continue;
    }
    const types = allowedTypes(schema, found.schema);
    let parsed: unknown;
    try {
      parsed = raw === '' ? '' : yaml().parse(raw);
    } catch {
      parsed = raw;
    }
    if (types.has('string') && typeof parsed !== 'string' && parsed !== null) parsed = raw;
    if (types.has('string') && parsed === null && !types.has('null')) parsed = raw;
    value = setAt(value, path, parsed);
    const key = pointer(path);
    for (const existing of [...origins.keys()]) if (existing.startsWith(key + '/')) origins.delete(existing);
    origins.set(key, { file: '--set', text, key: [0, eq], value: [eq + 1, text.length] });
  }
  return { tree: { value, origins }, diagnostics };
}

/** `search.space.model.lstm.units` → ['search','space','model.lstm.units']: map keys may contain dots. */
function splitPath(dotted: string): string[] {
  const parts = dotted.split('.');
  const { schema } = experimentSchema();
  for (let i = 1; i <= parts.length; i++) {
    const found = schemaAt(schema, parts.slice(0, i));
    if (found && found.consumed === i && i < parts.length && typeof found.schema.additionalProperties === 'object' && !found.schema.properties) {
      return [...parts.slice(0, i), parts.slice(i).join('.')];
    }
  }
  return parts;
}

function setAt(root: Record<string, unknown>, path: string[], leaf: unknown): Record<string, unknown> {
  let current = root;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(current[key])) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  current[path[path.length - 1]] = leaf;
  return root;
}

function hintFor(path: string[]): string | undefined {
  const { schema } = experimentSchema();
  for (let n = path.length - 1; n >= 0; n--) {
    const parent = schemaAt(schema, path.slice(0, n));
    const keys = Object.keys(parent?.schema.properties ?? {});
    if (keys.length === 0) continue;
    const near = suggest(path[n], keys);
    if (near) return `did you mean "${[...path.slice(0, n), near].join('.')}"?`;
    return `${path.slice(0, n).join('.') || 'the spec'} has: ${keys.join(', ')}`;
  }
  return undefined;
}
