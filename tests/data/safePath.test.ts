import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.ts';
import { checkClipPath, ClipPathChecker, resolveClipPath } from '../../src/data/safePath.ts';
import { tempDir } from './fixtures.ts';

describe('clip paths', () => {
  const root = tempDir();
  const clips = join(root, 'clips');
  const outside = join(root, 'secret.txt');
  mkdirSync(join(clips, 'sub'), { recursive: true });
  writeFileSync(join(clips, 'ok.mp3'), 'x');
  writeFileSync(join(clips, 'sub', 'nested.mp3'), 'x');
  writeFileSync(outside, 'secret');
  symlinkSync(outside, join(clips, 'evil.mp3'));
  symlinkSync(join(root, 'nowhere.mp3'), join(clips, 'dangling-out.mp3'));
  symlinkSync('ok.mp3', join(clips, 'alias.mp3'));
  const tsv = join(root, 'validated.tsv');

  it('resolves a normal name and a nested one inside clips/', async () => {
    expect(resolveClipPath(clips, 'ok.mp3', { file: tsv, line: 2 })).toBe(join(clips, 'ok.mp3'));
    expect(await checkClipPath(clips, 'sub/nested.mp3', { file: tsv, line: 2 })).toEqual({ status: 'ok', file: join(clips, 'sub', 'nested.mp3') });
  });

  it('rejects ../ escapes with the TSV file and row in the message', () => {
    expect(() => resolveClipPath(clips, '../../etc/passwd', { file: tsv, line: 17 })).toThrow(
      new DataError({ file: tsv, line: 17, message: 'clip path "../../etc/passwd" escapes clips/' }),
    );
    expect(() => resolveClipPath(clips, '../x.mp3', { file: tsv, line: 4 })).toThrow(`${tsv}:4: clip path "../x.mp3" escapes clips/`);
    expect(() => resolveClipPath(clips, 'sub/../../x.mp3', { file: tsv, line: 5 })).toThrow(`${tsv}:5: clip path "sub/../../x.mp3" escapes clips/`);
    expect(() => resolveClipPath(clips, '..', { file: tsv, line: 6 })).toThrow(`${tsv}:6: clip path ".." escapes clips/`);
    expect(() => resolveClipPath(clips, '.', { file: tsv, line: 7 })).toThrow(`${tsv}:7: clip path "." escapes clips/`);
  });

  it('rejects absolute and empty paths', () => {
    expect(() => resolveClipPath(clips, '/etc/passwd', { file: tsv, line: 9 })).toThrow(
      `${tsv}:9: clip path "/etc/passwd" is absolute (must be relative to clips/)`,
    );
    expect(() => resolveClipPath(clips, '', { file: tsv, line: 3 })).toThrow(`${tsv}:3: clip path "" is empty`);
  });

  it('rejects a symlink whose real path is outside clips/', async () => {
    await expect(checkClipPath(clips, 'evil.mp3', { file: tsv, line: 12 })).rejects.toThrow(
      `${tsv}:12: clip path "evil.mp3" resolves outside clips/ through a symlink (${realpathSync(outside)})`,
    );
  });

  it('rejects a dangling symlink pointing outside, and reports a plain missing file as missing', async () => {
    await expect(checkClipPath(clips, 'dangling-out.mp3', { file: tsv, line: 13 })).rejects.toThrow(
      `${tsv}:13: clip path "dangling-out.mp3" resolves outside clips/ through a symlink (${join(root, 'nowhere.mp3')})`,
    );
    expect(await checkClipPath(clips, 'absent.mp3', { file: tsv, line: 14 })).toEqual({ status: 'missing', file: join(clips, 'absent.mp3') });
  });

  it('accepts a symlink within clips/ and a clips/ folder that is itself a symlink', async () => {
    expect((await checkClipPath(clips, 'alias.mp3', { file: tsv, line: 2 })).status).toBe('ok');
    const linked = join(root, 'clips-link');
    symlinkSync(clips, linked);
    const checker = new ClipPathChecker(linked);
    expect((await checker.check('ok.mp3', { file: tsv, line: 2 })).status).toBe('ok');
    await expect(checker.check('evil.mp3', { file: tsv, line: 3 })).rejects.toThrow('resolves outside clips/');
  });
});
