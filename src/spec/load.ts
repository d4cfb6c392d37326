import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from './diagnostic.ts';
import { interpolateEnv } from './interpolate.ts';
import { isPlainObject, mergeTrees } from './merge.ts';
import { applyOverrides } from './overrides.ts';
import { locationOf, parseYamlSource, type SourceTree } from './sourceTree.ts';
import { SpecCache } from './specCache.ts';
import type { LoadedSpec, Spec } from './types.ts';
import { validateSpec } from './validate.ts';

export type SpecResult = { ok: true; value: LoadedSpec } | { ok: false; diagnostics: Diagnostic[] };

export interface LoadOptions {
  overrides?: string[];
  env?: NodeJS.ProcessEnv;
  /** Paths in messages are shown relative to this directory. */
  cwd?: string;
  /** Keep resolved specs here and reuse them while their files and variables are unchanged (specCache.ts). */
  cacheDir?: string;
}

/**
 * spec file → (extends chain, deep-merged) → --set overrides → ${VAR} expansion →
 * schema validation with defaults. Every problem is collected; none stops the others
 * from being found, except that a file that is not valid YAML is not validated further.
 */
export function loadSpec(file: string, options: LoadOptions = {}): SpecResult {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? [];
  const cacheKey = { file: path.resolve(cwd, file), cwd, overrides };
  const cache = options.cacheDir === undefined ? undefined : new SpecCache(options.cacheDir);
  const cached = cache?.get(cacheKey, env);
  if (cached) return { ok: true, value: cached };

  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const absolutes: string[] = [];
  const tree = readChain(cacheKey.file, [], cwd, diagnostics, files, absolutes);
  if (!tree || diagnostics.length) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };

  const overridden = applyOverrides(tree, overrides);
  diagnostics.push(...overridden.diagnostics);
  const expanded = interpolateEnv(overridden.tree.value, overridden.tree.origins, env);
  diagnostics.push(...expanded.diagnostics);
  const value = expanded.value;
  if (isPlainObject(value)) delete value.extends;
  diagnostics.push(...validateSpec(value, overridden.tree.origins));
  if (diagnostics.length) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  const spec = value as unknown as Spec & { extends?: string };
  delete spec.extends;
  const loaded: LoadedSpec = { spec, files, overrides };
  cache?.put(cacheKey, absolutes, expanded.variables, env, loaded);
  return { ok: true, value: loaded };
}

function readChain(
  absolute: string,
  stack: string[],
  cwd: string,
  diagnostics: Diagnostic[],
  files: string[],
  absolutes: string[],
): SourceTree | undefined {
  const shown = displayPath(absolute, cwd);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    diagnostics.push({ message: `cannot read spec ${shown}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` });
    return undefined;
  }
  files.push(shown);
  absolutes.push(absolute);
  const parsed = parseYamlSource(shown, text);
  diagnostics.push(...parsed.diagnostics);
  if (parsed.diagnostics.length) return undefined;
  const { tree } = parsed;
  if (!isPlainObject(tree.value)) {
    const origin = tree.origins.get('');
    diagnostics.push({
      message: 'a spec must be a mapping of keys to values',
      location: origin ? locationOf(origin, 'value') : { file: shown, text, start: 0, end: 0 },
    });
    return undefined;
  }
  const parentRef = tree.value.extends;
  if (parentRef === undefined || parentRef === '') return tree;
  const extendsOrigin = tree.origins.get('/extends')!;
  if (typeof parentRef !== 'string') {
    diagnostics.push({ message: 'extends must be a path to another spec file', location: locationOf(extendsOrigin, 'value') });
    return undefined;
  }
  const parentAbsolute = path.resolve(path.dirname(absolute), parentRef);
  if (stack.includes(parentAbsolute) || parentAbsolute === absolute) {
    const cycle = [...stack, absolute, parentAbsolute].map((p) => displayPath(p, cwd)).join(' → ');
    diagnostics.push({ message: `extends cycle: ${cycle}`, location: locationOf(extendsOrigin, 'value') });
    return undefined;
  }
  const before = diagnostics.length;
  const parent = readChain(parentAbsolute, [...stack, absolute], cwd, diagnostics, files, absolutes);
  if (!parent) {
    // Say where the chain was entered, as the parent's own error may only name the parent.
    if (diagnostics.length === before + 1 && diagnostics[before].location === undefined) {
      diagnostics[before] = { ...diagnostics[before], location: locationOf(extendsOrigin, 'value') };
    }
    return undefined;
  }
  return mergeTrees(parent, tree);
}

export function displayPath(absolute: string, cwd: string): string {
  const relative = path.relative(cwd, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    // Files first, in name order; command-line overrides last.
    const fa = a.location?.file === '--set' ? '\uffff' : (a.location?.file ?? '');
    const fb = b.location?.file === '--set' ? '\uffff' : (b.location?.file ?? '');
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.location?.start ?? 0) - (b.location?.start ?? 0);
  });
}
