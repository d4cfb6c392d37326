/**
 * Ingest benchmark: can we read a full-size Common Voice validated.tsv fast
 * enough, in bounded memory?
 *
 *   npx tsx bench/ingest.ts [--rows 864448] [--runs 3] [--seed 1] [--regenerate]
 *
 * Generates (once, cached in os.tmpdir()) a realistic validated.tsv with the
 * real column set: 128-hex client ids with a heavy-tailed clip count per
 * speaker (some contributors have thousands of clips), sentences with double
 * quotes, apostrophes and a little non-ASCII text, ~45.7% of rows with
 * down_votes == 0 (the paper: 394,818 of 864,448), genders male / female /
 * empty / other. Then, each in a fresh child process so peak RSS belongs to
 * that task alone, it times:
 *   (a) line count, streaming 1 MiB chunks and counting '\n' bytes (the anchor:
 *       the least work that still touches every byte), and node:readline;
 *   (b) ingestCommonVoice: down_votes <= 0, balanced 6000/5000 subset, speaker split.
 * Prints a table, then one JSON line. Targets: ingest < 10 s, peak RSS < 500 MB.
 */
import { fork } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, renameSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ingestCommonVoice } from '../src/data/ingest.ts';
import { CV_COLUMNS } from '../src/data/commonVoice.ts';
import { mulberry32, seed32 } from '../src/data/rng.ts';

const GENERATOR_VERSION = 1;

interface Args {
  rows: number;
  runs: number;
  seed: number;
  regenerate: boolean;
  child?: string;
  root?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { rows: 864_448, runs: 3, seed: 1, regenerate: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rows') args.rows = Number.parseInt(value(), 10);
    else if (a === '--runs') args.runs = Number.parseInt(value(), 10);
    else if (a === '--seed') args.seed = Number.parseInt(value(), 10);
    else if (a === '--regenerate') args.regenerate = true;
    else if (a === '--child') args.child = value();
    else if (a === '--root') args.root = value();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(args.rows > 0) || !(args.runs > 0)) throw new Error('--rows and --runs must be positive');
  return args;
}

// ---------------------------------------------------------------- generator

const WORDS = (
  'the a of and to in is was that it he for on with as his they at be this from have or by one had not but what all ' +
  'were when we there can an your which their said if do will each about how up out them then she many some so these ' +
  'would other into has more her two like him see time could no make than first been its who now people my made over ' +
  'did down only way find use may water long little very after words called just where most know get through back much ' +
  'before go good new write our used me man too any day same right look think also around another came come work three ' +
  'word must because does part even place well such here take why things help put years different away again off went ' +
  'old number great tell men say small every found still between name should home big give air line set own under read ' +
  'last never us left end along while might next sound below saw something thought both few those always looked show ' +
  'large often together asked house world going want school important until form food keep children feet land side ' +
  'without boy once animals life enough took four head above kind began almost live page got earth need far hand high ' +
  'year mother light country father let night picture being study second soon story since white ever paper hard near ' +
  'sentence better best across during today however sure knew try told young sun thing whole hear example heard several ' +
  'change answer room sea against top turned learn point city play toward five himself usually money seen didn\'t car ' +
  'morning I\'m body upon family later turn move face door cut done group true half red fish plants living black eat ' +
  'café naïve Zürich São Paulo Dvořák Málaga fiancée résumé'
).split(' ');
const AGES = ['', '', '', 'teens', 'twenties', 'twenties', 'thirties', 'thirties', 'fourties', 'fifties', 'sixties', 'seventies'];
const ACCENTS = ['', '', '', 'United States English', 'England English', 'India and South Asia (India, Pakistan, Sri Lanka)', 'Canadian English', 'Australian English', 'Scottish English', 'German English,Non native speaker'];

function hex128(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += (Math.floor(rand() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
  return s;
}

function sentence(rand: () => number): string {
  const n = 5 + Math.floor(rand() * 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  const r = rand();
  if (r < 0.08) {
    // A quoted phrase: exactly what breaks CSV-style parsers.
    const a = Math.floor(rand() * (n - 2));
    words[a] = `"${words[a]}`;
    words[a + 2] = `${words[a + 2]}"`;
  } else if (r < 0.1) {
    words[0] = `"${words[0]}`; // an unbalanced quote, as real releases contain
  }
  const text = words.join(' ');
  return text[0]!.toUpperCase() + text.slice(1) + (rand() < 0.1 ? '?' : '.');
}

interface GeneratedStats {
  rows: number;
  speakers: number;
  downVotesZero: number;
  maxClipsPerSpeaker: number;
  speakersWith1000Plus: number;
  bytes: number;
}

function generate(file: string, rows: number, seed: number): GeneratedStats {
  const rand = mulberry32(seed32(seed, 'bench-ingest'));
  // Heavy tail: speaker k has weight 1/(k+8)^1.1, so the top few record thousands of clips.
  const speakers = Math.max(1, Math.round(rows / 18));
  const cdf = new Float64Array(speakers);
  let acc = 0;
  for (let k = 0; k < speakers; k++) cdf[k] = acc += 1 / (k + 8) ** 1.1;
  const ids: string[] = [];
  const genders: string[] = [];
  const ages: string[] = [];
  const accents: string[] = [];
  for (let k = 0; k < speakers; k++) {
    ids.push(hex128(rand));
    const g = rand();
    genders.push(g < 0.45 ? 'male' : g < 0.6 ? 'female' : g < 0.97 ? '' : 'other');
    ages.push(AGES[Math.floor(rand() * AGES.length)]!);
    accents.push(ACCENTS[Math.floor(rand() * ACCENTS.length)]!);
  }
  const perSpeaker = new Uint32Array(speakers);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let bytes = 0;
  let zero = 0;
  let clipId = 17_000_000;
  try {
    const header = `${CV_COLUMNS.join('\t')}\n`;
    bytes += writeSync(fd, header);
    let batch: string[] = [];
    for (let i = 0; i < rows; i++) {
      const u = rand() * acc;
      let lo = 0;
      let hi = speakers - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      perSpeaker[lo]!++;
      let down = 0;
      if (rand() >= 0.4567) {
        const d = rand();
        down = d < 0.7 ? 1 : d < 0.92 ? 2 : 3 + Math.floor(rand() * 3);
      } else zero++;
      // Validated clips need at least 2 up votes and more up than down votes.
      const up = Math.max(2, down + 1) + (rand() < 0.3 ? Math.floor(rand() * 4) : 0);
      clipId += 1 + Math.floor(rand() * 5);
      batch.push(
        `${ids[lo]}\tcommon_voice_en_${clipId}.mp3\t${sentence(rand)}\t${up}\t${down}\t${ages[lo]}\t${genders[lo]}\t${accents[lo]}\t\ten\t`,
      );
      if (batch.length === 20_000 || i === rows - 1) {
        bytes += writeSync(fd, batch.join('\n') + '\n');
        batch = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  let max = 0;
  let big = 0;
  let used = 0;
  for (const n of perSpeaker) {
    if (n > max) max = n;
    if (n >= 1000) big++;
    if (n > 0) used++;
  }
  return { rows, speakers: used, downVotesZero: zero, maxClipsPerSpeaker: max, speakersWith1000Plus: big, bytes };
}

// ---------------------------------------------------------------- measured tasks (child side)

async function countNewlines(file: string): Promise<number> {
  const handle = await open(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let lines = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      let i = buf.indexOf(10, 0);
      while (i >= 0 && i < bytesRead) {
        lines++;
        i = buf.indexOf(10, i + 1);
      }
    }
  } finally {
    await handle.close();
  }
  return lines;
}

async function countReadline(file: string): Promise<number> {
  const rl = createInterface({ input: createReadStream(file, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let lines = 0;
  for await (const _ of rl) lines++;
  return lines;
}

async function runChild(task: string, root: string): Promise<void> {
  const file = join(root, 'validated.tsv');
  const t0 = performance.now();
  let detail: unknown;
  if (task === 'baseline') detail = null;
  else if (task === 'linecount') detail = { lines: await countNewlines(file) };
  else if (task === 'readline') detail = { lines: await countReadline(file) };
  else if (task === 'ingest') {
    const result = await ingestCommonVoice({
      root,
      filter: { downVotesMax: 0 },
      subset: { male: 6000, female: 5000 },
      split: { by: 'speaker', train: 0.7, val: 0.15, test: 0.15 },
      seed: 1,
      checkClips: false,
    });
    detail = {
      read: result.counts.read,
      kept: result.counts.kept,
      droppedDownVotes: result.counts.dropped.downVotes,
      selected: result.counts.selected,
      speakersKept: result.counts.speakersKept,
      speakersSelected: result.counts.speakersSelected,
      splits: result.splits,
      warnings: result.warnings.map((w) => w.code),
    };
  } else throw new Error(`unknown task ${task}`);
  const ms = performance.now() - t0;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  process.send!({ task, ms, maxRssMB, detail });
}

// ---------------------------------------------------------------- parent side

interface Measurement {
  task: string;
  ms: number;
  maxRssMB: number;
  detail: unknown;
}

function measure(task: string, root: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', task, '--root', root], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: Measurement | undefined;
    child.on('message', (m) => (result = m as Measurement));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`${task} child exited with ${code}`))));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== undefined) return runChild(args.child, args.root!);

  const root = join(tmpdir(), `xp-bench-cv-${args.rows}-s${args.seed}-v${GENERATOR_VERSION}`);
  const file = join(root, 'validated.tsv');
  mkdirSync(root, { recursive: true });
  let generated: GeneratedStats | undefined;
  if (args.regenerate || !existsSync(file)) {
    const t0 = performance.now();
    generated = generate(file, args.rows, args.seed);
    console.log(`generated ${file} (${(generated.bytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(`  speakers ${generated.speakers}, max clips/speaker ${generated.maxClipsPerSpeaker}, speakers with >= 1000 clips ${generated.speakersWith1000Plus}, down_votes==0 rows ${generated.downVotesZero}`);
  } else {
    console.log(`reusing ${file} (${(statSync(file).size / 2 ** 20).toFixed(1)} MiB; --regenerate to rebuild)`);
  }

  const tasks = ['baseline', 'linecount', 'readline', 'ingest'];
  const runs: Record<string, Measurement[]> = {};
  for (let r = 0; r < args.runs; r++) {
    for (const task of tasks) (runs[task] ??= []).push(await measure(task, root));
  }
  const summary = Object.fromEntries(
    tasks.map((t) => [t, { ms: median(runs[t]!.map((m) => m.ms)), maxRssMB: Math.max(...runs[t]!.map((m) => m.maxRssMB)) }]),
  );
  const anchor = summary.linecount!.ms;
  const ingestDetail = runs.ingest![0]!.detail as { read: number; kept: number; droppedDownVotes: number; selected: unknown; speakersKept: number; speakersSelected: number; splits: Record<string, { clips: number; speakers: number }>; warnings: string[] };
  const lines = (runs.linecount![0]!.detail as { lines: number }).lines;

  console.log('');
  console.log(`file: ${lines} lines (${lines - 1} rows), ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB; median of ${args.runs} runs, each in a fresh process`);
  console.log('| task | time (s) | peak RSS (MB) | × line count |');
  console.log('|---|---:|---:|---:|');
  for (const t of tasks) {
    const s = summary[t]!;
    const label = t === 'baseline' ? 'empty child process (RSS floor)' : t === 'linecount' ? "line count ('\\n' bytes, anchor)" : t === 'readline' ? 'node:readline line count' : 'ingestCommonVoice';
    console.log(`| ${label} | ${t === 'baseline' ? '–' : (s.ms / 1000).toFixed(2)} | ${s.maxRssMB.toFixed(0)} | ${t === 'baseline' ? '–' : (s.ms / anchor).toFixed(1)} |`);
  }
  console.log('');
  console.log(`ingest: read ${ingestDetail.read}, kept ${ingestDetail.kept} (dropped for down_votes ${ingestDetail.droppedDownVotes}), speakers kept ${ingestDetail.speakersKept}, selected ${JSON.stringify(ingestDetail.selected)} from ${ingestDetail.speakersSelected} speakers`);
  for (const [name, s] of Object.entries(ingestDetail.splits)) console.log(`  ${name}: ${s.clips} clips, ${s.speakers} speakers`);
  const ingest = summary.ingest!;
  const pass = ingest.ms < 10_000 && ingest.maxRssMB < 500;
  console.log(`target ingest < 10 s and peak RSS < 500 MB: ${pass ? 'PASS' : 'FAIL'}`);
  console.log(
    JSON.stringify({
      bench: 'ingest',
      rows: lines - 1,
      fileMiB: +(statSync(file).size / 2 ** 20).toFixed(1),
      runs: args.runs,
      node: process.version,
      linecountS: +(summary.linecount!.ms / 1000).toFixed(3),
      readlineS: +(summary.readline!.ms / 1000).toFixed(3),
      ingestS: +(ingest.ms / 1000).toFixed(3),
      ratio: +(ingest.ms / anchor).toFixed(2),
      ingestPeakRssMB: +ingest.maxRssMB.toFixed(1),
      baselinePeakRssMB: +summary.baseline!.maxRssMB.toFixed(1),
      kept: ingestDetail.kept,
      selected: ingestDetail.selected,
      warnings: ingestDetail.warnings,
      pass,
      ...(generated ? { generated } : {}),
    }),
  );
}

await main();
