import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fast } from '../../src/util/fast.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';

// native/fast replaces Node APIs on the start-up path; it must give exactly what they give.
describe('native/fast', () => {
  it('is built where CI builds it (npm run build:native)', () => {
    if (process.env.CI) expect(fast).not.toBeNull();
  });

  describe.skipIf(!fast)('matches Node', () => {
    const tempDir = useTempDirs();

    it('sha256: node:crypto on strings (as UTF-8) and bytes of every length around the block edges', () => {
      const lengths = [0, 1, 3, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537];
      for (const n of lengths) {
        const bytes = randomBytes(n);
        expect(fast!.sha256(bytes), `${n} bytes`).toBe(createHash('sha256').update(bytes).digest('hex'));
        const text = 'aé漢😀\n\0'.repeat(n).slice(0, n);
        expect(fast!.sha256(text), `${n} chars`).toBe(createHash('sha256').update(text).digest('hex'));
      }
    });

    it('statMany: fs.statSync size, mtimeMs, ctimeMs and ino; NaN for a missing file', () => {
      const dir = tempDir();
      const files = ['a.txt', 'b.bin', 'c d.txt'].map((name, i) => {
        const file = path.join(dir, name);
        writeFileSync(file, randomBytes(10 ** i));
        return file;
      });
      const values = fast!.statMany([...files, dir, path.join(dir, 'missing')]);
      [...files, dir].forEach((file, i) => {
        const s = statSync(file);
        expect([values[i * 4], values[i * 4 + 1], values[i * 4 + 2], values[i * 4 + 3]], file).toEqual([s.size, s.mtimeMs, s.ctimeMs, s.ino]);
      });
      expect(Number.isNaN(values[16])).toBe(true);
    });

    it('capture: the stdout and exit status of a program in a folder; -1 when it cannot run', async () => {
      const dir = tempDir();
      expect(await fast!.capture('git', ['--version'], dir)).toEqual({ status: 0, stdout: execFileSync('git', ['--version'], { encoding: 'utf8' }) });
      expect(await fast!.capture('pwd', [], dir)).toEqual({ status: 0, stdout: `${realpathSync(dir)}\n` });
      expect((await fast!.capture('git', ['rev-parse', 'HEAD'], dir)).status).toBe(128);
      expect(await fast!.capture('xp-no-such-program', [], dir)).toEqual({ status: -1, stdout: '' });
      // Output far past the first 64 kB buffer: all of it (a dirty tree's status can be long).
      const long = await fast!.capture('sh', ['-c', 'yes "untracked/file name.txt" | head -n 100000'], dir);
      expect(long.status).toBe(0);
      expect(long.stdout).toBe('untracked/file name.txt\n'.repeat(100_000));
    });
  });
});
