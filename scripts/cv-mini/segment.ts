/**
 * Cutting a long utterance into 3–6 s clips at pauses, so no word is cut.
 *
 * Energy-based: frames of 20 ms every 10 ms; a frame is "quiet" when its level
 * is 28 dB below the utterance's speech level (90th percentile) and at least
 * 6 dB above its noise floor (10th percentile), so noisy and clean recordings
 * both give pauses. A run of quiet frames at least
 * `minPauseS` (150 ms, longer than a stop closure inside a word) long is a pause, and clips may only start and end inside pauses
 * (or at the utterance edges). Among all ways to chain pauses into clips of
 * allowed length, dynamic programming picks the one covering the most speech;
 * stretches that cannot be cut cleanly are left out rather than cut mid-word.
 * Each clip keeps at most `padS` of its bordering pauses (less when needed to fit).
 */

export interface SegmentOptions {
  sampleRate: number;
  minClipS?: number;
  maxClipS?: number;
  minPauseS?: number;
  padS?: number;
  /** A frame is quiet when it is this many dB below the 90th-percentile frame level. */
  quietDb?: number;
}

export interface Segment {
  /** Sample indices, end exclusive. */
  start: number;
  end: number;
}

interface Boundary {
  /** Where a clip ending at this pause ends. */
  endAt: number;
  /** Where a clip starting at this pause starts. */
  startAt: number;
}

export function frameLevelsDb(samples: Float32Array, sampleRate: number): { levels: Float64Array; hop: number } {
  const hop = Math.round(sampleRate * 0.01);
  const win = 2 * hop;
  const frames = Math.max(0, Math.floor((samples.length - win) / hop) + 1);
  const levels = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = f * hop, end = i + win; i < end; i++) sum += samples[i]! * samples[i]!;
    levels[f] = 10 * Math.log10(sum / win + 1e-12);
  }
  return { levels, hop };
}

function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function findSegments(samples: Float32Array, options: SegmentOptions): Segment[] {
  const sr = options.sampleRate;
  const minLen = Math.round((options.minClipS ?? 3) * sr);
  const maxLen = Math.round((options.maxClipS ?? 6) * sr);
  const pad = Math.round((options.padS ?? 0.25) * sr);
  const { levels, hop } = frameLevelsDb(samples, sr);
  if (levels.length === 0) return [];
  const floor = percentile(levels, 0.1);
  const speech = percentile(levels, 0.9);
  // Quiet = well below this speaker's speech level, but clearly above the noise
  // floor (so a loud room or a clean studio both give usable pauses).
  const threshold = Math.max(speech - (options.quietDb ?? 28), floor + 6);
  const minPauseFrames = Math.max(1, Math.round((options.minPauseS ?? 0.15) / 0.01));

  // Quiet runs as [firstFrame, lastFrame + 1).
  const runs: Array<[number, number]> = [];
  for (let f = 0; f < levels.length; ) {
    if (levels[f]! >= threshold) { f++; continue; }
    const s = f;
    while (f < levels.length && levels[f]! < threshold) f++;
    runs.push([s, f]);
  }

  const n = samples.length;
  const toSample = (frame: number): number => Math.min(n, frame * hop + hop / 2);
  // Boundaries in time order (startAt never decreases), which the search below
  // relies on. Each pause and edge is offered twice: keeping `pad` of quiet, and
  // keeping only `tight`; the search prefers the padded one (it covers more)
  // and uses the tight one when the padded clip would be too long.
  const tight = Math.min(pad, Math.round(0.05 * sr));
  const boundaries: Boundary[] = [{ endAt: 0, startAt: 0 }];
  const lead = runs.length > 0 && runs[0]![0] === 0 ? toSample(runs[0]![1]) : 0;
  for (const keep of [pad, tight]) {
    if (lead - keep > 0) boundaries.push({ endAt: lead - keep, startAt: lead - keep });
  }
  for (const [s, e] of runs) {
    if (s === 0 || e === levels.length) continue;
    if (e - s < minPauseFrames) continue;
    const a = toSample(s);
    const b = toSample(e);
    const mid = Math.round((a + b) / 2);
    for (const keep of [pad, tight]) {
      boundaries.push({ endAt: Math.min(a + keep, mid), startAt: Math.max(b - keep, mid) });
    }
  }
  const last = runs.length > 0 ? runs[runs.length - 1]! : undefined;
  const trail = last !== undefined && last[1] === levels.length && last[0] > 0 ? toSample(last[0]) : n;
  for (const keep of [tight, pad]) {
    if (trail + keep < n) boundaries.push({ endAt: trail + keep, startAt: trail + keep });
  }
  boundaries.push({ endAt: n, startAt: n });

  // best[j]: most samples covered by clips ending at or before boundary j.
  const m = boundaries.length;
  const best = new Float64Array(m).fill(-1);
  const from = new Int32Array(m).fill(-1);
  const asClip = new Uint8Array(m);
  best[0] = 0;
  for (let j = 1; j < m; j++) {
    // Skipping the stretch between j-1 and j (no clip) is always allowed.
    best[j] = best[j - 1]!;
    from[j] = j - 1;
    asClip[j] = 0;
    for (let i = j - 1; i >= 0; i--) {
      const len = boundaries[j]!.endAt - boundaries[i]!.startAt;
      if (len > maxLen) break;
      if (len < minLen) continue;
      const score = best[i]! + len;
      if (score > best[j]!) {
        best[j] = score;
        from[j] = i;
        asClip[j] = 1;
      }
    }
  }
  const segments: Segment[] = [];
  for (let j = m - 1; j > 0; j = from[j]!) {
    if (asClip[j]) segments.push({ start: boundaries[from[j]!]!.startAt, end: boundaries[j]!.endAt });
  }
  return segments.reverse();
}

/**
 * Tries pause thresholds from strict to permissive and keeps the strictest one
 * whose clips cover at least 80% of what the most permissive covers. Stricter
 * thresholds only cut in deep pauses; permissive ones rescue readers who
 * barely pause (or read in a noisy room), at a slightly higher risk of cutting
 * in a weak consonant.
 */
export function segmentUtterance(
  samples: Float32Array,
  options: Omit<SegmentOptions, 'quietDb'> & { quietDbSteps?: readonly number[] },
): { segments: Segment[]; quietDb: number } {
  const steps = options.quietDbSteps ?? [30, 26, 22];
  const tries = steps.map((quietDb) => {
    const segments = findSegments(samples, { ...options, quietDb });
    return { segments, quietDb, covered: segments.reduce((n, s) => n + s.end - s.start, 0) };
  });
  const best = Math.max(...tries.map((t) => t.covered));
  return tries.find((t) => t.covered >= 0.8 * best)!;
}
