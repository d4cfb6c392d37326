/**
 * `xp diff A B`: everything that differs between two runs, for a pull-request review —
 * the resolved spec (by dotted path), which stage keys changed and which key inputs made them
 * change (from the saved fingerprints), metric deltas with both intervals, a paired test on the
 * shared test clips, the commits between the runs, environment/backend and per-stage timings.
 */
import { simpleGit } from 'simple-git';
import { bootstrapUnit } from '../eval/bootstrap.ts';
import { comparePaired, formatP, type PairedComparison } from '../eval/paired.ts';
import { welchTest } from '../eval/studentT.ts';
import { describeChanges } from '../cli/commands/why.ts';
import { formatDuration, table } from '../cli/output.ts';
import { diffFingerprints, type FingerprintChange } from '../runner/fingerprint.ts';
import type { Project } from '../runner/project.ts';
import type { RunRecord } from '../runner/runStore.ts';
import { canonicalJson } from '../util/canonicalJson.ts';
import { evalArtifacts, evalSettings, percentWithInterval, readPredictions, splitOf } from './runFacts.ts';

export interface ValueChange {
  path: string;
  a: unknown;
  b: unknown;
}

export interface StageDiff {
  stage: string;
  keyA: string | null;
  keyB: string | null;
  changed: boolean;
  /** Fingerprint leaves that differ; null when a fingerprint is missing on either side. */
  changes: FingerprintChange[] | null;
  /** Human lines: "params.n_mfcc: 40 → 64", "upstream features changed". */
  because: string[];
}

export interface MetricDiff {
  name: string;
  a: { value: number | null; lo: number | null; hi: number | null };
  b: { value: number | null; lo: number | null; hi: number | null };
  delta: number | null;
}

export type PairedOutcome =
  | { status: 'compared'; comparison: PairedComparison }
  | { status: 'not-compared'; reason: string };

export interface SeedsComparison {
  metric: string;
  a: number[];
  b: number[];
  test: { delta: number; t: number; df: number; p: number } | null;
}

export interface GitDiff {
  a: { commit: string | null; dirty: boolean; diffHash: string | null };
  b: { commit: string | null; dirty: boolean; diffHash: string | null };
  /** `git log --oneline A..B`; null when it could not be listed. */
  commits: string[] | null;
  notes: string[];
}

export interface RunDiff {
  a: RunSummary;
  b: RunSummary;
  spec: ValueChange[];
  stages: StageDiff[];
  metrics: MetricDiff[];
  paired: PairedOutcome;
  /** Both runs over several seeds: each headline metric's per-seed values compared (Welch's t test). */
  seeds: SeedsComparison[] | null;
  git: GitDiff;
  environment: ValueChange[];
  timings: { stage: string; a: { status: string; ms: number | null } | null; b: { status: string; ms: number | null } | null }[];
  totalMs: { a: number | null; b: number | null };
}

export interface RunSummary {
  id: string;
  spec: string;
  status: string;
  createdAt: string;
}

export type DiffFormat = 'text' | 'md' | 'json';

export async function diffRuns(project: Project, a: RunRecord, b: RunRecord): Promise<RunDiff> {
  return {
    a: summary(a),
    b: summary(b),
    spec: diffValues(a.resolvedSpec, b.resolvedSpec),
    stages: stageDiffs(project, a, b),
    metrics: metricDiffs(a, b),
    paired: pairedOutcome(project, a, b),
    seeds: seedsComparison(a, b),
    git: await gitDiff(project.root, a, b),
    environment: environmentDiff(project, a, b),
    timings: [...new Set([...Object.keys(a.stages), ...Object.keys(b.stages)])].map((stage) => ({
      stage,
      a: a.stages[stage] ? { status: a.stages[stage].status, ms: a.stages[stage].durationMs ?? null } : null,
      b: b.stages[stage] ? { status: b.stages[stage].status, ms: b.stages[stage].durationMs ?? null } : null,
    })),
    totalMs: { a: a.durationMs ?? null, b: b.durationMs ?? null },
  };
}

function summary(r: RunRecord): RunSummary {
  return { id: r.id, spec: r.spec, status: r.status, createdAt: r.createdAt };
}

/** Leaf differences between two JSON values by dotted path (arrays compared whole). */
export function diffValues(a: unknown, b: unknown, at = ''): ValueChange[] {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return [];
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => diffValues(a[key], b[key], at ? `${at}.${key}` : key));
  }
  return [{ path: at, a, b }];
}

function stageDiffs(project: Project, a: RunRecord, b: RunRecord): StageDiff[] {
  const stages = [...new Set([...Object.keys(a.stages), ...Object.keys(b.stages)])];
  return stages.map((stage) => {
    const keyA = a.stages[stage]?.key ?? null;
    const keyB = b.stages[stage]?.key ?? null;
    const changed = keyA !== keyB;
    const fpA = project.runs.fingerprint(a.id, stage);
    const fpB = project.runs.fingerprint(b.id, stage);
    const changes = fpA && fpB ? diffFingerprints(fpA, fpB) : null;
    let because: string[] = [];
    if (!changed) because = [];
    else if (!a.stages[stage]) because = [`only in B`];
    else if (!b.stages[stage]) because = [`only in A`];
    else if (!changes) because = [`fingerprint not saved for ${fpA ? 'B' : 'A'} (the stage never got its key)`];
    else {
      const upstream = changes.filter((c) => c.path.startsWith('inputs.')).map((c) => c.path.slice('inputs.'.length));
      const own = changes.filter((c) => !c.path.startsWith('inputs.'));
      because = describeChanges(own);
      if (upstream.length) because.push(`upstream ${upstream.join(', ')} changed`);
    }
    return { stage, keyA, keyB, changed, changes, because };
  });
}

const INTERVAL_SUFFIXES = ['_lo', '_hi'];

/** A metric's interval bounds sit beside it: `x_lo` for `x`, and `seeds.m_lo` for the seed mean `seeds.m_mean`. */
function metricDiffs(a: RunRecord, b: RunRecord): MetricDiff[] {
  const has = (name: string) => name in a.metrics || name in b.metrics;
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].filter(
    (name) => !INTERVAL_SUFFIXES.some((s) => name.endsWith(s) && (has(name.slice(0, -s.length)) || has(`${name.slice(0, -s.length)}_mean`))),
  );
  const pick = (r: RunRecord, name: string) => {
    const base = name.replace(/_mean$/, '');
    return { value: r.metrics[name] ?? null, lo: r.metrics[`${base}_lo`] ?? null, hi: r.metrics[`${base}_hi`] ?? null };
  };
  return names.map((name) => {
    const va = pick(a, name);
    const vb = pick(b, name);
    return { name, a: va, b: vb, delta: va.value !== null && vb.value !== null ? vb.value - va.value : null };
  });
}

/** Each seed's value of `metric` (eval@<seed>.<metric>), in the record's stage order. */
function perSeedValues(r: RunRecord, metric: string): number[] {
  return Object.keys(r.stages)
    .filter((id) => id.startsWith('eval@'))
    .map((id) => r.metrics[`${id}.${metric}`])
    .filter((v): v is number => typeof v === 'number');
}

function seedsComparison(a: RunRecord, b: RunRecord): SeedsComparison[] | null {
  if (typeof a.metrics['seeds.seeds'] !== 'number' || typeof b.metrics['seeds.seeds'] !== 'number') return null;
  return ['accuracy', 'f1'].map((metric) => {
    const va = perSeedValues(a, metric);
    const vb = perSeedValues(b, metric);
    return { metric, a: va, b: vb, test: welchTest(va, vb) };
  });
}

function pairedOutcome(project: Project, a: RunRecord, b: RunRecord): PairedOutcome {
  const artifactsA = evalArtifacts(project.cache, a);
  const artifactsB = evalArtifacts(project.cache, b);
  if (!artifactsA?.predictionsFile || !artifactsB?.predictionsFile) {
    const missing = [!artifactsA?.predictionsFile && 'A', !artifactsB?.predictionsFile && 'B'].filter(Boolean).join(' and ');
    return { status: 'not-compared', reason: `no eval predictions for run ${missing}` };
  }
  const settingsA = evalSettings(a);
  const settings = evalSettings(b);
  if (settingsA.positiveClass !== settings.positiveClass) {
    return { status: 'not-compared', reason: `the runs use different positive classes (${settingsA.positiveClass} vs ${settings.positiveClass})` };
  }
  try {
    const comparison = comparePaired(readPredictions(artifactsA)!, readPredictions(artifactsB)!, {
      positiveClass: settings.positiveClass,
      resamples: settings.bootstrap,
      confidence: settings.confidence,
      seed: settings.seed,
      unit: bootstrapUnit(splitOf(b) ?? 'speaker'),
    });
    return { status: 'compared', comparison };
  } catch (error) {
    return { status: 'not-compared', reason: error instanceof Error ? error.message : String(error) };
  }
}

async function gitDiff(root: string, a: RunRecord, b: RunRecord): Promise<GitDiff> {
  const side = (r: RunRecord) => ({ commit: r.git.commit, dirty: r.git.dirty, diffHash: r.git.diffHash });
  const notes: string[] = [];
  let commits: string[] | null = null;
  const ca = a.git.commit;
  const cb = b.git.commit;
  if (!ca || !cb) notes.push(`run ${!ca ? 'A' : 'B'} was not made in a git repository`);
  else if (ca === cb) {
    commits = [];
    notes.push('same commit');
  } else {
    try {
      const git = simpleGit({ baseDir: root });
      const log = (range: string) => git.raw(['log', '--oneline', '--no-decorate', range]).then((out) => out.split('\n').filter(Boolean));
      commits = await log(`${ca}..${cb}`);
      const behind = await log(`${cb}..${ca}`);
      if (behind.length) notes.push(`A has ${behind.length} commit${behind.length === 1 ? '' : 's'} that B lacks (B is not a descendant of A)`);
    } catch {
      notes.push(`commits ${ca.slice(0, 8)} or ${cb.slice(0, 8)} are not in this repository`);
    }
  }
  for (const [name, r] of [['A', a], ['B', b]] as const) {
    if (r.git.dirty) notes.push(`${name} ran with uncommitted changes (diff ${r.git.diffHash?.slice(0, 12) ?? '?'})`);
  }
  if (a.git.dirty && b.git.dirty && ca === cb) {
    notes.push(a.git.diffHash === b.git.diffHash ? 'both ran with the same uncommitted changes' : 'the uncommitted changes differ between the runs');
  }
  return { a: side(a), b: side(b), commits, notes };
}

function environmentDiff(project: Project, a: RunRecord, b: RunRecord): ValueChange[] {
  const changes = diffValues(a.environment, b.environment).map((c) => ({ ...c, path: `environment.${c.path}` }));
  const stages = [...new Set([...Object.keys(a.stages), ...Object.keys(b.stages)])];
  for (const stage of stages) {
    const envA = project.runs.fingerprint(a.id, stage)?.environment;
    const envB = project.runs.fingerprint(b.id, stage)?.environment;
    if (envA && envB) changes.push(...diffValues(envA, envB).map((c) => ({ ...c, path: `${stage}.${c.path}` })));
  }
  return changes;
}

export function formatDiff(diff: RunDiff, format: DiffFormat): string {
  if (format === 'json') return JSON.stringify(diff, null, 2);
  const md = format === 'md';
  const out: string[] = [];
  const heading = (text: string) => out.push(md ? `\n### ${text}\n` : `\n${text}`);
  const code = (text: string) => (md ? `\`${text}\`` : text);
  const grid = (header: string[], rows: string[][]) => out.push(md ? markdownTable(header, rows) : indent(table(header, rows)));

  out.push(md ? `## xp diff: ${code(diff.a.id)} → ${code(diff.b.id)}` : `A  ${diff.a.id} (${diff.a.spec}, ${diff.a.status})\nB  ${diff.b.id} (${diff.b.spec}, ${diff.b.status})`);
  if (md) out.push('', `A: ${code(diff.a.id)} (${diff.a.spec}, ${diff.a.status}) · B: ${code(diff.b.id)} (${diff.b.spec}, ${diff.b.status})`);

  heading('spec');
  if (diff.spec.length === 0) out.push(md ? 'identical resolved specs' : '  identical resolved specs');
  else grid(['path', 'A', 'B'], diff.spec.map((c) => [c.path, show(c.a), show(c.b)]));

  heading('stages');
  grid(
    ['stage', 'key A', 'key B', 'why'],
    diff.stages.map((s) => [
      s.stage,
      s.keyA?.slice(0, 12) ?? '–',
      s.keyB?.slice(0, 12) ?? '–',
      s.changed ? `changed: ${s.because.join('; ')}` : 'same (reused)',
    ]),
  );

  heading('metrics (B − A; rates in %, Δ in points)');
  const shown = diff.metrics.filter((m) => HEADLINE.test(m.name) || canonicalJson(m.a) !== canonicalJson(m.b));
  const unchanged = diff.metrics.length - shown.length;
  if (diff.metrics.length === 0) out.push(md ? 'no metrics in either run' : '  no metrics in either run');
  else grid(['metric', 'A', 'B', 'Δ'], shown.map((m) => [m.name, metricText(m.name, m.a), metricText(m.name, m.b), deltaText(m.name, m.delta)]));
  if (unchanged) out.push(`${md ? '\n' : '  '}${unchanged} other metric${unchanged === 1 ? '' : 's'} equal in both runs`);

  if (diff.seeds) {
    heading('across seeds (Welch t test on the per-seed test values)');
    const pct = (xs: number[]) => xs.map((x) => (x * 100).toFixed(1)).join(' · ');
    const lines = diff.seeds.map((c) =>
      c.test
        ? `${c.metric}: A ${pct(c.a)} → B ${pct(c.b)}; Δmean ${c.test.delta >= 0 ? '+' : ''}${(c.test.delta * 100).toFixed(1)} points, t = ${c.test.t.toFixed(2)}, df = ${c.test.df.toFixed(1)}, p = ${formatP(c.test.p)}`
        : `${c.metric}: A ${pct(c.a)} → B ${pct(c.b)}; no test (fewer than 2 seeds or no spread)`,
    );
    out.push(...lines.map((l) => (md ? `- ${l}` : `  ${l}`)));
  }

  heading(diff.seeds ? "paired test on the test clips (each run's first seed)" : 'paired test on the test clips');
  out.push(...pairedLines(diff.paired).map((l) => (md ? `- ${l}` : `  ${l}`)));

  heading('git');
  const commitText = (s: GitDiff['a']) => (s.commit ? `${s.commit.slice(0, 8)}${s.dirty ? '*' : ''}` : '–');
  const gitLines = [`A ${commitText(diff.git.a)} → B ${commitText(diff.git.b)}`];
  if (diff.git.commits && diff.git.commits.length) gitLines.push(`${diff.git.commits.length} commit${diff.git.commits.length === 1 ? '' : 's'} from A to B:`, ...diff.git.commits.map((c) => `  ${c}`));
  gitLines.push(...diff.git.notes);
  out.push(...(md ? ['```', ...gitLines, '```'] : gitLines.map((l) => `  ${l}`)));

  heading('environment');
  if (diff.environment.length === 0) out.push(md ? 'same environment and backends' : '  same environment and backends');
  else grid(['what', 'A', 'B'], diff.environment.map((c) => [c.path, show(c.a), show(c.b)]));

  heading('timings');
  const time = (t: { status: string; ms: number | null } | null) => (t ? `${formatDuration(t.ms ?? undefined)} ${t.status}` : '–');
  grid(
    ['stage', 'A', 'B'],
    [...diff.timings.map((t) => [t.stage, time(t.a), time(t.b)]), ['total', formatDuration(diff.totalMs.a ?? undefined), formatDuration(diff.totalMs.b ?? undefined)]],
  );
  return out.join('\n').trim();
}

function pairedLines(paired: PairedOutcome): string[] {
  if (paired.status === 'not-compared') return [`not compared: ${paired.reason}`];
  const c = paired.comparison;
  const pct = (x: number) => (x * 100).toFixed(1);
  const delta = (i: { value: number | null; lo: number | null; hi: number | null }) =>
    i.value === null ? '–' : `${signedPct(i.value)}${i.lo !== null && i.hi !== null ? ` [${signedPct(i.lo)}, ${signedPct(i.hi)}]` : ''}`;
  const level = `${Math.round(c.confidence * 1000) / 10}%`;
  return [
    `verdict: B is ${c.verdict === 'no significant difference' ? 'not significantly different from A' : `${c.verdict} than A`} — ${c.reason}`,
    `${c.n} clips, ${c.speakers} speakers; accuracy A ${pct(c.accuracy.a)} → B ${pct(c.accuracy.b)}, F1 (${c.positiveClass}) A ${pct(c.f1.a)} → B ${pct(c.f1.b)}`,
    `McNemar (exact binomial, two-sided): ${c.mcnemar.bOnly} clips only B right, ${c.mcnemar.aOnly} only A right; p = ${formatP(c.mcnemar.pExact)} (mid-p ${formatP(c.mcnemar.pMid)})`,
    `paired ${c.bootstrap.unit} bootstrap (${c.bootstrap.resamples} resamples${c.bootstrap.skipped ? `, ${c.bootstrap.skipped} one-class resamples skipped` : ''}), ${level} intervals in points: Δaccuracy ${delta(c.deltas.accuracy)}, ΔF1 ${delta(c.deltas.f1)}`,
  ];
}

/** Test metrics always shown in a diff, changed or not. */
const HEADLINE = /^(eval\.(accuracy|precision|recall|f1|macro_f1|roc_auc)|seeds\.(accuracy|precision|recall|f1|macro_f1|roc_auc)_mean)$/;

/** Metrics in [0, 1] named like a rate are shown in percent, everything else as is. */
function isRate(name: string): boolean {
  return /(^|\.)(accuracy|precision|recall|f1|macro_f1|roc_auc|val_accuracy|val_f1|val_auc)(_mean|_sd)?$/.test(name);
}

function metricText(name: string, m: { value: number | null; lo: number | null; hi: number | null }): string {
  if (m.value === null) return '–';
  if (isRate(name)) return percentWithInterval(m.value, m.lo, m.hi);
  return m.lo !== null && m.hi !== null ? `${num(m.value)} [${num(m.lo)}, ${num(m.hi)}]` : num(m.value);
}

function deltaText(name: string, delta: number | null): string {
  if (delta === null) return '–';
  if (isRate(name)) return signedPct(delta);
  return delta > 0 ? `+${num(delta)}` : num(delta);
}

function signedPct(x: number): string {
  const text = (x * 100).toFixed(1);
  return x > 0 && text !== '0.0' ? `+${text}` : text === '-0.0' ? '0.0' : text;
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, '');
}

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) return value.slice(0, 12);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function markdownTable(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${header.map(escape).join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`)].join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
