'use strict';
// `git status` of a project folder, which can be started before xp itself loads: bin/xp.js
// starts it for the commands that record runs, so git works on another core while xp loads.
// Plain CommonJS, so the launcher can require it as it is.
const { existsSync } = require('node:fs');
const path = require('node:path');

/** Where an early status waits to be taken (on globalThis: the launcher and the CLI bundle each have their own copy of this module). */
const EARLY = Symbol.for('xp.earlyGitStatus');
// Porcelain v2 with --branch: `# branch.oid <commit | (initial)>`, `# branch.head <name | (detached)>`, then one line per change.
// --no-optional-locks: read-only, as an editor's background status is (no index.lock, no index rewrite).
const STATUS_ARGS = ['--no-optional-locks', 'status', '--porcelain=v2', '--branch', '--untracked-files=all'];

/**
 * Output of `git <args>` in `cwd`, or null when git fails or is missing. Through native/fast
 * when it is built: posix_spawn, where Node forks the whole process first (10-20 ms of this
 * thread on a VM, plus loading child_process, net and stream).
 */
function runGit(cwd, args) {
  const fast = require('../../native/fast/index.cjs');
  if (fast) return fast.capture('git', args, cwd).then(({ status, stdout }) => (status === 0 ? stdout : null));
  return new Promise((resolve) => {
    require('node:child_process').execFile('git', args, { cwd, maxBuffer: 256 * 2 ** 20 }, (error, stdout) => resolve(error ? null : stdout));
  });
}

/** Start `git status` in `cwd` now, for gitStatus(cwd) to take later. */
function startGitStatus(cwd) {
  const folder = path.resolve(cwd);
  if (mayBeInRepository(folder)) globalThis[EARLY] = { folder, status: runGit(folder, STATUS_ARGS) };
}

/** Porcelain-v2 status of `cwd`, null outside a repository: the early one if it was started for this folder. */
function gitStatus(cwd) {
  const folder = path.resolve(cwd);
  const early = globalThis[EARLY];
  if (early && early.folder === folder) {
    delete globalThis[EARLY];
    return early.status;
  }
  return mayBeInRepository(folder) ? runGit(folder, STATUS_ARGS) : Promise.resolve(null);
}

/**
 * False only when git could not find a repository from `folder` either: no `.git` (folder or
 * file) and no bare repository's HEAD in it or any folder above, and no GIT_DIR. Spares the
 * spawn for projects outside version control.
 */
function mayBeInRepository(folder) {
  if (process.env.GIT_DIR) return true;
  for (let dir = folder; ; ) {
    if (existsSync(path.join(dir, '.git')) || existsSync(path.join(dir, 'HEAD'))) return true;
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

module.exports = { startGitStatus, gitStatus, runGit };
