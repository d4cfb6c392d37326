import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { miniSpec, writeMiniCorpus } from '../fixtures/miniCorpus.ts';
import { repoRoot } from '../fixtures/paths.ts';
import { useTempDirs } from '../fixtures/tempProject.ts';
import { fast } from '../../src/util/fast.ts';

// What users run: bin/xp.js → the bundle dist/xp.cjs through V8's code cache
// (scripts/bundle.mjs, scripts/code-cache.cjs). Built here if dist/ is not fresh, as `npm install` does.
const require = createRequire(import.meta.url);
const { distState } = require('../../scripts/dist-stamp.cjs') as typeof import('../../scripts/dist-stamp.cjs');
const { compileWithCodeCache } = require('../../scripts/code-cache.cjs') as {
  compileWithCodeCache(file: string, cacheDir: string, name: string): { run(): Record<string, unknown>; saveCache(): void; cache: string };
};
const BIN = path.join(repoRoot, 'bin', 'xp.js');
const BUNDLE = path.join(repoRoot, 'dist', 'xp.cjs');

function xpProcess(args: string[], root: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, XP_ROOT: root, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the bundled CLI', () => {
  const tempDir = useTempDirs();

  beforeAll(() => {
    if (distState() === 'fresh') return;
    const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
  }, 120_000);

  it('is one ASCII CommonJS file with a build id, holding commander, with yaml in a file of its own', () => {
    const text = readFileSync(BUNDLE, 'latin1');
    // (Assertions on extracts: a failing match on the whole text would print 700 kB.)
    expect(text.slice(0, 29)).toMatch(/^\/\/ xp build [0-9a-f]{16}\n/);
    expect(text.match(/[^\x00-\x7f]/g) ?? []).toEqual([]);
    expect(text.match(/require\("(yaml|commander)"\)/g) ?? []).toEqual([]);
    expect(text.includes('"../node_modules/commander/index.js"')).toBe(true);
    expect(text.includes('"../node_modules/yaml/dist/index.js"')).toBe(false);
    expect(createRequire(BUNDLE)('./yaml.cjs').parse('a: [1, 2]')).toEqual({ a: [1, 2] });
  });

  it('runs a spec with the same keys, metrics and git state as the sources without native/fast, and validates with the same errors', () => {
    const root = tempDir();
    writeMiniCorpus(root);
    writeFileSync(path.join(root, 'mini.yaml'), miniSpec('mini'));
    // A git project with an uncommitted file, so the records carry a commit and a diff hash.
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=xp', '-c', 'user.email=xp@example.com', ...args], { cwd: root });
    writeFileSync(path.join(root, '.gitignore'), 'runs/\n.xp/\n');
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'mini');
    writeFileSync(path.join(root, 'notes.txt'), 'not committed\n');
    // A short `xp run` first (a missing spec: exit 2) leaves the code cache the real run then
    // starts from: code from the cache must still import ESM packages (vega for eval's plots).
    expect(xpProcess(['run', 'missing.yaml'], root).code).toBe(2);
    expect(readdirSync(path.join(repoRoot, 'dist', '.code-cache')).some((name) => name.startsWith('run-'))).toBe(true);
    const bundled = xpProcess(['run', 'mini.yaml', '--json'], root);
    expect(bundled.code, bundled.stderr).toBe(0);
    // The sources without native/fast (node:crypto, fs.statSync, child_process), in the same
    // project: every stage comes from the cache the bundle filled.
    const source = xpProcess(['run', 'mini.yaml', '--json'], root, { XP_FROM_SOURCE: '1', XP_NATIVE_FAST: '0' });
    expect(source.code, source.stderr).toBe(0);
    const finished = (out: string) => out.trim().split('\n').map((line) => JSON.parse(line)).find((e) => e.type === 'run-finished');
    const outcomes = (out: string) =>
      out.trim().split('\n').map((line) => JSON.parse(line)).filter((e) => e.type === 'stage-status' && (e.status === 'done' || e.status === 'cached')).map((e) => `${e.stage} ${e.key}`);
    expect(outcomes(bundled.stdout)).toHaveLength(4);
    expect(outcomes(source.stdout)).toEqual(outcomes(bundled.stdout));
    expect(source.stdout.match(/"status":"cached"/g)).toHaveLength(4);
    expect(finished(source.stdout).metrics).toEqual(finished(bundled.stdout).metrics);
    const gitOf = (out: string) => {
      const runId = JSON.parse(out.split('\n')[0]!).runId as string;
      return JSON.parse(readFileSync(path.join(root, 'runs', runId, 'run.json'), 'utf8')).git;
    };
    expect(gitOf(bundled.stdout)).toMatchObject({ dirty: true, branch: expect.any(String), commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(gitOf(source.stdout)).toEqual(gitOf(bundled.stdout));

    writeFileSync(path.join(root, 'bad.yaml'), 'name: bad\nseed: x\ntrain: { epochs: -1, batchsize: 8 }\n');
    const badBundled = xpProcess(['validate', 'bad.yaml'], root);
    const badSource = xpProcess(['validate', 'bad.yaml'], root, { XP_FROM_SOURCE: '1' });
    expect(badBundled.code).toBe(2);
    expect(badBundled.stderr.match(/^bad\.yaml:\d+:\d+: /gm)).toHaveLength(3);
    expect(badBundled).toEqual(badSource);
  }, 120_000);

  it('loads child_process, tty and (with native/fast built) crypto only when a command uses them', () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'ok.yaml'), miniSpec('ok'));
    // `xp validate` with stdout and stderr piped: no git, no terminal.
    const probe = `const seen = new Set(process.moduleLoadList);
process.on('exit', () => require('node:fs').writeSync(2, '\\nLOADED ' + process.moduleLoadList.filter((m) => !seen.has(m)).join(',')));
process.argv = [process.argv[0], ${JSON.stringify(BIN)}, 'validate', 'ok.yaml'];
require(${JSON.stringify(BIN)});`;
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8', env: { ...process.env, XP_ROOT: root } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('ok');
    const loaded = result.stderr.split('LOADED ')[1]!.split(',');
    expect(loaded).toContain('NativeModule vm'); // the code cache's: the probe sees what the bundle loads
    if (fast) expect(loaded).not.toContain('NativeModule crypto');
    expect(loaded).not.toContain('NativeModule child_process');
    expect(loaded).not.toContain('NativeModule tty');
    expect(loaded).not.toContain('NativeModule net');
  });
});

describe('compileWithCodeCache', () => {
  const tempDir = useTempDirs();

  it('writes a cache on a short run, which the same source then hits and an other build never sees', () => {
    const dir = tempDir();
    const file = path.join(dir, 'module.cjs');
    const cacheDir = path.join(dir, 'cache');
    writeFileSync(file, '// xp build 0123456789abcdef\nmodule.exports = { twice: (x) => 2 * x };\n');
    const first = compileWithCodeCache(file, cacheDir, 'run');
    expect(first.cache).toBe('miss');
    expect((first.run().twice as (x: number) => number)(21)).toBe(42);
    first.saveCache();
    const second = compileWithCodeCache(file, cacheDir, 'run');
    expect(second.cache).toBe('hit');
    expect((second.run().twice as (x: number) => number)(4)).toBe(8);
    // Same length, other code, other build id: the first build's cache is not offered to it.
    writeFileSync(file, '// xp build fedcba9876543210\nmodule.exports = { twice: (x) => 3 * x };\n');
    const rebuilt = compileWithCodeCache(file, cacheDir, 'run');
    expect(rebuilt.cache).toBe('miss');
    expect((rebuilt.run().twice as (x: number) => number)(4)).toBe(12);
    // Without a build id there is no cache at all.
    writeFileSync(file, 'module.exports = { twice: (x) => 2 * x };\n');
    expect(compileWithCodeCache(file, cacheDir, 'run').cache).toBe('off');
  });
});

describe('bundleCli', () => {
  it('refuses to bundle a static import of an ES module package, naming it', async () => {
    // Inside the repository, so the package resolves from node_modules as it would from dist/.
    const dist = path.join(repoRoot, 'node_modules', '.cache', `xp-bundle-test-${process.pid}`);
    mkdirSync(path.join(dist, 'cli'), { recursive: true });
    try {
      writeFileSync(path.join(dist, 'cli', 'main.js'), "import { render } from 'ink';\nexport const main = () => render;\n");
      const { bundleCli } = await import('../../scripts/bundle.mjs');
      await expect(bundleCli(dist)).rejects.toThrow(/ink is an ES module: import it with `await import\('ink'\)`/);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
