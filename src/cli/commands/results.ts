import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT } from '../../errors.ts';
import { openProject } from '../../runner/project.ts';
import { resultsMarkdown } from '../../report/results.ts';
import type { Output } from '../output.ts';
import { defaultSpecFiles } from '../specArgs.ts';
import { runSpecs } from './run.ts';

/**
 * `xp results [specs...] --out docs/results.md`: run every spec (default: experiments/*.yaml, then
 * experiments/ablations/*.yaml; finished stages come from the
 * cache, so a regeneration only computes what changed) and write their results as one markdown
 * document (report/results.ts). Prints it when there is no --out. Nothing is written unless every
 * run finished.
 */
export async function resultsCommand(files: string[], options: { set: string[]; out?: string; json: boolean }, io: Output, argv: string[]): Promise<number> {
  const project = openProject();
  const targets = files.length ? files : [...defaultSpecFiles(project.root), ...defaultSpecFiles(project.root, path.join('experiments', 'ablations'))];
  const { exitCode, results } = await runSpecs(targets, { set: options.set, json: false }, io, argv);
  if (exitCode !== EXIT.ok) {
    io.err(`xp results: not every run finished (exit ${exitCode}); nothing written`);
    return exitCode;
  }
  const rows = results.map((result, i) => ({ file: path.relative(project.root, path.resolve(project.root, targets[i])), record: result.record }));
  const last = rows[rows.length - 1]?.record;
  const markdown = resultsMarkdown(rows, {
    command: ['xp', ...argv].join(' '),
    commit: last?.git.commit ?? null,
    dirty: last?.git.dirty ?? false,
    date: new Date().toISOString().slice(0, 10),
  });
  if (!options.out) {
    io.out(markdown);
    return EXIT.ok;
  }
  const out = path.resolve(project.root, options.out);
  mkdirSync(path.dirname(out), { recursive: true });
  const temp = `${out}.tmp-${process.pid}`;
  writeFileSync(temp, markdown);
  renameSync(temp, out);
  io.err(`wrote ${path.relative(project.root, out)} (${rows.length} runs)`);
  return EXIT.ok;
}
