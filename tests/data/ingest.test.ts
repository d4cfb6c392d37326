import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestCommonVoice, type IngestOptions, type IngestProgress, type IngestWarning } from '../../src/data/ingest.ts';
import { readReleaseMembership } from '../../src/data/releaseSplit.ts';
import { cvFaSample, cvMini, cvRow, HEADER, requireDir, tempDir, writeLines } from './fixtures.ts';

function rawRows(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = header!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])));
}

const paper = (root: string, extra: Partial<IngestOptions> = {}): IngestOptions => ({
  root,
  filter: { downVotesMax: 0 },
  subset: { male: 6000, female: 5000 },
  split: { by: 'speaker', train: 0.7, val: 0.15, test: 0.15 },
  seed: 1,
  checkClips: true,
  ...extra,
});

describe('ingestCommonVoice on data/cv-mini', () => {
  requireDir(cvMini);
  const raw = rawRows(join(cvMini, 'validated.tsv'));
  const eligible = raw.filter((r) => r.down_votes === '0' && (r.gender === 'male' || r.gender === 'female'));

  it('paper settings: filter, cap to what exists (with warnings), speaker-disjoint split, clips all present', async () => {
    const warnings: IngestWarning[] = [];
    const progress: IngestProgress[] = [];
    const r = await ingestCommonVoice(paper(cvMini), { onWarning: (w) => warnings.push(w), onProgress: (p) => progress.push(p) });
    expect(r.counts.read).toBe(raw.length);
    expect(r.counts.kept).toBe(eligible.length);
    expect(r.counts.dropped.downVotes).toBe(raw.filter((x) => x.down_votes !== '0').length);
    expect(r.rows.map((x) => x.path).sort()).toEqual(eligible.map((x) => x.path).sort());
    const maleAvail = eligible.filter((x) => x.gender === 'male').length;
    expect(r.counts.available).toEqual({ male: maleAvail, female: eligible.length - maleAvail });
    expect(r.warnings.map((w) => w.code)).toEqual(['subset_short', 'subset_short']);
    expect(warnings).toEqual(r.warnings);
    expect(r.missingClips).toEqual([]);
    expect(r.counts.missingClips).toBe(0);
    // Rows come back in TSV order, with absolute clip files under clips/.
    expect(r.rows.map((x) => x.line)).toEqual([...r.rows.map((x) => x.line)].sort((a, b) => a - b));
    expect(r.rows[0]!.file).toBe(join(cvMini, 'clips', r.rows[0]!.path));
    // Speaker-disjoint, both genders everywhere.
    const splitOf = new Map<string, string>();
    for (const row of r.rows) {
      expect(splitOf.get(row.clientId) ?? row.split).toBe(row.split);
      splitOf.set(row.clientId, row.split);
    }
    expect(r.leakage.testSpeakersInTrain).toBe(0);
    for (const s of ['train', 'val', 'test'] as const) {
      expect(r.splits[s].maleSpeakers).toBeGreaterThan(0);
      expect(r.splits[s].femaleSpeakers).toBeGreaterThan(0);
    }
    const total = r.rows.length;
    expect(Math.abs(r.splits.test.clips / total - 0.15)).toBeLessThan(0.03);
    expect(progress.at(-1)).toMatchObject({ phase: 'check', clipsChecked: total, clipsToCheck: total });
    expect(progress.some((p) => p.phase === 'read' && p.rowsRead === raw.length && p.bytesRead === p.totalBytes)).toBe(true);
  });

  it('a subset smaller than the data is balanced, deterministic per seed, and seed-dependent', async () => {
    const opts = paper(cvMini, { subset: { male: 100, female: 90 }, checkClips: false });
    const a = await ingestCommonVoice(opts);
    const b = await ingestCommonVoice(opts);
    const c = await ingestCommonVoice({ ...opts, seed: 2 });
    expect(a.counts.selected).toEqual({ male: 100, female: 90 });
    expect(a.warnings).toEqual([]);
    expect(b.rows).toEqual(a.rows);
    expect(c.rows.map((x) => x.path)).not.toEqual(a.rows.map((x) => x.path));
  });

  it('max_clips_per_speaker limits clips per client_id', async () => {
    const r = await ingestCommonVoice(paper(cvMini, { subset: { male: 6000, female: 5000, maxClipsPerSpeaker: 2 }, checkClips: false }));
    const per = new Map<string, number>();
    for (const row of r.rows) per.set(row.clientId, (per.get(row.clientId) ?? 0) + 1);
    expect(Math.max(...per.values())).toBe(2);
    expect(r.counts.speakersCapped).toBeGreaterThan(0);
    expect(r.counts.clipsRemovedByCap).toBe(r.counts.kept - r.rows.length);
  });

  it('split.by clip warns about the speakers it leaks', async () => {
    const r = await ingestCommonVoice(paper(cvMini, { split: { by: 'clip', train: 0.7, val: 0.15, test: 0.15 }, checkClips: false }));
    const leak = r.warnings.find((w) => w.code === 'speaker_leakage');
    expect(leak).toBeDefined();
    expect(r.leakage.testSpeakersInTrain).toBeGreaterThan(0);
    expect(leak!.message).toContain(`${r.leakage.testSpeakersInTrain} of ${r.leakage.testSpeakers} test speakers`);
  });

  it('split.by release follows train.tsv / dev.tsv / test.tsv', async () => {
    const r = await ingestCommonVoice(paper(cvMini, { split: { by: 'release' }, checkClips: false }));
    const expected = new Map<string, string>();
    for (const [file, split] of [['train.tsv', 'train'], ['dev.tsv', 'val'], ['test.tsv', 'test']] as const) {
      for (const row of rawRows(join(cvMini, file))) expected.set(row.path!, split);
    }
    expect(r.rows.length).toBe(eligible.length);
    for (const row of r.rows) expect(row.split).toBe(expected.get(row.path));
    expect(r.leakage.testSpeakersInTrain).toBe(0);
    expect(r.counts.notInRelease).toBe(0);
  });
});

describe('ingestCommonVoice on the real cv-fa-sample', () => {
  it('selects the male rows, finds every clip on disk, and warns that there are no female clips', async () => {
    requireDir(cvFaSample);
    const raw = rawRows(join(cvFaSample, 'validated.tsv'));
    const males = raw.filter((r) => r.gender === 'male' && r.down_votes === '0');
    const r = await ingestCommonVoice(paper(cvFaSample));
    expect(r.counts.selected).toEqual({ male: males.length, female: 0 });
    expect(r.missingClips).toEqual([]);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'subset_short', gender: 'male', available: males.length }),
      expect.objectContaining({ code: 'subset_short', gender: 'female', available: 0 }),
    ]);
    expect(r.counts.speakersKept).toBe(new Set(males.map((m) => m.client_id)).size);
  });
});

describe('ingestCommonVoice problems', () => {
  const dir = tempDir();

  function release(name: string, rows: string[]): string {
    const root = join(dir, name);
    mkdirSync(join(root, 'clips'), { recursive: true });
    writeLines(root, 'validated.tsv', [HEADER, ...rows]);
    return root;
  }

  it('reports missing clips as a count and a list (in TSV order), without failing', async () => {
    const root = release('missing', [
      cvRow({ client: 'a', path: 'a.mp3', gender: 'male' }),
      cvRow({ client: 'b', path: 'b.mp3', gender: 'female' }),
      cvRow({ client: 'c', path: 'c.mp3', gender: 'female' }),
    ]);
    writeFileSync(join(root, 'clips', 'b.mp3'), 'x');
    const r = await ingestCommonVoice(paper(root, { split: { by: 'speaker', train: 1, val: 0, test: 0 } }));
    expect(r.missingClips).toEqual(['a.mp3', 'c.mp3']);
    expect(r.counts.missingClips).toBe(2);
    expect(r.warnings.find((w) => w.code === 'missing_clips')!.message).toBe(
      `2 of 3 selected clips are missing from ${join(root, 'clips')} (a.mp3, c.mp3)`,
    );
  });

  it('a selected row escaping clips/ is an error even without checkClips', async () => {
    const root = release('escape', [cvRow({ client: 'a', path: 'a.mp3', gender: 'male' }), cvRow({ client: 'b', path: '../../etc/passwd', gender: 'male' })]);
    await expect(ingestCommonVoice(paper(root, { checkClips: false }))).rejects.toThrow(
      `${join(root, 'validated.tsv')}:3: clip path "../../etc/passwd" escapes clips/`,
    );
  });

  it('an absolute path and a symlink out of clips/ are errors naming the row', async () => {
    const abs = release('absolute', [cvRow({ client: 'a', path: '/etc/passwd', gender: 'female' })]);
    await expect(ingestCommonVoice(paper(abs))).rejects.toThrow(`${join(abs, 'validated.tsv')}:2: clip path "/etc/passwd" is absolute (must be relative to clips/)`);
    const root = release('symlink', [cvRow({ client: 'a', path: 'ok.mp3', gender: 'male' }), cvRow({ client: 'b', path: 'evil.mp3', gender: 'female' })]);
    writeFileSync(join(root, 'clips', 'ok.mp3'), 'x');
    writeFileSync(join(dir, 'outside.mp3'), 'x');
    symlinkSync(join(dir, 'outside.mp3'), join(root, 'clips', 'evil.mp3'));
    await expect(ingestCommonVoice(paper(root))).rejects.toThrow(`${join(root, 'validated.tsv')}:3: clip path "evil.mp3" resolves outside clips/ through a symlink`);
    // Without checkClips the link is not followed, so only the lexical check runs.
    await expect(ingestCommonVoice(paper(root, { checkClips: false }))).resolves.toBeDefined();
  });

  it('release split: rows outside the lists are left out with a warning; a clip listed twice is an error', async () => {
    const root = release('rel', [
      cvRow({ client: 'a', path: 'a.mp3', gender: 'male' }),
      cvRow({ client: 'b', path: 'b.mp3', gender: 'female' }),
      cvRow({ client: 'c', path: 'c.mp3', gender: 'female' }),
    ]);
    writeLines(root, 'train.tsv', [HEADER, cvRow({ client: 'a', path: 'a.mp3', gender: 'male' })]);
    writeLines(root, 'dev.tsv', [HEADER]);
    writeLines(root, 'test.tsv', [HEADER, cvRow({ client: 'b', path: 'b.mp3', gender: 'female' })]);
    const r = await ingestCommonVoice(paper(root, { split: { by: 'release' }, checkClips: false }));
    expect(r.rows.map((x) => [x.path, x.split])).toEqual([['a.mp3', 'train'], ['b.mp3', 'test']]);
    expect(r.counts.notInRelease).toBe(1);
    expect(r.warnings.map((w) => w.code)).toContain('not_in_release');
    writeLines(root, 'dev.tsv', [HEADER, cvRow({ client: 'a', path: 'a.mp3', gender: 'male' })]);
    await expect(readReleaseMembership(root)).rejects.toThrow(
      `${join(root, 'dev.tsv')}:2: clip "a.mp3" is already listed at ${join(root, 'train.tsv')}:2`,
    );
  });

  it('release split without the lists says which files it needs', async () => {
    const root = release('nolists', [cvRow({ client: 'a', path: 'a.mp3', gender: 'male' })]);
    await expect(ingestCommonVoice(paper(root, { split: { by: 'release' } }))).rejects.toThrow(
      `${join(root, 'train.tsv')}: not found (split.by "release" needs the release's train.tsv, dev.tsv and test.tsv)`,
    );
  });

  it('bad fractions fail before reading; an aborted signal stops the run', async () => {
    const root = release('abort', [cvRow({ client: 'a', path: 'a.mp3', gender: 'male' })]);
    await expect(ingestCommonVoice(paper(root, { split: { by: 'speaker', train: 0.5, val: 0.1, test: 0.1 } }))).rejects.toThrow('split fractions must sum to 1');
    const controller = new AbortController();
    controller.abort(new Error('cancelled by user'));
    await expect(ingestCommonVoice(paper(root), { signal: controller.signal })).rejects.toThrow('cancelled by user');
  });
});
