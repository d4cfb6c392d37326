/**
 * Train / validation / test splits of the selected clips.
 *
 * Three strategies:
 * - `splitBySpeaker` (default, recommended): whole speakers (`client_id`) go to
 *   one split, so the test set measures generalisation to *unseen voices*.
 *   Stratified by gender and sized so clip counts approximate the fractions.
 * - `splitByClip`: random stratified split of clips, as in the seed paper. It
 *   leaks speakers between train and test (a model can recognise the voice,
 *   not the gender), so it always returns a `speaker_leakage` warning with the
 *   measured overlap. Kept for paper-faithful reproduction.
 * - `splitByMembership`: use a release's own train/dev/test lists (see
 *   releaseSplit.ts); Common Voice builds those speaker-disjoint.
 * All are pure functions of their inputs and the seed; rows keep input order.
 */
import type { Gender } from './commonVoice.ts';
import { keyedHash, rngFor, seed32 } from './rng.ts';

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface SplitItem {
  path: string;
  clientId: string;
  gender: Gender;
  line?: number;
}

export type Assigned<T> = T & { split: SplitName };

export interface SplitStat {
  clips: number;
  male: number;
  female: number;
  speakers: number;
  maleSpeakers: number;
  femaleSpeakers: number;
}
export type SplitStats = Record<SplitName, SplitStat>;

export interface Leakage {
  /** Distinct speakers in test / val. */
  testSpeakers: number;
  valSpeakers: number;
  /** Of those, how many also have clips in train. */
  testSpeakersInTrain: number;
  valSpeakersInTrain: number;
  /** Test clips whose speaker also has clips in train. */
  testClipsWithTrainSpeaker: number;
}

export interface SpeakerLeakageWarning extends Leakage {
  code: 'speaker_leakage';
  message: string;
}

export interface MixedGenderWarning {
  code: 'mixed_gender_speakers';
  /** Speakers whose selected clips carry both genders (profile changed over time). */
  speakers: number;
  message: string;
}

export type SplitWarning = SpeakerLeakageWarning | MixedGenderWarning;

export interface SplitResult<T> {
  /** Every input row with its split, in input order. */
  rows: Assigned<T>[];
  stats: SplitStats;
  leakage: Leakage;
  warnings: SplitWarning[];
}

export function checkFractions(f: SplitFractions): void {
  for (const name of SPLIT_NAMES) {
    const v = f[name];
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`split.${name} must be a number >= 0, got ${v}`);
  }
  const sum = f.train + f.val + f.test;
  if (Math.abs(sum - 1) > 1e-6) {
    throw new RangeError(`split fractions must sum to 1, got ${f.train} + ${f.val} + ${f.test} = ${sum}`);
  }
}

function emptyStat(): SplitStat {
  return { clips: 0, male: 0, female: 0, speakers: 0, maleSpeakers: 0, femaleSpeakers: 0 };
}

/**
 * Per-split clip and speaker counts. A speaker counts as male/female speaker
 * in a split by the gender of their clips there (both, if mixed).
 */
export function splitStats<T extends SplitItem>(rows: readonly Assigned<T>[]): SplitStats {
  const stats: SplitStats = { train: emptyStat(), val: emptyStat(), test: emptyStat() };
  const seen: Record<SplitName, { all: Set<string>; male: Set<string>; female: Set<string> }> = {
    train: { all: new Set(), male: new Set(), female: new Set() },
    val: { all: new Set(), male: new Set(), female: new Set() },
    test: { all: new Set(), male: new Set(), female: new Set() },
  };
  for (const row of rows) {
    const s = stats[row.split];
    s.clips++;
    s[row.gender]++;
    seen[row.split].all.add(row.clientId);
    seen[row.split][row.gender].add(row.clientId);
  }
  for (const name of SPLIT_NAMES) {
    stats[name].speakers = seen[name].all.size;
    stats[name].maleSpeakers = seen[name].male.size;
    stats[name].femaleSpeakers = seen[name].female.size;
  }
  return stats;
}

/** Measures how many val/test speakers also appear in train. */
export function measureLeakage<T extends SplitItem>(rows: readonly Assigned<T>[]): Leakage {
  const speakers: Record<SplitName, Set<string>> = { train: new Set(), val: new Set(), test: new Set() };
  for (const row of rows) speakers[row.split].add(row.clientId);
  const overlap = (a: Set<string>): number => {
    let n = 0;
    for (const id of a) if (speakers.train.has(id)) n++;
    return n;
  };
  let testClipsWithTrainSpeaker = 0;
  for (const row of rows) {
    if (row.split === 'test' && speakers.train.has(row.clientId)) testClipsWithTrainSpeaker++;
  }
  return {
    testSpeakers: speakers.test.size,
    valSpeakers: speakers.val.size,
    testSpeakersInTrain: overlap(speakers.test),
    valSpeakersInTrain: overlap(speakers.val),
    testClipsWithTrainSpeaker,
  };
}

export function leakageWarning(leakage: Leakage, context: string): SpeakerLeakageWarning {
  return {
    code: 'speaker_leakage',
    ...leakage,
    message:
      `${context}: ${leakage.testSpeakersInTrain} of ${leakage.testSpeakers} test speakers ` +
      `(${leakage.testClipsWithTrainSpeaker} test clips) and ${leakage.valSpeakersInTrain} of ` +
      `${leakage.valSpeakers} validation speakers also appear in train, so test accuracy ` +
      `partly measures recognising known voices; use split.by: speaker for an unbiased estimate`,
  };
}

function finish<T extends SplitItem>(rows: Assigned<T>[], warnings: SplitWarning[]): SplitResult<T> {
  return { rows, stats: splitStats(rows), leakage: measureLeakage(rows), warnings };
}

interface Speaker<T> {
  id: string;
  key: number;
  gender: Gender;
  size: number;
  split?: SplitName;
  items: T[];
}

/**
 * Speaker-disjoint split, stratified by gender.
 *
 * Within each gender, speakers are placed largest first (so big contributors
 * cannot wreck the fractions at the end). Each goes to a split drawn at random,
 * weighted by how many clips that split still lacks, among the splits it fits
 * into whole; if it fits nowhere it goes where the most room is left (so a
 * split overshoots by less than one speaker). The seed therefore changes which speakers land where while
 * clip counts stay close to the fractions. Finally every split with a non-zero
 * fraction gets at least one speaker of each gender when there are enough
 * speakers, by moving the smallest speaker of the most populated split.
 * A speaker whose clips carry both genders is placed by their majority gender.
 */
export function splitBySpeaker<T extends SplitItem>(
  items: readonly T[],
  fractions: SplitFractions,
  seed: number | string,
): SplitResult<T> {
  checkFractions(fractions);
  const keySeed = seed32(seed, 'split-speaker');
  const bySpeaker = new Map<string, { male: number; female: number; items: T[] }>();
  for (const item of items) {
    let s = bySpeaker.get(item.clientId);
    if (s === undefined) {
      s = { male: 0, female: 0, items: [] };
      bySpeaker.set(item.clientId, s);
    }
    s[item.gender]++;
    s.items.push(item);
  }

  let mixed = 0;
  const strata: Record<Gender, Speaker<T>[]> = { male: [], female: [] };
  for (const [id, s] of bySpeaker) {
    const key = keyedHash(keySeed, id);
    if (s.male > 0 && s.female > 0) mixed++;
    // Ties (equal counts) are broken by the speaker's key so no gender is favoured.
    const gender: Gender = s.male > s.female ? 'male' : s.female > s.male ? 'female' : key % 2 === 0 ? 'male' : 'female';
    strata[gender].push({ id, key, gender, size: s.items.length, items: s.items });
  }

  const splitOf = new Map<string, SplitName>();
  for (const gender of ['male', 'female'] as const) {
    const speakers = strata[gender];
    speakers.sort((a, b) => b.size - a.size || a.key - b.key || (a.id < b.id ? -1 : 1));
    assignSpeakers(speakers, fractions, rngFor(seed, 'split-speaker', gender));
    for (const sp of speakers) splitOf.set(sp.id, sp.split!);
  }

  const rows = items.map((item) => ({ ...item, split: splitOf.get(item.clientId)! }));
  const warnings: SplitWarning[] = [];
  if (mixed > 0) {
    warnings.push({
      code: 'mixed_gender_speakers',
      speakers: mixed,
      message: `${mixed} speakers have clips labelled with both genders; each was placed by its majority label`,
    });
  }
  return finish(rows, warnings);
}

function assignSpeakers<T>(speakers: Speaker<T>[], fractions: SplitFractions, rand: () => number): void {
  const total = speakers.reduce((n, s) => n + s.size, 0);
  const active = SPLIT_NAMES.filter((name) => fractions[name] > 0);
  const target = { train: fractions.train * total, val: fractions.val * total, test: fractions.test * total };
  const filled = { train: 0, val: 0, test: 0 };
  const members: Record<SplitName, Speaker<T>[]> = { train: [], val: [], test: [] };

  for (const sp of speakers) {
    const room = (name: SplitName): number => target[name] - filled[name];
    const fits = active.filter((name) => room(name) >= sp.size);
    let choice: SplitName;
    if (fits.length > 0) {
      const weights = fits.map((name) => Math.max(room(name), 1e-9));
      let r = rand() * weights.reduce((a, b) => a + b, 0);
      let i = 0;
      while (i < fits.length - 1 && r >= weights[i]!) r -= weights[i++]!;
      choice = fits[i]!;
    } else {
      choice = active.reduce((best, name) => (room(name) > room(best) ? name : best));
    }
    sp.split = choice;
    filled[choice] += sp.size;
    members[choice].push(sp);
  }

  // Every active split should see this gender, or its metrics are one-class.
  if (speakers.length >= active.length) {
    for (const name of active) {
      if (members[name].length > 0) continue;
      const donor = active.reduce((best, other) => (members[other].length > members[best].length ? other : best));
      const pool = members[donor];
      // The smallest speaker moves, to disturb the donor's fraction the least (pool is sorted largest first).
      const moved = pool.pop()!;
      moved.split = name;
      members[name].push(moved);
    }
  }
}

/** Largest-remainder rounding of fractions × n, so the counts sum to n exactly. */
function apportion(n: number, fractions: SplitFractions): Record<SplitName, number> {
  const exact = SPLIT_NAMES.map((name) => fractions[name] * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    if (fractions[SPLIT_NAMES[i]!] > 0) {
      counts[i]!++;
      left--;
    }
  }
  return { train: counts[0]!, val: counts[1]!, test: counts[2]! };
}

/**
 * Random stratified split of clips (the paper's protocol). Speakers leak; the
 * result always carries a `speaker_leakage` warning with the measured overlap.
 */
export function splitByClip<T extends SplitItem>(
  items: readonly T[],
  fractions: SplitFractions,
  seed: number | string,
): SplitResult<T> {
  checkFractions(fractions);
  const keySeed = seed32(seed, 'split-clip');
  const splitOf = new Map<T, SplitName>();
  for (const gender of ['male', 'female'] as const) {
    const pool = items
      .filter((item) => item.gender === gender)
      .map((item) => ({ item, key: keyedHash(keySeed, item.path) }));
    pool.sort((a, b) => a.key - b.key || (a.item.path < b.item.path ? -1 : a.item.path > b.item.path ? 1 : 0) || (a.item.line ?? 0) - (b.item.line ?? 0));
    const counts = apportion(pool.length, fractions);
    let i = 0;
    for (const name of SPLIT_NAMES) {
      for (let k = 0; k < counts[name]; k++) splitOf.set(pool[i++]!.item, name);
    }
  }
  const rows = items.map((item) => ({ ...item, split: splitOf.get(item)! }));
  const result = finish(rows, []);
  result.warnings.push(leakageWarning(result.leakage, 'split.by "clip" leaks speakers'));
  return result;
}

/**
 * Assigns rows by a release's own lists (path → split). Rows in none of the
 * lists are returned separately; a leak between the lists is reported.
 */
export function splitByMembership<T extends SplitItem>(
  items: readonly T[],
  membership: ReadonlyMap<string, SplitName>,
): SplitResult<T> & { unassigned: T[] } {
  const rows: Assigned<T>[] = [];
  const unassigned: T[] = [];
  for (const item of items) {
    const split = membership.get(item.path);
    if (split === undefined) unassigned.push(item);
    else rows.push({ ...item, split });
  }
  const result = finish(rows, []);
  if (result.leakage.testSpeakersInTrain > 0 || result.leakage.valSpeakersInTrain > 0) {
    result.warnings.push(leakageWarning(result.leakage, "the release's own split lists share speakers"));
  }
  return { ...result, unassigned };
}
