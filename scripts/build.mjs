#!/usr/bin/env node
// Compiles src/ to dist/ (ESM JavaScript, same layout) and bundles that into dist/xp.cjs
// (scripts/bundle.mjs), which bin/xp.js runs instead of the TypeScript sources whenever dist/
// was built from the sources as they are now (the stamp in scripts/dist-stamp.cjs). Feature
// workers and search trials run the unbundled dist/ files. Without it xp still works, through tsx, only slower to start (~0.5 s
// more per command), so a missing or stale dist/ is never an error at run time.
//
//   node scripts/build.mjs           build unless dist/ is already fresh (npm run build; npm install/ci run it)
//   node scripts/build.mjs --force   build even when fresh
//   node scripts/build.mjs --check   exit 0 when dist/ is fresh, 1 when stale or missing; builds nothing
//
// tsc (tsconfig.build.json) transpiles only; type errors are `npm run typecheck`'s business.
// Files under src/ that are not TypeScript (workerEntry.mjs, the generated validator .cjs, ...)
// are copied beside the output, so paths built from import.meta.url resolve the same in both.
// The new tree is built in a temporary folder and renamed into place: a running xp never sees
// a half-written dist/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleCli } from './bundle.mjs';
import { currentStamp, DIST, distState, REPO, SRC, STAMP_FILE } from './dist-stamp.cjs';

const args = new Set(process.argv.slice(2));
const log = (message) => console.log(`xp build: ${message}`);

if (args.has('--check')) {
  const state = distState();
  log(`dist/ is ${state}${state === 'fresh' ? '' : ' (run `npm run build`)'}`);
  process.exit(state === 'fresh' ? 0 : 1);
}

if (!args.has('--force') && distState() === 'fresh') {
  log('dist/ is up to date');
  process.exit(0);
}

let tsc;
try {
  tsc = path.join(path.dirname(createRequire(path.join(REPO, 'package.json')).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  // `npm install --omit=dev` has no compiler: xp runs from the sources as before.
  log('typescript is not installed; skipping the build (xp runs from src/ through tsx)');
  process.exit(0);
}

const TS_SOURCE = /\.(ts|tsx|mts|cts)$/;

function copyNonTypeScript(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyNonTypeScript(source, target);
    else if (entry.isFile() && !TS_SOURCE.test(entry.name)) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, target);
    }
  }
}

async function buildOnce(temp) {
  const before = currentStamp();
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', temp], { cwd: REPO, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc failed (${result.status ?? result.signal})`);
  copyNonTypeScript(SRC, temp);
  await bundleCli(temp);
  const after = currentStamp();
  // An edit while tsc ran: the output may mix versions, so it must not be stamped as either.
  if (before.content !== after.content || (before.stat && after.stat && before.stat !== after.stat)) return null;
  writeFileSync(path.join(temp, STAMP_FILE), JSON.stringify({ ...after, builtAt: new Date().toISOString() }) + '\n');
  return after;
}

/** dist/ ← temp: move the old tree aside, the new one in, then delete the old one. */
function install(temp) {
  for (let attempt = 0; ; attempt++) {
    const old = `${DIST}.old-${process.pid}-${attempt}`;
    try {
      renameSync(DIST, old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(temp, DIST);
      rmSync(old, { recursive: true, force: true });
      return;
    } catch (error) {
      rmSync(old, { recursive: true, force: true });
      // Another build put its dist/ in place between our two renames: try again.
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || attempt >= 5) throw error;
    }
  }
}

/** dist.tmp-<pid> / dist.old-<pid>-<n> left by a build that was killed. */
function sweepDebris() {
  for (const name of readdirSync(REPO)) {
    const match = /^dist\.(?:tmp|old)-(\d+)/.exec(name);
    if (!match) continue;
    try {
      process.kill(Number(match[1]), 0);
      continue; // its build is still running
    } catch (error) {
      if (error.code === 'EPERM') continue;
    }
    rmSync(path.join(REPO, name), { recursive: true, force: true });
  }
}

const started = Date.now();
const temp = `${DIST}.tmp-${process.pid}`;
sweepDebris();
try {
  for (let attempt = 1; ; attempt++) {
    rmSync(temp, { recursive: true, force: true });
    if (await buildOnce(temp)) break;
    if (attempt >= 3) throw new Error('the sources kept changing during the build; run `npm run build` again');
    log('sources changed during the build; building again');
  }
  install(temp);
  log(`compiled src/ to dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  rmSync(temp, { recursive: true, force: true });
  console.error(`xp build: failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error('xp build: (bin/xp.js runs the TypeScript sources through tsx until a build succeeds)');
  process.exit(1);
}
