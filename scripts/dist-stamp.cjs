'use strict';
// Is dist/ (the compiled CLI, scripts/build.mjs) built from the sources as they are now?
// Shared by bin/xp.js, which asks on every start (so it must stay cheap: a readdir per folder
// and a stat per file, a few ms), and by the build, which writes the stamp.
//
// The stamp (dist/.stamp.json) describes the build's inputs (every file under src/, plus the
// build's own configuration: tsconfig.json, tsconfig.build.json, this file, scripts/build.mjs and
// scripts/bundle.mjs)
// twice:
//   - `stat`: path, size, mtime, ctime and inode of each. Equal now → the very same files,
//     untouched since the build (ctime cannot be set back, so restoring an mtime does not fool it).
//   - `content`: a sha256 of the path and bytes of each. Checked only when `stat` differs: a git
//     checkout back and forth, a copied tree or a `touch` changes stats but not content, and
//     such a dist is still the right one; any changed, added or removed file makes it stale.
// A stale or missing dist is never run: bin/xp.js runs the sources through tsx instead.
// CommonJS, so that bin/xp.js can load it without starting Node's ES module loader.
const { readdirSync, readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const SRC = path.join(REPO, 'src');
const DIST = path.join(REPO, 'dist');
const STAMP_FILE = '.stamp.json';
const STAMP_VERSION = 1;
const RACY_MS = 1_000;
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/bundle.mjs', 'scripts/dist-stamp.cjs'];

/** The build's input files, repo-relative with `/` separators, in a stable order. */
function inputFiles() {
  const files = [];
  const walk = (dir, relative) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${relative}${entry.name}/`);
      else files.push(`${relative}${entry.name}`);
    }
  };
  walk(SRC, 'src/');
  return [...files, ...CONFIG_FILES];
}

/**
 * One line per file: path, size, mtime, ctime, inode (kept as text, not hashed: comparing it
 * is cheaper than hashing it), and the newest mtime/ctime among the files.
 */
function statSnapshot(files = inputFiles()) {
  // Concatenated, not path.join: ~15 µs a call in a process this young, × every file.
  const stats = statAll(path.sep === '/' ? files.map((file) => `${REPO}/${file}`) : files.map((file) => path.join(REPO, file)));
  let listing = '';
  let newestMs = 0;
  for (const [i, file] of files.entries()) {
    const s = stats[i];
    if (s) {
      listing += `${file}\t${s.size}\t${s.mtimeMs}\t${s.ctimeMs}\t${s.ino}\n`;
      newestMs = Math.max(newestMs, s.mtimeMs, s.ctimeMs);
    } else {
      listing += `${file}\tmissing\n`;
    }
  }
  return { listing, newestMs };
}

/** size, mtimeMs, ctimeMs and ino of each file (undefined: missing), through native/fast when it is built. */
function statAll(files) {
  const fast = require('../native/fast/index.cjs');
  if (!fast) return files.map((file) => statSync(file, { throwIfNoEntry: false }));
  const values = fast.statMany(files);
  return files.map((_, i) => (Number.isNaN(values[i * 4]) ? undefined : { size: values[i * 4], mtimeMs: values[i * 4 + 1], ctimeMs: values[i * 4 + 2], ino: values[i * 4 + 3] }));
}

function contentDigest(files = inputFiles()) {
  // Required here, not at the top: a start with fresh stats never hashes.
  const hash = require('node:crypto').createHash('sha256');
  for (const file of files) {
    let bytes;
    try {
      bytes = readFileSync(path.join(REPO, file));
    } catch {
      bytes = null;
    }
    hash.update(`${file}\0${bytes === null ? 'missing' : bytes.length}\n`);
    if (bytes) hash.update(bytes);
  }
  return hash.digest('hex');
}

/**
 * Both digests of the inputs as they are now. File times tick coarsely (a few ms), so a file
 * changed within a tick of its last change can keep its stats: when any input changed less than
 * RACY_MS ago, `stat` is null and readers compare content (as git does for "racily clean" files).
 */
function currentStamp() {
  const files = inputFiles();
  const now = Date.now();
  const { listing, newestMs } = statSnapshot(files);
  return { version: STAMP_VERSION, stat: newestMs > now - RACY_MS ? null : listing, content: contentDigest(files) };
}

function readStamp(dist = DIST) {
  try {
    const stamp = JSON.parse(readFileSync(path.join(dist, STAMP_FILE), 'utf8'));
    return stamp && stamp.version === STAMP_VERSION ? stamp : null;
  } catch {
    return null;
  }
}

/** 'fresh', 'stale' or 'missing'. Never throws: anything unexpected is 'stale'. */
function distState(dist = DIST) {
  try {
    const stamp = readStamp(dist);
    if (!stamp) return 'missing';
    const files = inputFiles();
    if (stamp.stat && stamp.stat === statSnapshot(files).listing) return 'fresh';
    return stamp.content === contentDigest(files) ? 'fresh' : 'stale';
  } catch {
    return 'stale';
  }
}

module.exports = { REPO, SRC, DIST, STAMP_FILE, inputFiles, statSnapshot, contentDigest, currentStamp, readStamp, distState };
