import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { openProject, type Project } from '../../runner/project.ts';
import type { RunRecord } from '../../runner/runStore.ts';
import { formatTable1, PAPER_TABLE1, table1Entries, type Table1Format } from '../../report/table1.ts';
import type { Output } from '../output.ts';
import { loadSpecsOrThrow } from '../specArgs.ts';

/**
 * The paper's Table 1 with xp's runs beside it. Each argument is a run reference (id, prefix,
 * latest, <spec>@latest) or a spec file, meaning that spec's latest run. With no arguments:
 * the latest run of every spec that has runs, the paper's specs first.
 */
export function tableCommand(refs: string[], options: { format: Table1Format | 'json' }, io: Output): number {
  const project = openProject();
  const records = refs.length ? refs.map((ref) => resolveRunOrSpec(project, ref)) : latestOfEachSpec(project);
  const entries = table1Entries(records, project.cache);
  io.out(options.format === 'json' ? JSON.stringify(entries, null, 2) : formatTable1(entries, options.format));
  return 0;
}

/** A run reference, or a spec file (by its `name`) → that spec's latest run. */
export function resolveRunOrSpec(project: Project, ref: string): RunRecord {
  const file = path.resolve(project.root, ref);
  if (/\.ya?ml$/i.test(ref) || (existsSync(file) && statSync(file).isFile())) {
    const [loaded] = loadSpecsOrThrow([ref], [], project.root);
    return project.runs.resolve(`${loaded.spec.name}@latest`);
  }
  return project.runs.resolve(ref);
}

function latestOfEachSpec(project: Project): RunRecord[] {
  const latest = new Map<string, RunRecord>();
  for (const record of project.runs.list()) latest.set(record.spec, record);
  const paperOrder = [...PAPER_TABLE1.keys()];
  const rank = (spec: string) => (paperOrder.includes(spec) ? paperOrder.indexOf(spec) : paperOrder.length);
  if (latest.size === 0) project.runs.resolve('latest'); // throws the usual "no runs yet"
  return [...latest.values()].sort((a, b) => rank(a.spec) - rank(b.spec) || (a.spec < b.spec ? -1 : 1));
}
