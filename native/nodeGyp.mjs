// Shared by the addons' build scripts (native/torch/build.mjs, native/fast/build.mjs): where
// node-gyp is, and the arguments that build against the local Node headers when there are
// some (offline machines), else node-gyp's default (it downloads them).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** node-gyp: npm's own (npm sets npm_config_node_gyp in scripts), a local one, or npm's bundled copy. */
export function findNodeGyp(from) {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(join(from, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push('/usr/share/nodejs/node-gyp/bin/node-gyp.js');
  return candidates.find((c) => existsSync(c));
}

/** `node-gyp rebuild` arguments, with --nodedir when this Node ships its headers. */
export function rebuildArgs(gyp) {
  const args = [gyp, 'rebuild', '-j', 'max'];
  const prefix = dirname(dirname(process.execPath));
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  return args;
}
