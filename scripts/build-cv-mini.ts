/**
 * Builds data/cv-mini/: a small Common Voice–shaped corpus of real speech.
 *
 *   npx tsx scripts/build-cv-mini.ts [--out data/cv-mini] [--source ../shared/data]
 *
 * Source: the two LibriSpeech folders in shared/data (135 real readers, sex
 * from SPEAKERS.TXT, CC BY 4.0). Each utterance is cut at pauses into 3–6 s
 * clips (scripts/cv-mini/segment.ts), upsampled 16 → 32 kHz and encoded as
 * mono 48 kb/s CBR MP3, the format of real Common Voice clips. validated.tsv
 * has a real release's columns; train/dev/test.tsv are speaker-disjoint, so
 * `split.by: release` works. Everything random is seeded: re-running produces
 * byte-identical files (SHA256SUMS lists them).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { CV_COLUMNS, type Gender } from '../src/data/commonVoice.ts';
import { rngFor, shuffleInPlace } from '../src/data/rng.ts';
import { splitBySpeaker, type SplitName } from '../src/data/split.ts';
import { encodeMp3, toInt16 } from './cv-mini/mp3.ts';
import { segmentUtterance } from './cv-mini/segment.ts';
import { upsample2x } from './cv-mini/upsample2x.ts';

const SEED = 'cv-mini-v1';
const SOURCE_RATE = 16_000;
const CLIP_RATE = 32_000;
const KBPS = 48;
// Decoded MP3s are 20–60 ms longer than their input (encoder delay + frame
// padding). Cutting 2.98–5.9 s of source audio gives clips that decode to
// 3–6 s; the 2.98 lets two readers whose only utterance lasts 2.985 s and
// 2.995 s in.
const MIN_CLIP_S = 2.98;
const MAX_CLIP_S = 5.9;
const FOLDERS = ['librispeech-test-other', 'librispeech-train-clean-100-half'];
const FRACTIONS = { train: 0.7, val: 0.15, test: 0.15 };
const FIRST_CLIP_ID = 41_000_000;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  out: string;
  source: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: join(repoRoot, 'data', 'cv-mini'), source: resolve(repoRoot, '..', 'shared', 'data') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--out') args.out = resolve(v);
    else if (a === '--source') args.source = resolve(v);
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

interface Speaker {
  id: string;
  sex: 'F' | 'M';
  name: string;
  folder: string;
}

/** LibriSpeech SPEAKERS.TXT: `ID | SEX | SUBSET | MINUTES | NAME`, ';' comments. */
function readSpeakers(folder: string, folderName: string): Map<string, Speaker> {
  const speakers = new Map<string, Speaker>();
  for (const line of readFileSync(join(folder, 'SPEAKERS.TXT'), 'utf8').split('\n')) {
    if (line.startsWith(';') || line.trim() === '') continue;
    const [id, sex, , , ...name] = line.split('|').map((s) => s.trim());
    if (sex !== 'F' && sex !== 'M') throw new Error(`${folder}/SPEAKERS.TXT: bad sex in "${line}"`);
    speakers.set(id!, { id: id!, sex, name: name.join('|'), folder: folderName });
  }
  return speakers;
}

/** All *.flac under a folder, sorted for a stable order. */
function listFlac(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFlac(p));
    else if (entry.name.endsWith('.flac')) out.push(p);
  }
  return out.sort();
}

/** LibriSpeech transcripts (`<utt-id> TEXT` in *.trans.txt), if the folder ships any. */
function readTranscripts(dir: string): Map<string, string> {
  const map = new Map<string, string>();
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.trans.txt')) {
        for (const line of readFileSync(p, 'utf8').split('\n')) {
          const space = line.indexOf(' ');
          if (space > 0) map.set(line.slice(0, space), line.slice(space + 1).trim());
        }
      }
    }
  };
  walk(dir);
  return map;
}

interface Clip {
  speaker: Speaker;
  utterance: string;
  start: number;
  end: number;
  /** Pause threshold (dB below speech level) that segmentation settled on. */
  quietDb: number;
  /** Transcript, only when the clip is the utterance's only clip (otherwise it would not match the audio). */
  sentence: string;
  mp3: Uint8Array;
}

/** Common Voice style client_id: 128 hex chars, stable per LibriSpeech reader. */
function clientId(speaker: Speaker): string {
  return createHash('sha512').update(`librispeech-speaker:${speaker.id}`).digest('hex');
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const decoder = new FLACDecoder();
  await decoder.ready;

  const clips: Clip[] = [];
  const allSpeakers: Speaker[] = [];
  const speakersUsed = new Map<string, Speaker>();
  let sourceSeconds = 0;
  let utterances = 0;
  const skipped: Array<{ utterance: string; seconds: number }> = [];
  for (const folderName of FOLDERS) {
    const folder = join(args.source, folderName);
    const speakers = readSpeakers(folder, folderName);
    const present = new Set<string>();
    const transcripts = readTranscripts(folder);
    for (const file of listFlac(folder)) {
      const utterance = basename(file, '.flac');
      const speaker = speakers.get(utterance.split('-')[0]!);
      if (speaker === undefined) throw new Error(`${file}: speaker not in SPEAKERS.TXT`);
      if (!present.has(speaker.id)) {
        present.add(speaker.id);
        allSpeakers.push(speaker);
      }
      const decoded = await decoder.decodeFile(new Uint8Array(readFileSync(file)));
      await decoder.reset();
      if (decoded.sampleRate !== SOURCE_RATE) throw new Error(`${file}: expected ${SOURCE_RATE} Hz, got ${decoded.sampleRate}`);
      const audio = decoded.channelData[0]!.slice(0, decoded.samplesDecoded);
      sourceSeconds += audio.length / SOURCE_RATE;
      utterances++;
      const { segments, quietDb } = segmentUtterance(audio, { sampleRate: SOURCE_RATE, minClipS: MIN_CLIP_S, maxClipS: MAX_CLIP_S });
      if (segments.length === 0) skipped.push({ utterance, seconds: audio.length / SOURCE_RATE });
      for (const seg of segments) {
        const pcm = toInt16(upsample2x(audio.subarray(seg.start, seg.end)));
        clips.push({
          speaker,
          utterance,
          start: seg.start,
          end: seg.end,
          quietDb,
          sentence: segments.length === 1 ? (transcripts.get(utterance) ?? '') : '',
          mp3: encodeMp3(pcm, CLIP_RATE, KBPS),
        });
        speakersUsed.set(speaker.id, speaker);
      }
    }
  }
  decoder.free();

  // Rows in a seeded random order (a real TSV is not grouped by speaker), clip
  // ids increasing with gaps as in a release.
  const rand = rngFor(SEED, 'rows');
  shuffleInPlace(clips, rand);
  let nextId = FIRST_CLIP_ID;
  const rows = clips.map((clip) => {
    nextId += 1 + Math.floor(rand() * 9);
    const trueGender: Gender = clip.speaker.sex === 'F' ? 'female' : 'male';
    // A few rows without a usable gender, as in real releases, so the gender filter has work.
    const g = rand();
    const gender = g < 0.03 ? '' : g < 0.045 ? 'other' : trueGender;
    // Validated clips have >= 2 up votes and more up than down votes; some have down votes.
    const d = rand();
    const downVotes = d < 0.88 ? 0 : d < 0.98 ? 1 : 2;
    const u = rand();
    const upVotes = Math.max(u < 0.65 ? 2 : u < 0.9 ? 3 : 4, downVotes + 2);
    return {
      clip,
      path: `common_voice_en_${nextId}.mp3`,
      clientId: clientId(clip.speaker),
      trueGender,
      fields: {
        client_id: clientId(clip.speaker),
        path: `common_voice_en_${nextId}.mp3`,
        sentence: clip.sentence,
        up_votes: String(upVotes),
        down_votes: String(downVotes),
        age: '',
        gender,
        accents: '',
        variant: '',
        locale: 'en',
        segment: '',
      } as Record<(typeof CV_COLUMNS)[number], string>,
    };
  });

  // The release's own split: speaker-disjoint, stratified by the reader's real sex.
  const release = splitBySpeaker(
    rows.map((r) => ({ path: r.path, clientId: r.clientId, gender: r.trueGender })),
    FRACTIONS,
    SEED,
  );
  const splitOf = new Map(release.rows.map((r) => [r.path, r.split]));

  // --- write ---
  const clipsDir = join(args.out, 'clips');
  rmSync(clipsDir, { recursive: true, force: true });
  mkdirSync(clipsDir, { recursive: true });
  for (const row of rows) writeFileSync(join(clipsDir, row.path), row.clip.mp3);
  const tsv = (subset: typeof rows): string =>
    [CV_COLUMNS.join('\t'), ...subset.map((r) => CV_COLUMNS.map((c) => r.fields[c]).join('\t'))].join('\n') + '\n';
  writeFileSync(join(args.out, 'validated.tsv'), tsv(rows));
  const releaseFiles: Record<SplitName, string> = { train: 'train.tsv', val: 'dev.tsv', test: 'test.tsv' };
  for (const split of ['train', 'val', 'test'] as const) {
    writeFileSync(join(args.out, releaseFiles[split]), tsv(rows.filter((r) => splitOf.get(r.path) === split)));
  }
  const provenanceColumns = ['path', 'librispeech_folder', 'librispeech_utterance', 'speaker_id', 'sex', 'start_s', 'end_s', 'pause_db'];
  const provenance = [...rows]
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .map((r) =>
      [r.path, r.clip.speaker.folder, r.clip.utterance, r.clip.speaker.id, r.clip.speaker.sex,
        (r.clip.start / SOURCE_RATE).toFixed(3), (r.clip.end / SOURCE_RATE).toFixed(3), String(r.clip.quietDb)].join('\t'),
    );
  writeFileSync(join(args.out, 'provenance.tsv'), [provenanceColumns.join('\t'), ...provenance].join('\n') + '\n');
  copyFileSync(join(args.source, FOLDERS[0]!, 'LICENSE.TXT'), join(args.out, 'LICENSE.TXT'));

  // --- stats and README ---
  const stats = { F: { speakers: new Set<string>(), clips: 0, seconds: 0 }, M: { speakers: new Set<string>(), clips: 0, seconds: 0 } };
  for (const r of rows) {
    const s = stats[r.clip.speaker.sex];
    s.speakers.add(r.clip.speaker.id);
    s.clips++;
    s.seconds += (r.clip.end - r.clip.start) / SOURCE_RATE;
  }
  const count = (pred: (r: (typeof rows)[number]) => boolean): number => rows.filter(pred).length;
  const genderEmpty = count((r) => r.fields.gender === '');
  const genderOther = count((r) => r.fields.gender === 'other');
  const downPositive = count((r) => r.fields.down_votes !== '0');
  const keptByPaperFilter = count((r) => r.fields.down_votes === '0' && (r.fields.gender === 'male' || r.fields.gender === 'female'));
  const mp3Bytes = rows.reduce((n, r) => n + r.clip.mp3.length, 0);
  writeFileSync(
    join(args.out, 'README.md'),
    readme({
      rows: rows.length,
      utterances,
      sourceMinutes: sourceSeconds / 60,
      stats,
      genderEmpty,
      genderOther,
      downPositive,
      keptByPaperFilter,
      mp3MB: mp3Bytes / 2 ** 20,
      splits: release.stats,
      speakers: [...speakersUsed.values()].sort((a, b) => Number(a.id) - Number(b.id)),
      skipped,
      allSpeakers,
    }),
  );

  // Checksums of everything else, for integrity checks and to prove determinism.
  const files = ['validated.tsv', 'train.tsv', 'dev.tsv', 'test.tsv', 'provenance.tsv', 'LICENSE.TXT', 'README.md',
    ...rows.map((r) => `clips/${r.path}`).sort()];
  writeFileSync(join(args.out, 'SHA256SUMS'), files.map((f) => `${sha256(readFileSync(join(args.out, f)))}  ${f}`).join('\n') + '\n');

  const totalBytes = files.reduce((n, f) => n + statSync(join(args.out, f)).size, 0);
  console.log(
    `${relative(process.cwd(), args.out) || '.'}: ${rows.length} clips from ${utterances} utterances, ` +
      `${speakersUsed.size} speakers (${stats.F.speakers.size} F / ${stats.M.speakers.size} M), ` +
      `${((stats.F.seconds + stats.M.seconds) / 60).toFixed(1)} min, ${(totalBytes / 2 ** 20).toFixed(1)} MiB, ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (!existsSync(join(args.out, 'validated.tsv'))) throw new Error('validated.tsv was not written');
}

interface ReadmeData {
  rows: number;
  utterances: number;
  sourceMinutes: number;
  stats: Record<'F' | 'M', { speakers: Set<string>; clips: number; seconds: number }>;
  genderEmpty: number;
  genderOther: number;
  downPositive: number;
  keptByPaperFilter: number;
  mp3MB: number;
  splits: ReturnType<typeof splitBySpeaker>['stats'];
  speakers: Speaker[];
  skipped: Array<{ utterance: string; seconds: number }>;
  allSpeakers: Speaker[];
}

function readme(d: ReadmeData): string {
  const min = (s: number): string => (s / 60).toFixed(1);
  const byFolder = (folder: string, sex: 'F' | 'M'): string =>
    d.speakers.filter((s) => s.folder === folder && s.sex === sex).map((s) => s.id).join(', ');
  const total = d.stats.F.seconds + d.stats.M.seconds;
  const used = new Set(d.speakers.map((s) => s.id));
  const missing = d.allSpeakers.filter((s) => !used.has(s.id));
  const skippedText = d.skipped.map((u) => `${u.utterance} (${u.seconds.toFixed(3)} s)`).join(', ');
  return `# cv-mini: a small Common Voice–shaped corpus of real speech

The embedded default corpus: ${d.rows} MP3 clips of **real read speech** by
${d.stats.F.speakers.size + d.stats.M.speakers.size} LibriSpeech readers, laid out exactly like a
Mozilla Common Voice release (\`validated.tsv\`, \`train.tsv\`, \`dev.tsv\`, \`test.tsv\`, \`clips/\`),
so every code path that reads Common Voice can run without a download.

| | speakers | clips | minutes |
|---|---:|---:|---:|
| female | ${d.stats.F.speakers.size} | ${d.stats.F.clips} | ${min(d.stats.F.seconds)} |
| male | ${d.stats.M.speakers.size} | ${d.stats.M.clips} | ${min(d.stats.M.seconds)} |
| total | ${d.stats.F.speakers.size + d.stats.M.speakers.size} | ${d.rows} | ${min(total)} |

Clips: 3–6 s, mono, 32 kHz, 48 kb/s CBR MP3 (${d.mp3MB.toFixed(1)} MiB in all), named
\`common_voice_en_<n>.mp3\`. Release split (speaker-disjoint, stratified by sex, 70/15/15 of clips):
train ${d.splits.train.clips} clips / ${d.splits.train.speakers} speakers, dev ${d.splits.val.clips} / ${d.splits.val.speakers},
test ${d.splits.test.clips} / ${d.splits.test.speakers}.

## Rebuild

\`\`\`sh
npx tsx scripts/build-cv-mini.ts          # reads ../shared/data, writes data/cv-mini/ (~3 min)
\`\`\`

Most of the time goes to MP3 encoding in pure JavaScript.

The build is deterministic (seed \`${SEED}\`): re-running it gives byte-identical files; \`SHA256SUMS\`
lists them. It needs only npm packages (\`@wasm-audio-decoders/flac\` to read, \`@breezystack/lamejs\`
to encode).

## How it was made

1. Source: the ${d.utterances} FLAC utterances (16 kHz, ${d.sourceMinutes.toFixed(1)} min) of
   \`shared/data/librispeech-test-other\` (10 readers, 10 utterances each) and
   \`shared/data/librispeech-train-clean-100-half\` (125 readers, one ~15 s utterance each).
   Reader sex comes from their \`SPEAKERS.TXT\`.
2. Each utterance is cut into clips at pauses (\`scripts/cv-mini/segment.ts\`): 20 ms frame energy;
   a pause is ≥ 150 ms of frames at least 30 dB below the utterance's speech level (26 or 22 dB for
   readers who barely pause, recorded per clip in \`provenance.tsv\` as \`pause_db\`); clips start and
   end only inside pauses or at the utterance edges, keep at most 0.25 s of pause at each edge, and a
   dynamic program keeps as much speech as possible. Stretches without a usable pause are left out
   rather than cut mid-word. Source spans are 2.98–5.9 s, so that the decoded MP3s (20–60 ms longer:
   encoder delay and frame padding) last 3–6 s.
   ${d.skipped.length} utterances gave no clip: ${skippedText || 'none'}.
   Readers left out as a result: ${missing.length === 0 ? 'none' : missing.map((s) => `${s.id} (${s.sex})`).join(', ')}.
3. Upsampled 16 → 32 kHz (Kaiser half-band FIR, \`scripts/cv-mini/upsample2x.ts\`) and encoded as mono
   48 kb/s CBR MP3 with \`@breezystack/lamejs\`, matching real Common Voice clips.
4. \`validated.tsv\` has the columns of a real release:
   \`${CV_COLUMNS.join(' ')}\`.
   - \`client_id\`: SHA-512 (hex) of \`librispeech-speaker:<reader id>\`, stable per reader.
   - \`sentence\`: empty: the source folders ship no LibriSpeech transcripts (and a clip is only part
     of an utterance). The script fills it from \`*.trans.txt\` when a folder has one and the utterance
     became a single clip.
   - \`gender\`: \`male\` / \`female\` from \`SPEAKERS.TXT\`, except ${d.genderEmpty} rows left empty and
     ${d.genderOther} rows set to \`other\` (seeded, per row) so the gender filter has something to drop,
     as in real releases. The true sex of every clip is in \`provenance.tsv\`.
   - \`up_votes\` / \`down_votes\`: seeded, realistic for validated clips (≥ 2 up, more up than down);
     ${d.downPositive} rows have \`down_votes\` > 0. The paper's filter (\`down_votes == 0\`, known
     gender) keeps ${d.keptByPaperFilter} of ${d.rows} rows.
   - \`age\`, \`accents\`, \`variant\`, \`segment\`: empty (unknown); \`locale\`: \`en\`.
   - Rows are in seeded random order, clip numbers increase with gaps, as in a release.
5. \`train.tsv\` / \`dev.tsv\` / \`test.tsv\`: all rows, split by reader with \`src/data/split.ts\`
   (\`splitBySpeaker\`, fractions 0.7/0.15/0.15, stratified by the reader's real sex).
6. \`provenance.tsv\`: for every clip, the LibriSpeech folder, utterance id, reader id, sex, the
   start/end time (s) it was cut from, and the pause threshold used (\`pause_db\`).

## Speakers (LibriSpeech reader ids)

- librispeech-test-other, female: ${byFolder('librispeech-test-other', 'F')}
- librispeech-test-other, male: ${byFolder('librispeech-test-other', 'M')}
- librispeech-train-clean-100-half, female: ${byFolder('librispeech-train-clean-100-half', 'F')}
- librispeech-train-clean-100-half, male: ${byFolder('librispeech-train-clean-100-half', 'M')}

## License and attribution

The audio is derived from **LibriSpeech** (c) 2014 Vassil Panayotov, Guoguo Chen, Daniel Povey and
Sanjeev Khudanpur, licensed under the Creative Commons Attribution 4.0 International License
(<http://creativecommons.org/licenses/by/4.0/>); see \`LICENSE.TXT\` (copied from the source). LibriSpeech
itself is derived from LibriVox public-domain audiobook recordings. Changes made: cut into clips,
resampled to 32 kHz, MP3-encoded, metadata reorganised as described above. Redistributions of
cv-mini must keep this attribution.

The encoder used to build it (\`@breezystack/lamejs\`, a port of LAME) is LGPL; it is a build-time
tool only and places no terms on the encoded clips.
`;
}

await main();
