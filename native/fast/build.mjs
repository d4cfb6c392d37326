#!/usr/bin/env node
// Builds xp's start-up helpers (native/fast/build/Release/xp_fast.node, see README.md) with
// node-gyp, and never fails: `npm install` runs it, and without a C compiler xp works as before,
// through Node's own APIs (native/fast/index.cjs gives null).
//
//   node native/fast/build.mjs            build (soft: exit 0 even when the build fails)
//   node native/fast/build.mjs --strict   exit 1 when the build fails (CI)
// Env: XP_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, rebuildArgs } from '../nodeGyp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const addonFile = join(here, 'build', 'Release', 'xp_fast.node');
const strict = process.argv.includes('--strict');

function finish(ok, reason) {
  if (ok) console.log('xp: start-up helpers built:', addonFile);
  else console.warn(`xp: start-up helpers not built (${reason}); xp uses Node's own APIs instead`);
  process.exit(ok || !strict ? 0 : 1);
}

if (process.env.XP_SKIP_NATIVE === '1') finish(false, 'XP_SKIP_NATIVE=1');
if (process.platform !== 'linux') finish(false, `only built on Linux (this is ${process.platform})`);

// Already built from these very sources: keep it (a rebuild deletes build/ first).
const sources = ['binding.gyp', 'build.mjs', ...readdirSync(join(here, 'src')).map((f) => join('src', f))];
if (existsSync(addonFile) && sources.every((f) => statSync(join(here, f)).mtimeMs <= statSync(addonFile).mtimeMs)) {
  console.log('xp: start-up helpers up to date:', addonFile);
  process.exit(0);
}

const gyp = findNodeGyp(here);
if (!gyp) finish(false, 'node-gyp not found');
// --silent: node-gyp's own log; a compiler error still shows (stderr).
const build = spawnSync(process.execPath, [...rebuildArgs(gyp), '--silent'], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) finish(false, `node-gyp failed (exit ${build.status ?? build.signal})`);
const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonFile)}).sha256('')`], { encoding: 'utf8' });
if (probe.status !== 0) finish(false, `built but does not load: ${(probe.stderr || '').trim().split('\n')[0]}`);
finish(true);
