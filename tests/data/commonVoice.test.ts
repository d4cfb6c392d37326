import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENDER_MAP, readCommonVoice } from '../../src/data/commonVoice.ts';
import { DataError } from '../../src/data/errors.ts';
import { cvFaSample, cvRow, HEADER, requireDir, tempDir, writeLines } from './fixtures.ts';

/** Independent reference: the raw rows of a TSV, via a plain split. */
function rawRows(file: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const cols = header!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])));
}

describe('readCommonVoice on the real cv-fa-sample', () => {
  requireDir(cvFaSample);

  it('validated.tsv: row count from wc -l, genders counted, nothing filtered without a filter', async () => {
    const file = join(cvFaSample, 'validated.tsv');
    const wc = Number.parseInt(execFileSync('wc', ['-l', file], { encoding: 'utf8' }), 10);
    const raw = rawRows(file);
    const { columns, rows, counts } = await readCommonVoice({ root: cvFaSample });
    expect(counts.read).toBe(wc - 1);
    expect(columns).toContain('segment');
    const rawMale = raw.filter((r) => r.gender === 'male').length;
    const rawEmpty = raw.filter((r) => r.gender === '').length;
    expect(rawMale).toBeGreaterThan(0);
    expect(counts.genderValues).toEqual({ male: rawMale, '': rawEmpty });
    expect(counts.kept).toBe(rawMale);
    expect(counts.dropped).toEqual({ downVotes: 0, upVotes: 0, genderEmpty: rawEmpty, genderUnmapped: 0 });
    // Rows carry the real values, including non-Latin sentences.
    const first = raw.findIndex((r) => r.gender === 'male');
    expect(rows[0]).toEqual({
      path: raw[first]!.path,
      clientId: raw[first]!.client_id,
      gender: 'male',
      upVotes: Number(raw[first]!.up_votes),
      downVotes: Number(raw[first]!.down_votes),
      line: first + 2,
      sentence: raw[first]!.sentence,
    });
  });

  it('the paper filter (down_votes == 0) on other.tsv drops exactly the voted-down rows', async () => {
    const raw = rawRows(join(cvFaSample, 'other.tsv'));
    const { rows, counts } = await readCommonVoice({ root: cvFaSample, tsv: 'other.tsv', filter: { downVotesMax: 0 } });
    const rawDown = raw.filter((r) => r.down_votes !== '0').length;
    expect(rawDown).toBeGreaterThan(0);
    expect(counts.read).toBe(raw.length);
    expect(counts.dropped.downVotes).toBe(rawDown);
    const expected = raw.filter((r) => r.down_votes === '0' && (r.gender === 'male' || r.gender === 'female'));
    expect(rows.map((r) => r.path)).toEqual(expected.map((r) => r.path));
    expect(counts.keptByGender).toEqual({
      male: expected.filter((r) => r.gender === 'male').length,
      female: expected.filter((r) => r.gender === 'female').length,
    });
    expect(counts.keptByGender.female).toBeGreaterThan(0);
    expect(rows.every((r) => r.downVotes === 0)).toBe(true);
  });

  it('up_votes_min filters too', async () => {
    const raw = rawRows(join(cvFaSample, 'other.tsv'));
    const { rows, counts } = await readCommonVoice({ root: cvFaSample, tsv: 'other.tsv', filter: { upVotesMin: 1 } });
    expect(counts.dropped.upVotes).toBe(raw.filter((r) => r.up_votes === '0').length);
    expect(rows.every((r) => r.upVotes >= 1)).toBe(true);
  });
});

describe('gender mapping', () => {
  const dir = tempDir();
  // A 17+ style header: extra columns, gender spelled male_masculine / female_feminine.
  const header17 = 'client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes\tage\tgender\taccents\tvariant\tlocale\tsegment';
  const row17 = (client: string, path: string, gender: string): string =>
    [client, path, 'sid', 'Say "hi".', 'general', '2', '0', 'thirties', gender, '', '', 'en', ''].join('\t');
  writeLines(join(dir, 'v17'), 'validated.tsv', [
    header17,
    row17('a', 'a1.mp3', 'male_masculine'),
    row17('b', 'b1.mp3', 'female_feminine'),
    row17('c', 'c1.mp3', 'non-binary'),
    row17('d', 'd1.mp3', 'do_not_wish_to_say'),
    row17('e', 'e1.mp3', ''),
    row17('f', 'f1.mp3', 'intersex'),
    row17('g', 'g1.mp3', 'transgender'),
  ]);

  it('maps 17+ spellings with the default map and counts the rest by reason', async () => {
    const { rows, counts } = await readCommonVoice({ root: join(dir, 'v17') });
    expect(rows.map((r) => [r.path, r.gender])).toEqual([['a1.mp3', 'male'], ['b1.mp3', 'female']]);
    expect(rows[0]!.sentence).toBe('Say "hi".');
    expect(counts.dropped).toEqual({ downVotes: 0, upVotes: 0, genderEmpty: 1, genderUnmapped: 4 });
    expect(counts.genderValues['non-binary']).toBe(1);
    expect(DEFAULT_GENDER_MAP.male).toContain('male_masculine');
  });

  it('honours a custom map', async () => {
    const { rows, counts } = await readCommonVoice({
      root: join(dir, 'v17'),
      genderMap: { male: ['male_masculine', 'transgender'], female: ['female_feminine', 'intersex'] },
      includeSentence: false,
    });
    expect(rows.map((r) => [r.path, r.gender])).toEqual([
      ['a1.mp3', 'male'],
      ['b1.mp3', 'female'],
      ['f1.mp3', 'female'],
      ['g1.mp3', 'male'],
    ]);
    expect(rows[0]!.sentence).toBeUndefined();
    expect(counts.dropped.genderUnmapped).toBe(2);
  });

  it('rejects a map that lists a value under both genders', async () => {
    await expect(readCommonVoice({ root: join(dir, 'v17'), genderMap: { male: ['x'], female: ['x'] } })).rejects.toThrow(
      'gender map lists "x" as both male and female',
    );
  });
});

describe('readCommonVoice errors', () => {
  const dir = tempDir();

  it('non-numeric down_votes → DataError with the line', async () => {
    const root = join(dir, 'votes');
    const file = writeLines(root, 'validated.tsv', [
      HEADER,
      cvRow({ client: 'a', path: 'a.mp3', gender: 'male' }),
      cvRow({ client: 'b', path: 'b.mp3', gender: 'male', down: 'two' }),
    ]);
    await expect(readCommonVoice({ root })).rejects.toThrow(new DataError({ file, line: 3, message: 'down_votes "two" is not a non-negative integer' }));
    await expect(readCommonVoice({ root })).rejects.toThrow(`${file}:3: down_votes "two" is not a non-negative integer`);
  });

  it.each(['', '-1', '1.0', ' 1', '1e3'])('up_votes %j is rejected', async (value) => {
    const root = join(dir, `up${JSON.stringify(value).replace(/\W/g, '_')}`);
    const file = writeLines(root, 'validated.tsv', [HEADER, cvRow({ client: 'a', path: 'a.mp3', gender: 'male', up: value })]);
    await expect(readCommonVoice({ root })).rejects.toThrow(`${file}:2: up_votes "${value}" is not a non-negative integer`);
  });

  it('a missing required column is named', async () => {
    const root = join(dir, 'nogender');
    const file = writeLines(root, 'validated.tsv', ['client_id\tpath\tsentence\tup_votes\tdown_votes', 'a\ta.mp3\ts\t2\t0']);
    await expect(readCommonVoice({ root })).rejects.toThrow(
      `${file}:1: missing required column "gender" (header has: client_id, path, sentence, up_votes, down_votes)`,
    );
  });

  it('older releases without sentence/variant/segment still read', async () => {
    const root = join(dir, 'old');
    writeLines(root, 'validated.tsv', ['client_id\tpath\tup_votes\tdown_votes\tage\tgender\taccents', 'a\ta.mp3\t3\t1\t\tfemale\t']);
    const { rows } = await readCommonVoice({ root });
    expect(rows).toEqual([{ path: 'a.mp3', clientId: 'a', gender: 'female', upVotes: 3, downVotes: 1, line: 2 }]);
  });
});
