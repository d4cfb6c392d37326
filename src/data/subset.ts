/**
 * Balanced, seeded subset selection (the paper draws 6000 male + 5000 female clips).
 *
 * Selection is "bottom-k by keyed hash": every clip gets a pseudo-random key
 * `hash(seed, path)`, and per gender the k clips with the smallest keys win.
 * Consequences worth knowing:
 * - Deterministic for a seed, and independent of input order: reordering the
 *   TSV does not change *which* clips are chosen (ties on key fall back to the
 *   path, then the line, so even duplicates are ordered).
 * - Streaming: only k candidates per gender are held (a bounded max-heap), so
 *   a 864k-row file needs memory for ~11k rows, not 864k.
 * - Nested: for one seed, the 5000-clip subset is contained in the 6000-clip one.
 *
 * Speakers: Common Voice is heavy-tailed, a few contributors recorded thousands
 * of clips. A uniform clip sample then over-represents them, the model sees
 * few distinct voices, and a speaker-disjoint split cannot honour its fractions
 * when one speaker holds 10% of the clips. `maxClipsPerSpeaker` first keeps at
 * most that many clips per `client_id` (again by smallest key, so the choice is
 * seeded and order-independent), then draws the balanced subset from what is
 * left. With the cap, memory is bounded by speakers × cap rather than by k.
 * The default is no cap, which reproduces the paper's plain random draw.
 */
import type { Gender } from './commonVoice.ts';
import { keyedHash, seed32 } from './rng.ts';

export interface SubsetTargets {
  male: number;
  female: number;
  /** Keep at most this many clips per client_id before drawing (default: no cap). */
  maxClipsPerSpeaker?: number;
}

/** What the sampler needs to know about a row. */
export interface SubsetCandidate {
  path: string;
  clientId: string;
  gender: Gender;
  line?: number;
}

export interface SubsetShortWarning {
  code: 'subset_short';
  gender: Gender;
  requested: number;
  available: number;
  message: string;
}

export interface SubsetResult<T> {
  /** Chosen rows, in ascending key order (a seeded shuffle). */
  selected: T[];
  requested: Record<Gender, number>;
  /** Candidates per gender after the per-speaker cap (what the draw could choose from). */
  available: Record<Gender, number>;
  selectedByGender: Record<Gender, number>;
  /** Speakers that had more clips than the cap, and how many clips the cap removed. */
  speakersCapped: number;
  clipsRemovedByCap: number;
  /** One warning per gender whose target exceeded the available clips. */
  warnings: SubsetShortWarning[];
}

interface Entry<T> {
  key: number;
  item: T;
}

/** Strict total order on entries: key, then path, then line. */
function before<T extends SubsetCandidate>(a: Entry<T>, b: Entry<T>): boolean {
  if (a.key !== b.key) return a.key < b.key;
  if (a.item.path !== b.item.path) return a.item.path < b.item.path;
  return (a.item.line ?? 0) < (b.item.line ?? 0);
}

/** Keeps the `capacity` smallest entries seen; the root is the largest kept. */
class BottomK<T extends SubsetCandidate> {
  readonly heap: Entry<T>[] = [];
  seen = 0;

  constructor(readonly capacity: number) {}

  offer(entry: Entry<T>): void {
    this.seen++;
    const h = this.heap;
    if (h.length < this.capacity) {
      h.push(entry);
      this.siftUp(h.length - 1);
    } else if (h.length > 0 && before(entry, h[0]!)) {
      h[0] = entry;
      this.siftDown(0);
    }
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[parent]!, h[i]!)) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < h.length && before(h[top]!, h[l]!)) top = l;
      if (r < h.length && before(h[top]!, h[r]!)) top = r;
      if (top === i) return;
      [h[top], h[i]] = [h[i]!, h[top]!];
      i = top;
    }
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`subset.${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Streaming sampler: `add` every candidate, then `finish` once. */
export class BalancedSubsetSampler<T extends SubsetCandidate> {
  private readonly seed: number;
  private readonly byGender: Record<Gender, BottomK<T>>;
  private readonly bySpeaker: Map<string, BottomK<T>> | undefined;
  private finished = false;

  constructor(
    private readonly targets: SubsetTargets,
    seed: number | string,
  ) {
    checkCount('male', targets.male, 0);
    checkCount('female', targets.female, 0);
    if (targets.maxClipsPerSpeaker !== undefined) {
      checkCount('maxClipsPerSpeaker', targets.maxClipsPerSpeaker, 1);
      this.bySpeaker = new Map();
    }
    this.seed = seed32(seed, 'subset');
    this.byGender = { male: new BottomK<T>(targets.male), female: new BottomK<T>(targets.female) };
  }

  add(item: T): void {
    if (this.finished) throw new Error('BalancedSubsetSampler: add() after finish()');
    const entry: Entry<T> = { key: keyedHash(this.seed, item.path), item };
    if (this.bySpeaker === undefined) {
      this.byGender[item.gender].offer(entry);
      return;
    }
    let speaker = this.bySpeaker.get(item.clientId);
    if (speaker === undefined) {
      speaker = new BottomK<T>(this.targets.maxClipsPerSpeaker!);
      this.bySpeaker.set(item.clientId, speaker);
    }
    speaker.offer(entry);
  }

  finish(): SubsetResult<T> {
    if (this.finished) throw new Error('BalancedSubsetSampler: finish() called twice');
    this.finished = true;
    let speakersCapped = 0;
    let clipsRemovedByCap = 0;
    const available: Record<Gender, number> = { male: 0, female: 0 };
    if (this.bySpeaker === undefined) {
      available.male = this.byGender.male.seen;
      available.female = this.byGender.female.seen;
    } else {
      for (const speaker of this.bySpeaker.values()) {
        if (speaker.seen > speaker.capacity) {
          speakersCapped++;
          clipsRemovedByCap += speaker.seen - speaker.capacity;
        }
        for (const entry of speaker.heap) {
          available[entry.item.gender]++;
          this.byGender[entry.item.gender].offer(entry);
        }
      }
      this.bySpeaker.clear();
    }

    const entries = [...this.byGender.male.heap, ...this.byGender.female.heap];
    entries.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    const requested = { male: this.targets.male, female: this.targets.female };
    const selectedByGender = {
      male: this.byGender.male.heap.length,
      female: this.byGender.female.heap.length,
    };
    const warnings: SubsetShortWarning[] = [];
    for (const gender of ['male', 'female'] as const) {
      if (available[gender] < requested[gender]) {
        const capNote = this.bySpeaker === undefined ? '' : ` with at most ${this.targets.maxClipsPerSpeaker} per speaker`;
        warnings.push({
          code: 'subset_short',
          gender,
          requested: requested[gender],
          available: available[gender],
          message:
            `only ${available[gender]} ${gender} clips available${capNote} ` +
            `(requested ${requested[gender]}); the subset has ${available[gender]}`,
        });
      }
    }
    return {
      selected: entries.map((e) => e.item),
      requested,
      available,
      selectedByGender,
      speakersCapped,
      clipsRemovedByCap,
      warnings,
    };
  }
}

/** Array form of {@link BalancedSubsetSampler}. */
export function selectBalancedSubset<T extends SubsetCandidate>(
  items: Iterable<T>,
  targets: SubsetTargets,
  seed: number | string,
): SubsetResult<T> {
  const sampler = new BalancedSubsetSampler<T>(targets, seed);
  for (const item of items) sampler.add(item);
  return sampler.finish();
}
