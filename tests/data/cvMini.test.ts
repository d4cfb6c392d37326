import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MPEGDecoder } from 'mpg123-decoder';
import { describe, expect, it } from 'vitest';
import { cvFaSample, cvMini, requireDir } from './fixtures.ts';

function rawRows(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = header!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])));
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

describe('data/cv-mini (embedded default corpus)', () => {
  requireDir(cvMini);
  const validated = rawRows(join(cvMini, 'validated.tsv'));
  const provenance = new Map(rawRows(join(cvMini, 'provenance.tsv')).map((r) => [r.path!, r]));

  it('is at most 30 MB', () => {
    expect(dirBytes(cvMini)).toBeLessThanOrEqual(30 * 1024 * 1024);
  });

  it('validated.tsv has the column set of a real Common Voice release', () => {
    const header = (file: string): string => readFileSync(file, 'utf8').split('\n')[0]!;
    expect(header(join(cvMini, 'validated.tsv'))).toBe(header(join(requireDir(cvFaSample), 'validated.tsv')));
    for (const f of ['train.tsv', 'dev.tsv', 'test.tsv']) expect(header(join(cvMini, f))).toBe(header(join(cvMini, 'validated.tsv')));
  });

  it('has ~135 real speakers of both genders, with stable 128-hex client ids', () => {
    const bySex = { F: new Set<string>(), M: new Set<string>() };
    for (const row of validated) {
      expect(row.client_id).toMatch(/^[0-9a-f]{128}$/);
      const p = provenance.get(row.path!)!;
      bySex[p.sex as 'F' | 'M'].add(p.speaker_id!);
    }
    expect(new Set(validated.map((r) => r.client_id)).size).toBe(bySex.F.size + bySex.M.size);
    expect(bySex.F.size + bySex.M.size).toBeGreaterThanOrEqual(130);
    expect(bySex.F.size).toBeGreaterThanOrEqual(60);
    expect(bySex.M.size).toBeGreaterThanOrEqual(60);
    // The gender column agrees with the reader's real sex wherever it is set.
    for (const row of validated) {
      const sex = provenance.get(row.path!)!.sex;
      if (row.gender === 'male' || row.gender === 'female') expect(row.gender).toBe(sex === 'F' ? 'female' : 'male');
    }
  });

  it('gives the filters something to do: some down votes, some empty or other gender', () => {
    expect(validated.filter((r) => r.down_votes !== '0').length).toBeGreaterThan(0);
    expect(validated.filter((r) => r.gender === '').length).toBeGreaterThan(0);
    expect(validated.filter((r) => r.gender === 'other').length).toBeGreaterThan(0);
    for (const r of validated) expect(Number(r.up_votes)).toBeGreaterThan(Number(r.down_votes));
  });

  it('train/dev/test partition validated.tsv and share no speaker', () => {
    const lists = ['train.tsv', 'dev.tsv', 'test.tsv'].map((f) => rawRows(join(cvMini, f)));
    expect(lists.flat().map((r) => r.path).sort()).toEqual(validated.map((r) => r.path).sort());
    const speakers = lists.map((rows) => new Set(rows.map((r) => r.client_id)));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const id of speakers[i]!) expect(speakers[j]!.has(id)).toBe(false);
    expect(lists.map((l) => l.length).every((n) => n > 0)).toBe(true);
  });

  it('clips/ holds exactly the listed files, and SHA256SUMS matches every file', () => {
    const files = readdirSync(join(cvMini, 'clips')).sort();
    expect(files).toEqual(validated.map((r) => r.path).sort());
    for (const name of files) expect(name).toMatch(/^common_voice_en_\d+\.mp3$/);
    const sums = readFileSync(join(cvMini, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.length).toBe(files.length + 7);
    for (const line of sums) {
      const [hash, name] = line.split('  ');
      expect(createHash('sha256').update(readFileSync(join(cvMini, name!))).digest('hex'), name).toBe(hash);
    }
  });

  it('every clip decodes with mpg123-decoder: 32 kHz mono MP3 of 3–6 s', async () => {
    const decoder = new MPEGDecoder();
    await decoder.ready;
    const durations: number[] = [];
    try {
      for (const row of validated) {
        const bytes = readFileSync(join(cvMini, 'clips', row.path!));
        const out = decoder.decode(new Uint8Array(bytes));
        await decoder.reset();
        expect(out.errors, row.path).toEqual([]);
        expect(out.sampleRate).toBe(32000);
        // mpg123 returns mono as two identical channels (compared by hand: toEqual on 190k floats is slow).
        if (out.channelData.length === 2) {
          const [l, r] = out.channelData as [Float32Array, Float32Array];
          let same = l.length === r.length;
          for (let i = 0; same && i < l.length; i++) same = l[i] === r[i];
          expect(same, `${row.path} is not mono`).toBe(true);
        }
        const seconds = out.samplesDecoded / out.sampleRate;
        expect(seconds, row.path).toBeGreaterThanOrEqual(3);
        expect(seconds, row.path).toBeLessThanOrEqual(6);
        // ~48 kb/s CBR.
        expect((bytes.length * 8) / seconds / 1000).toBeGreaterThan(44);
        expect((bytes.length * 8) / seconds / 1000).toBeLessThan(52);
        let peak = 0;
        for (const v of out.channelData[0]!) peak = Math.max(peak, Math.abs(v));
        expect(peak, row.path).toBeGreaterThan(0.05); // real speech, not silence
        durations.push(seconds);
      }
    } finally {
      decoder.free();
    }
    expect(durations.length).toBe(validated.length);
    expect(durations.reduce((a, b) => a + b, 0) / 60).toBeGreaterThan(25);
  }, 180_000); // ~2,000 s of audio; a few seconds alone, much more on a busy 2-core machine

  it('carries the LibriSpeech license and attribution', () => {
    expect(readFileSync(join(cvMini, 'LICENSE.TXT'), 'utf8')).toContain('Creative Commons Attribution 4.0');
    const readme = readFileSync(join(cvMini, 'README.md'), 'utf8');
    expect(readme).toContain('Vassil Panayotov');
    expect(readme).toContain('npx tsx scripts/build-cv-mini.ts');
  });
});
