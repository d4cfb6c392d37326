import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { BugError, EXIT, UserError } from '../errors.ts';
import { processOutput, type Output } from './output.ts';
import { collect } from './specArgs.ts';

/**
 * Commands are imported when they run: the dashboard (ink, react), the search queue (bullmq)
 * and the plotting library are large, and `xp run` on a cached spec should start fast.
 *
 * The one exit site: commands return exit codes or throw; a UserError becomes its message
 * and exit 2, anything else is our bug (stack, exit 70).
 */
export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('xp')
    .description('Declarative, reproducible ML experiments: YAML spec → cached stage DAG → run records.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run `xp --help` for usage)')
    .version(xpVersion(), '-V, --version', "print xp's version");

  program
    .command('run')
    .description('run experiments (default: every experiments/*.yaml); finished stages come from the cache')
    .argument('[specs...]', 'spec files')
    .option('--set <path=value>', 'override a spec value, typed by the schema (repeatable)', collect, [])
    .option('--json', 'print events as NDJSON on stdout', false)
    .option('--seeds <n|list>', 'train and evaluate once per seed: a count (5 → seeds 1…5) or a list (1,2,3); same as --set seeds=[…]')
    .option('--concurrency <n>', 'independent stages run at once', (v) => positiveInt(v, '--concurrency'), 2)
    .action(async (specs: string[], opts) => {
      const run = await import('./commands/run.ts');
      const set = opts.seeds ? [...opts.set, run.seedsOverride(opts.seeds)] : opts.set;
      exitCode = await run.runCommand(specs, { set, json: opts.json, concurrency: opts.concurrency }, io, argv);
    });

  program
    .command('results')
    .description('run specs (cached stages are reused) and write their results, models and ablation groups, as one markdown document')
    .argument('[specs...]', 'spec files (default: experiments/*.yaml and experiments/ablations/*.yaml); files under an ablations/ folder are grouped by name prefix')
    .option('--out <file>', 'write the markdown here (default: print it)')
    .option('--seeds <n|list>', 'seeds for every spec: a count (5 → seeds 1…5) or a list (1,2,3)')
    .option('--set <path=value>', 'override a spec value in every spec (repeatable)', collect, [])
    .action(async (specs: string[], opts) => {
      const { seedsOverride } = await import('./commands/run.ts');
      const set = opts.seeds ? [...opts.set, seedsOverride(opts.seeds)] : opts.set;
      exitCode = await (await import('./commands/results.ts')).resultsCommand(specs, { set, out: opts.out, json: false }, io, argv);
    });

  program
    .command('watch')
    .description("follow a run from another terminal (id, id prefix, latest, or <spec>@latest) until it finishes")
    .argument('<run>', 'run reference')
    .option('--json', 'print its events as NDJSON on stdout', false)
    .action(async (ref: string, opts) => {
      exitCode = await (await import('../ui/watchCommand.ts')).watchCommand(ref, { json: opts.json }, io);
    });

  program
    .command('validate')
    .description('check specs against schemas/experiment.schema.json; every problem at once, exit 2 if any')
    .argument('[specs...]', 'spec files (default: experiments/*.yaml)')
    .option('--set <path=value>', 'override a spec value (repeatable)', collect, [])
    .option('--json', 'machine-readable output', false)
    .action(async (specs: string[], opts) => {
      exitCode = (await import('./commands/validate.ts')).validateCommand(specs, { set: opts.set, json: opts.json }, io, process.env.XP_ROOT ?? process.cwd());
    });

  program
    .command('ls')
    .description('list runs: id, spec, status, headline metric, commit, date')
    .option('--spec <name>', 'only runs of this spec')
    .option('--json', 'machine-readable output', false)
    .action(async (opts) => {
      exitCode = (await import('./commands/ls.ts')).lsCommand({ json: opts.json, spec: opts.spec }, io);
    });

  program
    .command('show')
    .description('one run in detail (id, id prefix, latest, or <spec>@latest)')
    .argument('<run>', 'run reference')
    .option('--json', 'the whole run record', false)
    .action(async (ref: string, opts) => {
      exitCode = (await import('./commands/show.ts')).showCommand(ref, { json: opts.json }, io);
    });

  program
    .command('why')
    .description("what a stage's cache key is made of, and what changed since the previous run of the spec")
    .argument('<run>', 'run reference')
    .argument('[stage]', 'one stage (default: all)')
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, stage: string | undefined, opts) => {
      exitCode = (await import('./commands/why.ts')).whyCommand(ref, stage, { json: opts.json }, io);
    });

  program
    .command('table')
    .description("the paper's Table 1 with these runs beside it (run references or spec files; default: latest run of each spec)")
    .argument('[runs...]', 'run references (id, prefix, latest, <spec>@latest) or spec files')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'md', 'csv', 'json']).default('text'))
    .option('--json', 'same as --format json', false)
    .action(async (refs: string[], opts) => {
      exitCode = (await import('./commands/table.ts')).tableCommand(refs, { format: opts.json ? 'json' : opts.format }, io);
    });

  program
    .command('predict')
    .description("classify audio files with a run's trained model (decoded with the run's feature parameters)")
    .argument('<run>', 'run reference')
    .argument('<files...>', 'audio files (mp3, flac, wav)')
    .option('--seed <seed>', "a multi-seed run: which seed's model (default: the first)", (v) => positiveInt(v, '--seed', 0))
    .option('--json', 'machine-readable output', false)
    .action(async (ref: string, files: string[], opts) => {
      exitCode = await (await import('./commands/predict.ts')).predictCommand(ref, files, { json: opts.json, seed: opts.seed }, io);
    });

  program
    .command('diff')
    .description('what differs between two runs: spec, stage keys and why, metrics with a paired test, commits, environment, timings')
    .argument('<runA>', 'run reference')
    .argument('<runB>', 'run reference')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'md', 'json']).default('text'))
    .option('--json', 'same as --format json', false)
    .action(async (refA: string, refB: string, opts) => {
      exitCode = await (await import('./commands/diff.ts')).diffCommand(refA, refB, { format: opts.json ? 'json' : opts.format }, io);
    });

  program
    .command('report')
    .description('one run as a pull-request comment: Table 1 row, metrics with intervals, confusion matrix, warnings, plots')
    .argument('<run>', 'run reference')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'text', 'json']).default('md'))
    .option('--json', 'same as --format json', false)
    .action(async (ref: string, opts) => {
      exitCode = (await import('./commands/report.ts')).reportCommand(ref, { format: opts.json ? 'json' : opts.format }, io);
    });

  program
    .command('worker')
    .description('serve hyper-parameter search trials queued on Redis (search.executor: bullmq) into this project\'s cache')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://10.0.0.5:6379')
    .option('--root <dir>', 'project root shared with the search (default: XP_ROOT, else the current directory)')
    .option('--lock-ms <ms>', "a dead worker's trial is handed to another after about this long", (v) => positiveInt(v, '--lock-ms', 1000), 30_000)
    .action(async (opts) => {
      exitCode = await (await import('./commands/worker.ts')).workerCommand({ redis: opts.redis, root: opts.root, lockMs: opts.lockMs }, io);
    });

  program
    .command('ci')
    .description('pull-request review: run the experiments changed since --base (and their base versions), write a markdown report')
    .requiredOption('--base <ref>', 'git ref to compare with, e.g. origin/main or HEAD~1')
    .option('--out <file>', 'where to write the markdown report', 'xp-report.md')
    .action(async (opts) => {
      exitCode = await (await import('./commands/ci.ts')).ciCommand({ base: opts.base, out: opts.out }, io, argv);
    });

  program
    .command('gc')
    .description('remove cache entries no run references, and debris of crashed processes')
    .option('--dry-run', 'only list what would be removed', false)
    .option('--json', 'machine-readable output', false)
    .action(async (opts) => {
      exitCode = (await import('./commands/gc.ts')).gcCommand({ dryRun: opts.dryRun, json: opts.json }, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return exitFor(error, io);
  }
}

function exitFor(error: unknown, io: Output): number {
  if (error instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  if (error instanceof UserError) {
    io.err(`error: ${error.message}`);
    for (const line of error.details) io.err(line);
    return EXIT.badInput;
  }
  const bug = error instanceof BugError ? error : error;
  io.err(`internal error (a bug in xp, please report it): ${bug instanceof Error ? (bug.stack ?? bug.message) : String(bug)}`);
  return EXIT.bug;
}

/** xp's version, from its package.json. */
function xpVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}
