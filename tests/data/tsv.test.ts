import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.ts';
import { openTsv, type TsvRow } from '../../src/data/tsv.ts';
import { cvFaSample, HEADER, requireDir, tempDir, writeLines } from './fixtures.ts';

async function readAll(file: string, chunkSize?: number): Promise<{ columns: readonly string[]; rows: TsvRow[] }> {
  const reader = await openTsv(file, { chunkSize });
  const rows: TsvRow[] = [];
  for await (const row of reader.rows()) rows.push(row);
  return { columns: reader.columns, rows };
}

describe('openTsv on the real Common Voice (fa) slice', () => {
  const validated = join(requireDir(cvFaSample), 'validated.tsv');

  it('reads every row: count equals `wc -l` minus the header', async () => {
    const wc = Number.parseInt(execFileSync('wc', ['-l', validated], { encoding: 'utf8' }).trim().split(/\s+/)[0]!, 10);
    const { columns, rows } = await readAll(validated);
    expect(rows.length).toBe(wc - 1);
    expect(columns).toEqual(['client_id', 'path', 'sentence', 'up_votes', 'down_votes', 'age', 'gender', 'accents', 'variant', 'locale', 'segment']);
    expect(rows[0]!.line).toBe(2);
    expect(rows.at(-1)!.line).toBe(wc);
  });

  it('gives the same fields as a naive split of the file, for every row and any chunk size', async () => {
    const expected = readFileSync(validated, 'utf8').split('\n').slice(1).filter((l) => l !== '').map((l) => l.split('\t'));
    // Tiny chunks force multi-byte Persian characters across chunk boundaries.
    for (const chunkSize of [16, 97, 1 << 20]) {
      const { rows } = await readAll(validated, chunkSize);
      expect(rows.map((r) => r.fields)).toEqual(expected);
    }
  });

  it('keeps double quotes verbatim, and reports the real malformed row of reported.tsv', async () => {
    // The real reported.tsv has free-text `reason` values with embedded newlines:
    // line 369 is the first continuation line, a genuine malformed row.
    const reported = join(cvFaSample, 'reported.tsv');
    const raw = readFileSync(reported, 'utf8').split('\n');
    const reader = await openTsv(reported, { chunkSize: 64 });
    const iSentence = reader.columns.indexOf('sentence');
    const rows: TsvRow[] = [];
    const consume = async (): Promise<void> => {
      for await (const row of reader.rows()) rows.push(row);
    };
    await expect(consume()).rejects.toThrow(`${reported}:369: expected 4 columns, found 1`);
    const quoted = rows.filter((r) => r.fields[iSentence]!.includes('"'));
    expect(quoted.map((r) => r.line)).toEqual([84]);
    // Same text as cutting the raw line at tabs: the quotes were not interpreted.
    expect(quoted[0]!.fields[iSentence]).toBe(raw[83]!.split('\t')[iSentence]);
    expect(quoted[0]!.fields[iSentence]).toBe('.بوقلمونت آمادست" هست"');
  });
});

describe('openTsv edge cases', () => {
  const dir = tempDir();

  it('does not treat quotes as field delimiters (an unbalanced quote stays in its field)', async () => {
    const file = writeLines(dir, 'quotes.tsv', ['a\tb', '"He said "no\tx', 'plain\t"y"']);
    const { rows } = await readAll(file);
    expect(rows.map((r) => r.fields)).toEqual([['"He said "no', 'x'], ['plain', '"y"']]);
  });

  it('tolerates CRLF, a BOM, blank lines and a missing final newline; line numbers stay true', async () => {
    const file = join(dir, 'crlf.tsv');
    writeFileSync(file, '\uFEFFa\tb\r\n1\t2\r\n\r\n3\té\r\n4\t5');
    for (const chunkSize of [16, 1024]) {
      const { columns, rows } = await readAll(file, chunkSize);
      expect(columns).toEqual(['a', 'b']);
      expect(rows).toEqual([
        { line: 2, fields: ['1', '2'] },
        { line: 4, fields: ['3', 'é'] },
        { line: 5, fields: ['4', '5'] },
      ]);
    }
  });

  it('grows past a line longer than the chunk size', async () => {
    const long = 'x'.repeat(5000);
    const file = writeLines(dir, 'long.tsv', ['a\tb', `${long}\t1`, 'y\t2']);
    const { rows } = await readAll(file, 64);
    expect(rows.map((r) => r.fields[0]!.length)).toEqual([5000, 1]);
  });

  it('throws a DataError naming file and line for a wrong column count', async () => {
    const file = writeLines(dir, 'short.tsv', [HEADER, 'c1\ta.mp3\ts\t2\t0\t\tmale\t\t\ten\t', 'c2\tb.mp3\ts\t2\t0\t\tmale\t\ten']);
    const reader = await openTsv(file);
    const consume = async (): Promise<void> => {
      for await (const _ of reader.rows());
    };
    await expect(consume()).rejects.toThrow(new DataError({ file, line: 3, message: 'expected 11 columns, found 9' }));
    await expect(
      (async () => {
        const r = await openTsv(file);
        for await (const _ of r.rows());
      })(),
    ).rejects.toThrow(`${file}:3: expected 11 columns, found 9`);
  });

  it('exposes file, line and reason on the error', async () => {
    const file = writeLines(dir, 'long-row.tsv', ['a\tb', '1\t2\t3']);
    const reader = await openTsv(file);
    const err = await (async () => {
      try {
        for await (const _ of reader.rows());
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err).toMatchObject({ file, line: 2, reason: 'expected 2 columns, found 3', message: `${file}:2: expected 2 columns, found 3` });
  });

  it('rejects an empty file and a duplicate column', async () => {
    const empty = join(dir, 'empty.tsv');
    writeFileSync(empty, '');
    await expect(openTsv(empty)).rejects.toThrow(`${empty}:1: missing header line`);
    const dup = writeLines(dir, 'dup.tsv', ['a\tb\ta', '1\t2\t3']);
    await expect(openTsv(dup)).rejects.toThrow(`${dup}:1: duplicate column "a" in header`);
  });

  it('stops with the abort reason', async () => {
    const file = writeLines(dir, 'abort.tsv', ['a', ...Array.from({ length: 1000 }, (_, i) => String(i))]);
    const controller = new AbortController();
    const reader = await openTsv(file, { chunkSize: 64, signal: controller.signal });
    let seen = 0;
    const run = async (): Promise<void> => {
      for await (const _ of reader.rows()) {
        if (++seen === 10) controller.abort(new Error('stop here'));
      }
    };
    await expect(run()).rejects.toThrow('stop here');
    expect(seen).toBeLessThan(1000);
  });
});
