import { UserError } from '../../errors.ts';
import { diffFingerprints, fingerprintKey, type Fingerprint } from '../../runner/fingerprint.ts';
import { openProject } from '../../runner/project.ts';
import type { Output } from '../output.ts';

/**
 * What a stage's key is made of, and — against the previous run of the same spec — exactly
 * which of those inputs changed ("params.n_mfcc: 40 → 64", "files.data/x.tsv: content changed").
 */
export function whyCommand(ref: string, stage: string | undefined, options: { json: boolean }, io: Output): number {
  const { runs } = openProject();
  const record = runs.resolve(ref);
  const stageIds = stage ? [stage] : Object.keys(record.stages);
  if (stage && !record.stages[stage]) {
    throw new UserError(`run ${record.id} has no stage "${stage}"`, [`stages: ${Object.keys(record.stages).join(', ')}`]);
  }
  const report = stageIds.map((id) => {
    const fingerprint = runs.fingerprint(record.id, id);
    const previous = runs.previous(record, id);
    const before = previous ? runs.fingerprint(previous.id, id) : undefined;
    return {
      stage: id,
      status: record.stages[id].status,
      key: fingerprint ? fingerprintKey(fingerprint) : null,
      fingerprint: fingerprint ?? null,
      previousRun: previous?.id ?? null,
      changes: fingerprint && before ? diffFingerprints(before, fingerprint) : null,
    };
  });
  if (options.json) {
    io.out(JSON.stringify({ run: record.id, stages: report }, null, 2));
    return 0;
  }
  const lines: string[] = [];
  for (const entry of report) {
    lines.push(`${entry.stage} (${entry.status})  key ${entry.key ?? '– (never fingerprinted: an upstream stage failed)'}`);
    if (entry.fingerprint) lines.push(...describeFingerprint(entry.fingerprint).map((l) => `  ${l}`));
    if (!entry.previousRun) lines.push('  no earlier run of this spec to compare with');
    else if (entry.changes && entry.changes.length === 0) lines.push(`  unchanged since ${entry.previousRun}`);
    else if (entry.changes) {
      lines.push(`  changed since ${entry.previousRun}:`);
      lines.push(...describeChanges(entry.changes).map((l) => `    ${l}`));
    }
    lines.push('');
  }
  io.out(lines.join('\n').trimEnd());
  return 0;
}

function describeFingerprint(fp: Fingerprint): string[] {
  const files = Object.entries(fp.files);
  const lines = [
    `kind ${fp.kind} v${fp.implVersion}, seed ${fp.seed ?? 'none'}`,
    `params ${JSON.stringify(fp.params)}`,
  ];
  if (Object.keys(fp.inputs).length) lines.push(`inputs ${Object.entries(fp.inputs).map(([k, v]) => `${k}=${v.slice(0, 12)}`).join(', ')}`);
  if (files.length) {
    lines.push(`files ${files.length}: ${files.slice(0, 3).map(([f, h]) => `${f} (${h.slice(0, 8)})`).join(', ')}${files.length > 3 ? ', …' : ''}`);
  }
  if (Object.keys(fp.libraries).length) lines.push(`libraries ${Object.entries(fp.libraries).map(([k, v]) => `${k}@${v}`).join(', ')}`);
  if (Object.keys(fp.environment).length) lines.push(`environment ${JSON.stringify(fp.environment)}`);
  return lines;
}

export function describeChanges(changes: { path: string; before: unknown; after: unknown }[]): string[] {
  const fileChanges = changes.filter((c) => c.path.startsWith('files.'));
  const lines = changes
    .filter((c) => !c.path.startsWith('files.'))
    .map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`);
  const shown = fileChanges.slice(0, 10).map((c) => {
    const file = c.path.slice('files.'.length);
    if (c.before === undefined) return `${file}: added`;
    if (c.after === undefined) return `${file}: removed`;
    return `${file}: content changed`;
  });
  lines.push(...shown);
  if (fileChanges.length > 10) lines.push(`… and ${fileChanges.length - 10} more files`);
  return lines;
}

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) return value.slice(0, 12);
  return JSON.stringify(value);
}
