import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.ts';
import { loadSpec } from '../spec/load.ts';

const run = promisify(execFile);

async function git(root: string, ...args: string[]): Promise<string> {
  try {
    return (await run('git', args, { cwd: root, maxBuffer: 64 * 2 ** 20 })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new UserError(`git ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/**
 * The experiments a change touches: spec files under experiments/ that differ from `base`
 * (committed or not), plus specs whose `extends` chain includes a changed file.
 */
export async function changedSpecs(root: string, base: string): Promise<{ baseCommit: string; changed: string[] }> {
  const baseCommit = (await git(root, 'rev-parse', '--verify', `${base}^{commit}`)).trim();
  const touched = new Set(
    (await git(root, 'diff', '--name-only', baseCommit, '--', 'experiments'))
      .split('\n')
      .filter((file) => /\.ya?ml$/.test(file)),
  );
  const specs = (await git(root, 'ls-files', '--cached', '--others', '--exclude-standard', '--', 'experiments'))
    .split('\n')
    .filter((file) => /^experiments\/[^/]+\.ya?ml$/.test(file));
  const changed = specs.filter((file) => {
    if (touched.has(file)) return true;
    const loaded = loadSpec(file, { cwd: root });
    return loaded.ok && loaded.value.files.some((f) => touched.has(f));
  });
  return { baseCommit, changed: changed.sort() };
}

/**
 * The experiments/ folder as it was at `commit`, written under .xp/ci/ so the base side of a
 * comparison can be loaded (with its own `extends` chain) and run against the same data.
 */
export async function materializeExperimentsAt(root: string, commit: string): Promise<string> {
  const dir = path.join(root, '.xp', 'ci', commit);
  const files = (await git(root, 'ls-tree', '-r', '--name-only', commit, '--', 'experiments')).split('\n').filter(Boolean);
  for (const file of files) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, await git(root, 'show', `${commit}:${file}`));
  }
  return dir;
}
