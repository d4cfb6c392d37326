import { beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/eval/rng.ts';
import { openProject } from '../../src/runner/project.ts';
import type { RunRecord } from '../../src/runner/runStore.ts';
import { diffRuns, diffValues, formatDiff } from '../../src/report/diff.ts';
import { useXpRoot, xp } from '../fixtures/xpProject.ts';
import { baseRecord, gitCommits, outputs, testClips, writePipelineRun } from './fabricate.ts';

const currentRoot = useXpRoot();
let root: string;
beforeEach(() => {
  root = currentRoot();
});


const CLIPS = testClips(30, 4);
const rng = mulberry32(5);
const U = CLIPS.map(() => rng());
// A is right where U < 0.8; B (64 MFCCs) wherever A is, and where 0.8 <= U < 0.93.
const RIGHT_A = (i: number) => U[i] < 0.8;
const RIGHT_B = (i: number) => U[i] < 0.93;

/** Two runs of baseline-cnn that differ in features.n_mfcc (40 → 64), one commit apart; B dirty, its ingest cached. */
async function twoRuns(options: { backendB?: string; clipsB?: typeof CLIPS } = {}) {
  const [c1, c2] = gitCommits(root, ['baseline features', 'try 64 MFCCs']);
  const a = await writePipelineRun(root, {
    id: '20250101-100000-baseline-cnn-aaaa', spec: 'baseline-cnn', createdAt: '2025-01-01T10:00:00.000Z', nMfcc: 40,
    clips: CLIPS, probabilities: outputs(CLIPS, RIGHT_A, 1), commit: c1,
  });
  const clipsB = options.clipsB ?? CLIPS;
  const b = await writePipelineRun(root, {
    id: '20250102-100000-baseline-cnn-bbbb', spec: 'baseline-cnn', createdAt: '2025-01-02T10:00:00.000Z', nMfcc: 64,
    clips: clipsB, probabilities: outputs(clipsB, RIGHT_B, 2), commit: c2, dirty: true,
    durations: { ingest: 15 }, statuses: { ingest: 'cached' }, backend: options.backendB,
  });
  return { a, b, c1, c2 };
}

const short = (r: RunRecord, stage: string) => r.stages[stage].key!.slice(0, 12);

describe('diffValues', () => {
  it('lists changed leaves by dotted path, arrays whole, absent sides as undefined', () => {
    expect(diffValues({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 3] }, e: true })).toEqual([
      { path: 'a.b', a: 1, b: 2 },
      { path: 'a.c', a: [1, 2], b: [1, 3] },
      { path: 'd', a: 'x', b: undefined },
      { path: 'e', a: undefined, b: true },
    ]);
  });
});

describe('xp diff', () => {
  it('text: the one spec change, which keys it changed and why, metrics with intervals, a paired verdict, commits, timings', async () => {
    const { a, b, c1, c2 } = await twoRuns();
    const diff = await diffRuns(openProject(root), a, b);
    // The paired counts are those the fixture was built with.
    expect(diff.paired.status).toBe('compared');
    if (diff.paired.status !== 'compared') return;
    const bOnly = CLIPS.filter((_, i) => RIGHT_B(i) && !RIGHT_A(i)).length;
    expect(diff.paired.comparison.mcnemar).toMatchObject({ aOnly: 0, bOnly });
    expect(bOnly).toBe(14);
    expect(diff.paired.comparison.mcnemar.pExact).toBeCloseTo(2 / 2 ** 14, 15);

    const out = await xp('diff', '20250101', 'latest');
    expect(out.code).toBe(0);
    expect(out.stdout.trimEnd()).toBe(
      [
        'A  20250101-100000-baseline-cnn-aaaa (baseline-cnn, done)',
        'B  20250102-100000-baseline-cnn-bbbb (baseline-cnn, done)',
        '',
        'spec',
        '  path              A   B',
        '  ---------------  --  --',
        '  features.n_mfcc  40  64',
        '',
        'stages',
        '  stage     key A         key B         why',
        '  --------  ------------  ------------  ----------------------------------',
        `  ingest    ${short(a, 'ingest')}  ${short(b, 'ingest')}  same (reused)`,
        `  features  ${short(a, 'features')}  ${short(b, 'features')}  changed: params.n_mfcc: 40 → 64`,
        `  train     ${short(a, 'train')}  ${short(b, 'train')}  changed: upstream features changed`,
        `  eval      ${short(a, 'eval')}  ${short(b, 'eval')}  changed: upstream train changed`,
        '',
        'metrics (B − A; rates in %, Δ in points)',
        '  metric          A                  B                  Δ',
        '  --------------  -----------------  -----------------  -----',
        '  eval.accuracy   80.8 [74.2, 87.5]  92.5 [88.3, 96.7]  +11.7',
        '  eval.precision  79.4 [62.4, 91.8]  91.8 [81.4, 98.6]  +12.4',
        '  eval.recall     83.3 [75.0, 91.7]  93.3 [87.5, 98.4]  +10.0',
        '  eval.f1         81.3 [71.2, 89.2]  92.6 [86.0, 96.8]  +11.3',
        '  eval.macro_f1   80.8 [73.3, 86.7]  92.5 [87.5, 96.3]  +11.7',
        '  eval.roc_auc    81.3 [73.6, 88.9]  90.9 [85.0, 96.0]  +9.6',
        '  eval.tp         50                 56                 +6',
        '  eval.fp         13                 5                  -8',
        '  eval.tn         47                 55                 +8',
        '  eval.fn         10                 4                  -6',
        '  10 other metrics equal in both runs',
        '',
        'paired test on the test clips',
        '  verdict: B is better than A — McNemar exact p = 0.00012 < α = 0.05 and the 95% speaker bootstrap interval of Δaccuracy [+6.7, +17.5] points excludes 0',
        '  120 clips, 30 speakers; accuracy A 80.8 → B 92.5, F1 (male) A 81.3 → B 92.6',
        '  McNemar (exact binomial, two-sided): 14 clips only B right, 0 only A right; p = 0.00012 (mid-p 6.1e-5)',
        '  paired speaker bootstrap (400 resamples), 95% intervals in points: Δaccuracy +11.7 [+6.7, +17.5], ΔF1 +11.3 [+5.8, +19.1]',
        '',
        'git',
        `  A ${c1.slice(0, 8)} → B ${c2.slice(0, 8)}*`,
        '  1 commit from A to B:',
        `    ${c2.slice(0, 7)} try 64 MFCCs`,
        '  B ran with uncommitted changes (diff dddddddddddd)',
        '',
        'environment',
        '  same environment and backends',
        '',
        'timings',
        '  stage     A           B',
        '  --------  ----------  -----------',
        '  ingest    1.2s done   15ms cached',
        '  features  45.0s done  45.0s done',
        '  train     3m00s done  3m00s done',
        '  eval      900ms done  900ms done',
        '  total     3m47s       3m46s',
      ].join('\n'),
    );
  });

  it('md: the same as comment-ready markdown', async () => {
    const { a, b, c1, c2 } = await twoRuns();
    const md = formatDiff(await diffRuns(openProject(root), a, b), 'md');
    expect(md.split('\n').slice(0, 17)).toEqual([
      '## xp diff: `20250101-100000-baseline-cnn-aaaa` → `20250102-100000-baseline-cnn-bbbb`',
      '',
      'A: `20250101-100000-baseline-cnn-aaaa` (baseline-cnn, done) · B: `20250102-100000-baseline-cnn-bbbb` (baseline-cnn, done)',
      '',
      '### spec',
      '',
      '| path | A | B |',
      '| --- | --- | --- |',
      '| features.n_mfcc | 40 | 64 |',
      '',
      '### stages',
      '',
      '| stage | key A | key B | why |',
      '| --- | --- | --- | --- |',
      `| ingest | ${short(a, 'ingest')} | ${short(b, 'ingest')} | same (reused) |`,
      `| features | ${short(a, 'features')} | ${short(b, 'features')} | changed: params.n_mfcc: 40 → 64 |`,
      `| train | ${short(a, 'train')} | ${short(b, 'train')} | changed: upstream features changed |`,
    ]);
    expect(md).toContain('| eval.accuracy | 80.8 [74.2, 87.5] | 92.5 [88.3, 96.7] | +11.7 |');
    expect(md).toContain('\n10 other metrics equal in both runs\n');
    expect(md).toContain('- verdict: B is better than A — McNemar exact p = 0.00012 < α = 0.05');
    expect(md).toContain(['### git', '', '```', `A ${c1.slice(0, 8)} → B ${c2.slice(0, 8)}*`, '1 commit from A to B:', `  ${c2.slice(0, 7)} try 64 MFCCs`, 'B ran with uncommitted changes (diff dddddddddddd)', '```'].join('\n'));
    expect(md.endsWith('| total | 3m47s | 3m46s |')).toBe(true);
    const json = JSON.parse((await xp('diff', 'baseline-cnn@latest', '20250101', '--format', 'json')).stdout);
    expect(json.spec).toEqual([{ path: 'features.n_mfcc', a: 64, b: 40 }]);
    expect(json.paired.comparison.verdict).toBe('worse');
  });

  it('names a backend change as the reason a training key changed, and lists it under environment', async () => {
    const { a, b } = await twoRuns({ backendB: 'wasm' });
    const text = formatDiff(await diffRuns(openProject(root), a, b), 'text');
    expect(text).toMatch(/^ {2}train +\w{12} +\w{12} +changed: environment\.backend: "libtorch" → "wasm"; upstream features changed$/m);
    expect(text).toMatch(/^environment\n {2}what +A +B\n[ -]+\n {2}train\.backend +libtorch +wasm$/m);
  });

  it('shows the rest but no verdict when the runs were tested on different clips', async () => {
    const other = testClips(31, 4).slice(4);
    const { a, b } = await twoRuns({ clipsB: other });
    const diff = await diffRuns(openProject(root), a, b);
    expect(diff.paired).toEqual({
      status: 'not-compared',
      reason: 'the two runs were not evaluated on the same test clips (4 only in A, 4 only in B, 116 shared); a paired comparison needs identical test sets',
    });
    expect(formatDiff(diff, 'text')).toContain('  not compared: the two runs were not evaluated on the same test clips (4 only in A');
  });

  it('says when commits are unknown to the repository and when a run had no git at all', async () => {
    const { a, b } = await twoRuns();
    const project = openProject(root);
    const unknown = await diffRuns(project, { ...a, git: { ...a.git, commit: 'f'.repeat(40) } }, b);
    expect(unknown.git.commits).toBeNull();
    expect(unknown.git.notes).toContain('commits ffffffff or ' + b.git.commit!.slice(0, 8) + ' are not in this repository');
    const none = await diffRuns(project, { ...a, git: { commit: null, branch: null, dirty: false, diffHash: null } }, b);
    expect(none.git.notes[0]).toBe('run A was not made in a git repository');
    const reversed = await diffRuns(project, b, a);
    expect(reversed.git.commits).toEqual([]);
    expect(reversed.git.notes).toContain('A has 1 commit that B lacks (B is not a descendant of A)');
  });
});

describe('xp diff of two multi-seed runs', () => {
  it("compares each seed's test accuracy and F1 with Welch's t test", async () => {
    const seeded = (id: string, accuracy: number[]) =>
      baseRecord({
        id,
        spec: 'cnn-lstm',
        stages: Object.fromEntries(accuracy.map((_, i) => [`eval@${i + 1}`, { status: 'done', key: null, needs: [] }])) as never,
        metrics: {
          'seeds.seeds': accuracy.length,
          ...Object.fromEntries(accuracy.flatMap((v, i) => [[`eval@${i + 1}.accuracy`, v], [`eval@${i + 1}.f1`, v]])),
        },
      });
    // scipy.stats.ttest_ind([1,2,3,4,5], [2,4,6,8,10], equal_var=False): t = 1.897 (B − A), df = 5.88, p = 0.1075.
    const a = seeded('20250101-100000-cnn-lstm-aaaa', [0.1, 0.2, 0.3, 0.4, 0.5]);
    const b = seeded('20250102-100000-cnn-lstm-bbbb', [0.2, 0.4, 0.6, 0.8, 1.0]);
    const diff = await diffRuns(openProject(root), a, b);
    expect(diff.seeds).toHaveLength(2);
    expect(diff.seeds![0].metric).toBe('accuracy');
    expect(diff.seeds![0].test!.t).toBeCloseTo(1.8973665961010275, 9);
    expect(diff.seeds![0].test!.p).toBeCloseTo(0.10753119493062728, 6);
    const text = formatDiff(diff, 'text');
    expect(text).toContain('across seeds (Welch t test on the per-seed test values)');
    expect(text).toContain('accuracy: A 10.0 · 20.0 · 30.0 · 40.0 · 50.0 → B 20.0 · 40.0 · 60.0 · 80.0 · 100.0; Δmean +30.0 points, t = 1.90, df = 5.9, p = 0.11');
  });
});
