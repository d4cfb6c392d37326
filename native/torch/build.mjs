#!/usr/bin/env node
// Builds the libtorch addon (native/torch/build/Release/xp_torch.node) with node-gyp, and never
// fails: `npm install` runs it, and a machine without libtorch must still install. On failure it
// records why in native/torch/build/xp-status.json; src/engine/libtorch.ts reports that reason
// ("libtorch backend unavailable: <reason>").
//
//   node native/torch/build.mjs            build (soft: exit 0 even when the build fails)
//   node native/torch/build.mjs --strict   exit 1 when the build fails (CI)
// Env: XP_SKIP_NATIVE=1 skips the build; LIBTORCH=/path uses a libtorch other than Debian's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, rebuildArgs } from '../nodeGyp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, 'build');
const statusFile = join(buildDir, 'xp-status.json');
const addonFile = join(buildDir, 'Release', 'xp_torch.node');
const strict = process.argv.includes('--strict');

function finish(ok, reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(statusFile, JSON.stringify({ ok, reason: reason ?? null, at: new Date().toISOString() }) + '\n');
  if (ok) {
    console.log('xp: libtorch addon built:', addonFile);
  } else {
    console.warn(`xp: libtorch backend unavailable: ${reason}`);
    console.warn('xp: (the install goes on; the libtorch engine will not be offered)');
  }
  process.exit(ok || !strict ? 0 : 1);
}

if (process.env.XP_SKIP_NATIVE === '1') finish(false, 'build skipped (XP_SKIP_NATIVE=1)');
if (process.platform !== 'linux') finish(false, `the libtorch addon is only built on Linux (this is ${process.platform})`);

// 0. Already built from these very sources (e.g. `npx xp` re-running the install script, or a
// second `npm install`): keep it. A rebuild would delete build/ first, and any xp process
// starting meanwhile would find no addon and fall back to a slower engine.
const sources = ['binding.gyp', 'torch-config.cjs', 'build.mjs', ...readdirSync(join(here, 'src')).map((f) => join('src', f))];
if (existsSync(addonFile) && sources.every((f) => statSync(join(here, f)).mtimeMs <= statSync(addonFile).mtimeMs)) {
  console.log('xp: libtorch addon up to date:', addonFile);
  process.exit(0);
}

// 1. libtorch headers.
const check = spawnSync(process.execPath, [join(here, 'torch-config.cjs'), 'check'], { encoding: 'utf8' });
let torch;
try {
  torch = JSON.parse(check.stdout);
} catch {
  finish(false, `torch-config.cjs failed: ${check.stderr || check.error?.message}`);
}
if (!torch.ok) finish(false, torch.reason);

// 2. node-gyp, and 3. Node headers (native/nodeGyp.mjs).
const gyp = findNodeGyp(here);
if (!gyp) finish(false, 'node-gyp not found (it ships with npm; or npm install node-gyp)');
const args = rebuildArgs(gyp);

console.log(`xp: building the libtorch addon (${torch.include}); this takes ~30-60 s`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
if (r.status !== 0) finish(false, `node-gyp build failed (exit ${r.status ?? r.signal}); see the output above`);
if (!existsSync(addonFile)) finish(false, `node-gyp succeeded but ${addonFile} is missing`);

// 4. Load it once in a child process: catches missing shared libraries at run time.
const probe = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addonFile)}); console.log(a.info().torchVersion)`], {
  encoding: 'utf8',
  env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
});
if (probe.status !== 0) finish(false, `the addon was built but does not load: ${(probe.stderr || '').trim().split('\n')[0]}`);
finish(true);
