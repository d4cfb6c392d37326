import { formatDiagnostic } from '../../spec/diagnostic.ts';
import path from 'node:path';
import { displayPath, loadSpec } from '../../spec/load.ts';
import { EXIT, UserError } from '../../errors.ts';
import type { Output } from '../output.ts';
import { defaultSpecFiles, diagnosticJson } from '../specArgs.ts';

export interface ValidateOptions {
  set: string[];
  json: boolean;
}

/** Check specs against the schema without running anything; every problem at once. */
export function validateCommand(files: string[], options: ValidateOptions, io: Output, cwd: string): number {
  const targets = files.length ? files : defaultSpecFiles(cwd);
  if (targets.length === 0) throw new UserError('no spec files given and none in experiments/');
  const results = targets.map((file) => ({
    file: displayPath(path.resolve(cwd, file), cwd),
    result: loadSpec(file, { overrides: options.set, cwd }),
  }));
  if (options.json) {
    io.out(
      JSON.stringify(
        results.map(({ file, result }) => ({
          file,
          ok: result.ok,
          diagnostics: result.ok ? [] : result.diagnostics.map(diagnosticJson),
        })),
        null,
        2,
      ),
    );
  } else {
    for (const { file, result } of results) {
      if (result.ok) io.out(`ok  ${file}`);
      else {
        io.err(result.diagnostics.map(formatDiagnostic).join('\n'));
        io.err(`${result.diagnostics.length} problem${result.diagnostics.length === 1 ? '' : 's'} in ${file}`);
      }
    }
  }
  return results.every(({ result }) => result.ok) ? EXIT.ok : EXIT.badInput;
}
