/**
 * Reading a Common Voice release folder: `<root>/<tsv>` plus `<root>/clips/`.
 *
 * Columns are found by header name, never by position, because releases differ:
 * older ones lack `variant`/`segment`, 17+ add `sentence_id`/`sentence_domain`
 * and spell gender `male_masculine`/`female_feminine` next to `intersex`,
 * `transgender`, `non-binary`, `do_not_wish_to_say`. Only rows whose gender maps
 * to one of the two classes this project models are kept; every drop is counted
 * by reason so a run record can explain where the data went.
 */
import { join } from 'node:path';
import { DataError } from './errors.ts';
import { detach, openTsv, type TsvReader } from './tsv.ts';

export type Gender = 'male' | 'female';

/** Raw `gender` values that count as each class. Anything else is dropped. */
export interface GenderMap {
  readonly male: readonly string[];
  readonly female: readonly string[];
}

/** Pre-17 spelling and 17+ spelling of the two classes. */
export const DEFAULT_GENDER_MAP: GenderMap = {
  male: ['male', 'male_masculine'],
  female: ['female', 'female_feminine'],
};

export interface VoteFilter {
  /** Keep rows with `down_votes <= downVotesMax` (the paper uses 0). */
  downVotesMax?: number;
  /** Keep rows with `up_votes >= upVotesMin`. */
  upVotesMin?: number;
}

/** A kept row. Strings are detached copies, safe to hold long-term. */
export interface CvRow {
  /** As written in the TSV: relative to `<root>/clips/`, not yet validated. */
  path: string;
  clientId: string;
  gender: Gender;
  upVotes: number;
  downVotes: number;
  /** 1-based line in the TSV (header = 1). */
  line: number;
  /** Present when the file has a `sentence` column and sentences were requested. */
  sentence?: string;
}

/** Why a row was not kept. Votes are checked first, then gender. */
export interface DropCounts {
  /** down_votes above `downVotesMax`. */
  downVotes: number;
  /** up_votes below `upVotesMin`. */
  upVotes: number;
  /** gender column empty. */
  genderEmpty: number;
  /** gender present but in neither list of the map (e.g. `other`, `non-binary`). */
  genderUnmapped: number;
}

export interface CvCounts {
  /** Data rows read (header and blank lines excluded). */
  read: number;
  kept: number;
  keptByGender: Record<Gender, number>;
  dropped: DropCounts;
  /** Histogram of raw `gender` values over all rows read ('' for empty). */
  genderValues: Record<string, number>;
}

export interface CommonVoiceOptions {
  /** Release folder containing the TSVs and `clips/`. */
  root: string;
  /** TSV file name inside root (default `validated.tsv`). */
  tsv?: string;
  genderMap?: GenderMap;
  filter?: VoteFilter;
  /** Keep the sentence text on rows (default true; ingest turns it off to save memory). */
  includeSentence?: boolean;
  signal?: AbortSignal;
}

/** Columns every supported release has and that this reader needs. */
export const REQUIRED_COLUMNS = ['client_id', 'path', 'up_votes', 'down_votes', 'gender'] as const;

/** The column set of a pre-17 release, in release order (used by fixtures and benchmarks). */
export const CV_COLUMNS = [
  'client_id', 'path', 'sentence', 'up_votes', 'down_votes',
  'age', 'gender', 'accents', 'variant', 'locale', 'segment',
] as const;

export interface CommonVoiceStream {
  /** The opened TSV (columns, size, bytesRead for progress). */
  readonly reader: TsvReader;
  /** Kept rows, in file order. Use either `rows` or `batches`, not both. */
  readonly rows: AsyncGenerator<CvRow, void, undefined>;
  /** The same rows in arrays, one per chunk read (cheaper in hot loops). */
  readonly batches: AsyncGenerator<CvRow[], void, undefined>;
  /** Live counts; final once `rows` is exhausted. */
  readonly counts: CvCounts;
}

function emptyCounts(): CvCounts {
  return {
    read: 0,
    kept: 0,
    keptByGender: { male: 0, female: 0 },
    dropped: { downVotes: 0, upVotes: 0, genderEmpty: 0, genderUnmapped: 0 },
    genderValues: {},
  };
}

/** Validates a gender map and turns it into a lookup table. */
export function genderLookup(map: GenderMap): Map<string, Gender> {
  const lookup = new Map<string, Gender>();
  for (const gender of ['male', 'female'] as const) {
    for (const raw of map[gender]) {
      const existing = lookup.get(raw);
      if (existing !== undefined && existing !== gender) {
        throw new RangeError(`gender map lists "${raw}" as both male and female`);
      }
      lookup.set(raw, gender);
    }
  }
  return lookup;
}

/**
 * Parses a vote count. Hand-rolled because Number() accepts '', ' 1', '1e3',
 * '0x10' and '1.0', none of which a release should contain.
 */
function parseCount(value: string, column: string, file: string, line: number): number {
  let n = 0;
  const len = value.length;
  for (let i = 0; i < len; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) { n = -1; break; }
    n = n * 10 + d;
  }
  if (len === 0 || n < 0 || n > Number.MAX_SAFE_INTEGER) {
    throw new DataError({ file, line, message: `${column} "${value}" is not a non-negative integer` });
  }
  return n;
}

/**
 * Streams the kept rows of `<root>/<tsv>`. Only kept rows become objects; the
 * rest are counted and discarded, so memory does not grow with the file.
 */
export async function streamCommonVoice(options: CommonVoiceOptions): Promise<CommonVoiceStream> {
  const tsvName = options.tsv ?? 'validated.tsv';
  const path = join(options.root, tsvName);
  const lookup = genderLookup(options.genderMap ?? DEFAULT_GENDER_MAP);
  const downMax = options.filter?.downVotesMax ?? Number.POSITIVE_INFINITY;
  const upMin = options.filter?.upVotesMin ?? 0;
  const reader = await openTsv(path, { signal: options.signal });

  const file = reader.file;
  for (const column of REQUIRED_COLUMNS) {
    if (reader.indexOf(column) < 0) {
      await reader.close();
      throw new DataError({
        file,
        line: 1,
        message: `missing required column "${column}" (header has: ${reader.columns.join(', ')})`,
      });
    }
  }
  const iClient = reader.indexOf('client_id');
  const iPath = reader.indexOf('path');
  const iUp = reader.indexOf('up_votes');
  const iDown = reader.indexOf('down_votes');
  const iGender = reader.indexOf('gender');
  const iSentence = options.includeSentence === false ? -1 : reader.indexOf('sentence');

  const counts = emptyCounts();
  const genderValues = new Map<string, number>();

  async function* batches(): AsyncGenerator<CvRow[], void, undefined> {
    try {
      for await (const tsvBatch of reader.batches()) {
        const kept: CvRow[] = [];
        for (const { line, fields } of tsvBatch) {
          counts.read++;
          const rawGender = fields[iGender]!;
          genderValues.set(rawGender, (genderValues.get(rawGender) ?? 0) + 1);
          // Parse both counts on every row so a corrupt value is reported wherever it is.
          const upVotes = parseCount(fields[iUp]!, 'up_votes', file, line);
          const downVotes = parseCount(fields[iDown]!, 'down_votes', file, line);
          // Votes before gender: then `dropped.downVotes` is directly comparable with
          // published figures such as "394,818 of 864,448 rows have down_votes == 0".
          if (downVotes > downMax) { counts.dropped.downVotes++; continue; }
          if (upVotes < upMin) { counts.dropped.upVotes++; continue; }
          const gender = lookup.get(rawGender);
          if (gender === undefined) {
            if (rawGender === '') counts.dropped.genderEmpty++;
            else counts.dropped.genderUnmapped++;
            continue;
          }
          counts.kept++;
          counts.keptByGender[gender]++;
          const row: CvRow = {
            path: detach(fields[iPath]!),
            clientId: detach(fields[iClient]!),
            gender,
            upVotes,
            downVotes,
            line,
          };
          if (iSentence >= 0) row.sentence = detach(fields[iSentence]!);
          kept.push(row);
        }
        if (kept.length > 0) yield kept;
      }
    } finally {
      // Publish the histogram even when iteration stopped early or threw.
      for (const [value, n] of genderValues) counts.genderValues[value] = n;
      await reader.close();
    }
  }

  let started = false;
  const once = (): AsyncGenerator<CvRow[], void, undefined> => {
    if (started) throw new Error(`${file}: rows can only be iterated once`);
    started = true;
    return batches();
  };
  async function* rows(): AsyncGenerator<CvRow, void, undefined> {
    for await (const batch of once()) yield* batch;
  }
  // Generators start lazily, so handing out both costs nothing until one is iterated.
  const lazyBatches = (async function* () {
    yield* once();
  })();

  return { reader, rows: rows(), batches: lazyBatches, counts };
}

/** Reads all kept rows into memory. Convenient for small folders and tests. */
export async function readCommonVoice(
  options: CommonVoiceOptions,
): Promise<{ columns: readonly string[]; rows: CvRow[]; counts: CvCounts }> {
  const stream = await streamCommonVoice(options);
  const rows: CvRow[] = [];
  for await (const batch of stream.batches) rows.push(...batch);
  return { columns: stream.reader.columns, rows, counts: stream.counts };
}
