import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { formatDiagnostic, lineAndColumn, type Diagnostic } from '../spec/diagnostic.ts';
import { loadSpec } from '../spec/load.ts';
import type { LoadedSpec } from '../spec/types.ts';

/** `xp validate` / `xp run` with no spec argument: every experiments/*.yaml under the root (or another folder). */
export function defaultSpecFiles(root: string, folder = 'experiments'): string[] {
  const dir = path.join(root, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(folder, name));
}

/** Load every spec, or throw one UserError that lists every problem in every file. */
export function loadSpecsOrThrow(files: string[], overrides: string[], cwd: string, cacheDir?: string): LoadedSpec[] {
  const loaded: LoadedSpec[] = [];
  const problems: Diagnostic[] = [];
  for (const file of files) {
    const result = loadSpec(file, { overrides, cwd, cacheDir });
    if (result.ok) loaded.push(result.value);
    else problems.push(...result.diagnostics);
  }
  if (problems.length) {
    throw new UserError(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the spec${files.length === 1 ? '' : 's'}`,
      problems.map(formatDiagnostic),
    );
  }
  return loaded;
}

export function diagnosticJson(diagnostic: Diagnostic) {
  const location = diagnostic.location;
  const position = location && location.file !== '--set' ? lineAndColumn(location.text, location.start) : undefined;
  return {
    file: location?.file ?? null,
    line: position?.line ?? null,
    column: position?.column ?? null,
    message: diagnostic.message,
    hint: diagnostic.hint ?? null,
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
