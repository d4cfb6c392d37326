// Bundles the compiled CLI (dist/cli/main.js and everything it imports, lazily imported
// modules included) into one CommonJS file, dist/xp.cjs, which bin/xp.js runs through V8's
// code cache (scripts/code-cache.cjs). Why: a no-op `xp run` is mostly start-up, and one
// code-cached file skips resolving, reading and compiling ~200 modules (see bench/noop-rerun.ts).
//
// What stays outside, loaded from node_modules at run time: every npm package except the few
// small ones the CLI needs on every start (INLINE). yaml, needed only when a spec is parsed
// (not when it comes from the spec cache), is bundled on its own into dist/yaml.cjs. Packages
// that are ES modules must be imported with `await import()` in the sources (ink, the audio
// decoders): a CommonJS bundle can only `require` its externals, and the build fails if one of
// them is ESM.
//
// Each module keeps its own `import.meta.url` (rewritten to its file under dist/), so paths
// built from it (schemas/, native/, worker entry points) resolve exactly as in dist/.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';

const BUNDLE_FILE = 'xp.cjs';
/** yaml, as one file beside the bundle: src/spec/yamlLibrary.ts loads it when a spec is parsed. */
const YAML_FILE = 'yaml.cjs';
/** What each module's `import.meta.url` becomes (a function of its path under dist/, in the banner). */
const FILE_URL = '__xpFileUrl';
/** The name scripts/code-cache.cjs gives the import function it passes to the bundle. */
const IMPORTER = '__xpImport';
/** Packages inlined into the bundle: needed by every command, small, CommonJS. */
const INLINE = ['commander'];
/**
 * Built-in modules that cost start-up time when required (child_process pulls in net, stream
 * and dgram: ~12 ms; tty pulls in net and stream; crypto ~8 ms) and are needed only by some
 * commands: commander and xp's git reader require child_process at load but spawn only when
 * used, the CLI asks tty only when its output is a character device (src/cli/output.ts), and
 * hashing goes through native/fast when it is built (src/util/canonicalJson.ts). They load
 * when one of their exports is first read. Their export names are listed at build time (the
 * bundle's interop copies them onto a namespace object, which must not load the module to list them).
 */
const LAZY_BUILTINS = ['child_process', 'tty', 'crypto'];

/** Build `${dist}/xp.cjs` from the compiled tree in `dist`. Throws with esbuild's messages. */
export async function bundleCli(dist) {
  const esbuild = await import('esbuild');
  const outfile = path.join(dist, BUNDLE_FILE);
  const result = await esbuild.build({
    entryPoints: [path.join(dist, 'cli', 'main.js')],
    outfile,
    // Module names in the output are relative to dist/, not to the temporary folder a build
    // writes into: the same sources give the same bundle, and the same build id.
    absWorkingDir: dist,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    metafile: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    // Smaller to read at every start (~4 ms here); identifiers are kept, so stack traces still name functions.
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: `const ${FILE_URL} = (file) => require("node:url").pathToFileURL(require("node:path").join(__dirname, file)).href;` },
    plugins: [lazyBuiltins(), externalPackages(), nativeAddons(dist), ownImportMetaUrl(dist)],
  });
  checkExternals(result.metafile, dist);
  const code = asciiOnly(viaImporter(result.outputFiles[0].text, result.metafile));
  // The build id names the code caches made from this exact text (scripts/code-cache.cjs).
  const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
  writeFileSync(outfile, `// xp build ${id}\n${code}`);
  await bundleLibrary(esbuild, 'yaml', path.join(dist, YAML_FILE));
  return outfile;
}

async function bundleLibrary(esbuild, name, outfile) {
  await esbuild.build({
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: path.dirname(outfile) },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
  });
}

/** `require('node:child_process')` → an object that requires it when a property is first read. */
function lazyBuiltins() {
  const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
  return {
    name: 'xp-lazy-builtins',
    setup(build) {
      build.onResolve({ filter }, (args) =>
        // The lazy module's own require is the real one.
        args.namespace === 'xp-lazy-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'xp-lazy-builtin' },
      );
      build.onLoad({ filter: /.*/, namespace: 'xp-lazy-builtin' }, (args) => ({
        loader: 'js',
        contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}));
const names = ${JSON.stringify(Object.keys(createRequire(import.meta.url)(`node:${args.path}`)))};
module.exports = new Proxy({}, {
  // The interop helper asks for __esModule first; a built-in has none.
  get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
  has: (_, key) => names.includes(key) || key in load(),
  ownKeys: () => names,
  getOwnPropertyDescriptor: (_, key) => (names.includes(key) ? { value: undefined, writable: true, enumerable: true, configurable: true } : undefined),
});
`,
      }));
    },
  };
}

/** A native addon (`.node`) stays where it is built, required by its path from the bundle. */
function nativeAddons(dist) {
  return {
    name: 'xp-native-addons',
    setup(build) {
      build.onResolve({ filter: /\.node$/ }, (args) => {
        const relative = path.relative(dist, path.resolve(args.resolveDir, args.path));
        return { path: relative.startsWith('.') ? relative : `./${relative}`, external: true };
      });
    },
  };
}

/** Bare imports are external unless INLINE lists them. */
function externalPackages() {
  return {
    name: 'xp-external-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || builtinModules.includes(args.path)) return { path: args.path, external: true };
        const inline = INLINE.some((name) => args.path === name || args.path.startsWith(`${name}/`));
        return inline ? undefined : { path: args.path, external: true };
      });
    },
  };
}

/** `import.meta.url` → the URL of the module's own file, relative to where the bundle lives. */
function ownImportMetaUrl(dist) {
  return {
    name: 'xp-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.(js|mjs|cjs)$/ }, (args) => {
        const contents = readFileSync(args.path, 'utf8');
        if (!contents.includes('import.meta')) return undefined;
        const rewritten = contents.replaceAll('import.meta.url', `${FILE_URL}(${JSON.stringify(path.relative(dist, args.path))})`);
        if (rewritten.includes('import.meta')) {
          throw new Error(`${args.path}: only import.meta.url can be bundled (found another import.meta property)`);
        }
        return { contents: rewritten, loader: 'js' };
      });
    },
  };
}

/** A `require` of an ES module fails at run time (or, with top-level await, always): refuse to build one. */
function checkExternals(metafile, dist) {
  const require = createRequire(path.join(dist, 'package.json'));
  const problems = [];
  for (const output of Object.values(metafile.outputs)) {
    for (const { path: specifier, kind, external } of output.imports) {
      if (!external || kind === 'dynamic-import' || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      let resolved;
      try {
        resolved = require.resolve(specifier);
      } catch {
        continue; // an optional package (tfjs-node): the code that needs it reports its absence
      }
      if (isEsm(resolved)) problems.push(`${specifier} is an ES module: import it with \`await import('${specifier}')\` (a CommonJS bundle cannot require it)`);
    }
  }
  if (problems.length) throw new Error(`cannot bundle the CLI:\n  ${[...new Set(problems)].join('\n  ')}`);
}

function isEsm(file) {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs') || !file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
    } catch {
      /* no package.json here: look further up */
    }
  }
  return false;
}

/**
 * `import("pkg")` → `${IMPORTER}("pkg")`: the bundle runs as a vm.Script, whose own `import()`
 * fails once its code comes from V8's code cache ("A dynamic import callback was not
 * specified", Node 20), so scripts/code-cache.cjs passes in a function that imports for it.
 */
function viaImporter(code, metafile) {
  const specifiers = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const { path: specifier, kind, external } of output.imports) if (external && kind === 'dynamic-import') specifiers.add(specifier);
  }
  let result = code;
  for (const specifier of specifiers) result = result.replaceAll(`import(${JSON.stringify(specifier)})`, `${IMPORTER}(${JSON.stringify(specifier)})`);
  const left = result.match(/\bimport\((?!\))/g);
  if (left) throw new Error(`cannot bundle the CLI: ${left.length} import() call(s) not rewritten (only import("package") with a literal name can be)`);
  return result;
}

/**
 * Escape every non-ASCII character (esbuild leaves them in comments and regular expressions):
 * V8 reads an ASCII file as a one-byte string, ~3× faster than decoding UTF-8 into two bytes a
 * character. `\uXXXX` means the same character in strings, templates, regexps and identifiers.
 */
function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

