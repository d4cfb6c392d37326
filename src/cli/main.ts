import { Command, CommanderError, Option } from 'commander';
import { BugError, EXIT, UserError } from '../errors.ts';
import { watchCommand } from '../ui/watchCommand.ts';
import { diffCommand } from './commands/diff.ts';
import { gcCommand } from './commands/gc.ts';
import { lsCommand } from './commands/ls.ts';
import { reportCommand } from './commands/report.ts';
import { runCommand } from './commands/run.ts';
import { showCommand } from './commands/show.ts';
import { tableCommand } from './commands/table.ts';
import { validateCommand } from './commands/validate.ts';
import { whyCommand } from './commands/why.ts';
import { processOutput, type Output } from './output.ts';
import { collect } from './specArgs.ts';

/**
 * The one exit site: commands return exit codes or throw; a UserError becomes its message
 * and exit 2, anything else is our bug (stack, exit 70).
 */
export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('xp')
    .description('Declarative, reproducible ML experiments: YAML spec → cached stage DAG → run records.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showHelpAfterError('(run `xp --help` for usage)');

  program
    .command('run')
    .description('run experiments (default: every experiments/*.yaml); finished stages come from the cache')
    .argument('[specs...]', 'spec files')
    .option('--set <path=value>', 'override a spec value, typed by the schema (repeatable)', collect, [])
    .option('--json', 'print events as NDJSON on stdout', false)
    .option('--concurrency <n>', 'independent stages run at once', (v) => positiveInt(v, '--concurrency'), 2)
    .action(async (specs: string[], opts) => {
      exitCode = await runCommand(specs, { set: opts.set, json: opts.json, concurrency: opts.concurrency }, io, argv);
    });

  program
    .command('watch')
    .description("follow a run from another terminal (id, id prefix, latest, or <spec>@latest) until it finishes")
    .argument('<run>', 'run reference')
    .option('--json', 'print its events as NDJSON on stdout', false)
    .action(async (ref: string, opts) => {
      exitCode = await watchCommand(ref, { json: opts.json }, io);
    });

  program
    .command('validate')
    .description('check specs against schemas/experiment.schema.json; every problem at once, exit 2 if any')
    .argument('[specs...]', 'spec files (default: experiments/*.yaml)')
    .option('--set <path=value>', 'override a spec value (repeatable)', collect, [])
    .option('--json', 'machine-readable output', false)
    .action((specs: string[], opts) => {
      exitCode = validateCommand(specs, { set: opts.set, json: opts.json }, io, process.env.XP_ROOT ?? process.cwd());
    });

  program
    .command('ls')
    .description('list runs: id, spec, status, headline metric, commit, date')
    .option('--spec <name>', 'only runs of this spec')
    .option('--json', 'machine-readable output', false)
    .action((opts) => {
      exitCode = lsCommand({ json: opts.json, spec: opts.spec }, io);
    });

  program
    .command('show')
    .description('one run in detail (id, id prefix, latest, or <spec>@latest)')
    .argument('<run>', 'run reference')
    .option('--json', 'the whole run record', false)
    .action((ref: string, opts) => {
      exitCode = showCommand(ref, { json: opts.json }, io);
    });

  program
    .command('why')
    .description("what a stage's cache key is made of, and what changed since the previous run of the spec")
    .argument('<run>', 'run reference')
    .argument('[stage]', 'one stage (default: all)')
    .option('--json', 'machine-readable output', false)
    .action((ref: string, stage: string | undefined, opts) => {
      exitCode = whyCommand(ref, stage, { json: opts.json }, io);
    });

  program
    .command('table')
    .description("the paper's Table 1 with these runs beside it (run references or spec files; default: latest run of each spec)")
    .argument('[runs...]', 'run references (id, prefix, latest, <spec>@latest) or spec files')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'md', 'csv']).default('text'))
    .action((refs: string[], opts) => {
      exitCode = tableCommand(refs, { format: opts.format }, io);
    });

  program
    .command('diff')
    .description('what differs between two runs: spec, stage keys and why, metrics with a paired test, commits, environment, timings')
    .argument('<runA>', 'run reference')
    .argument('<runB>', 'run reference')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'md', 'json']).default('text'))
    .action(async (refA: string, refB: string, opts) => {
      exitCode = await diffCommand(refA, refB, { format: opts.format }, io);
    });

  program
    .command('report')
    .description('one run as a pull-request comment: Table 1 row, metrics with intervals, confusion matrix, warnings, plots')
    .argument('<run>', 'run reference')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'text', 'json']).default('md'))
    .action((ref: string, opts) => {
      exitCode = reportCommand(ref, { format: opts.format }, io);
    });

  program
    .command('gc')
    .description('remove cache entries no run references, and debris of crashed processes')
    .option('--dry-run', 'only list what would be removed', false)
    .option('--json', 'machine-readable output', false)
    .action((opts) => {
      exitCode = gcCommand({ dryRun: opts.dryRun, json: opts.json }, io);
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

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
