import { describe, expect, it } from 'vitest';
import type { Gender } from '../../src/data/commonVoice.ts';
import { mulberry32, shuffleInPlace } from '../../src/data/rng.ts';
import { BalancedSubsetSampler, selectBalancedSubset, type SubsetCandidate } from '../../src/data/subset.ts';

/** Heavy-tailed pool: speaker k has ~200/(k+1) clips, genders alternate by speaker. */
function pool(speakers = 60): SubsetCandidate[] {
  const items: SubsetCandidate[] = [];
  let line = 2;
  for (let k = 0; k < speakers; k++) {
    const gender: Gender = k % 3 === 0 ? 'female' : 'male';
    for (let c = 0; c < Math.ceil(200 / (k + 1)); c++) items.push({ path: `s${k}_c${c}.mp3`, clientId: `spk${k}`, gender, line: line++ });
  }
  return items;
}

const paths = (items: SubsetCandidate[]): string[] => items.map((i) => i.path).sort();

describe('balanced subset', () => {
  const items = pool();
  const males = items.filter((i) => i.gender === 'male').length;
  const females = items.filter((i) => i.gender === 'female').length;

  it('draws exactly the targets when enough clips exist', () => {
    const r = selectBalancedSubset(items, { male: 300, female: 150 }, 7);
    expect(r.selectedByGender).toEqual({ male: 300, female: 150 });
    expect(r.selected.filter((i) => i.gender === 'male')).toHaveLength(300);
    expect(new Set(r.selected.map((i) => i.path)).size).toBe(450);
    expect(r.available).toEqual({ male: males, female: females });
    expect(r.warnings).toEqual([]);
  });

  it('caps to what exists and returns a warning (not printed)', () => {
    const r = selectBalancedSubset(items, { male: 6000, female: 5000 }, 7);
    expect(r.selectedByGender).toEqual({ male: males, female: females });
    expect(r.warnings).toEqual([
      { code: 'subset_short', gender: 'male', requested: 6000, available: males, message: `only ${males} male clips available (requested 6000); the subset has ${males}` },
      { code: 'subset_short', gender: 'female', requested: 5000, available: females, message: `only ${females} female clips available (requested 5000); the subset has ${females}` },
    ]);
  });

  it('is deterministic for a seed, independent of input order, and changes with the seed', () => {
    const a = selectBalancedSubset(items, { male: 100, female: 80 }, 'seed-1');
    const b = selectBalancedSubset(shuffleInPlace([...items], mulberry32(99)), { male: 100, female: 80 }, 'seed-1');
    expect(paths(b.selected)).toEqual(paths(a.selected));
    expect(b.selected.map((i) => i.path)).toEqual(a.selected.map((i) => i.path)); // even the order
    const c = selectBalancedSubset(items, { male: 100, female: 80 }, 'seed-2');
    const overlap = c.selected.filter((i) => new Set(a.selected.map((x) => x.path)).has(i.path)).length;
    expect(paths(c.selected)).not.toEqual(paths(a.selected));
    expect(overlap).toBeLessThan(120); // ~ (100/males + 80/females) share by chance, far from 180
  });

  it('is nested: a smaller target is a subset of a larger one for the same seed', () => {
    const small = new Set(selectBalancedSubset(items, { male: 50, female: 40 }, 3).selected.map((i) => i.path));
    const big = new Set(selectBalancedSubset(items, { male: 200, female: 100 }, 3).selected.map((i) => i.path));
    for (const p of small) expect(big.has(p)).toBe(true);
  });

  it('is roughly uniform: no clip is favoured across seeds', () => {
    const hits = new Map<string, number>();
    for (let seed = 0; seed < 200; seed++) {
      for (const i of selectBalancedSubset(items, { male: Math.floor(males / 2), female: 0 }, seed).selected) hits.set(i.path, (hits.get(i.path) ?? 0) + 1);
    }
    const counts = items.filter((i) => i.gender === 'male').map((i) => hits.get(i.path) ?? 0);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(mean).toBeCloseTo(100, 0);
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(140);
  });

  it('max_clips_per_speaker caps prolific speakers before drawing', () => {
    const r = selectBalancedSubset(items, { male: 10_000, female: 10_000, maxClipsPerSpeaker: 5 }, 1);
    const perSpeaker = new Map<string, number>();
    for (const i of r.selected) perSpeaker.set(i.clientId, (perSpeaker.get(i.clientId) ?? 0) + 1);
    expect(Math.max(...perSpeaker.values())).toBe(5);
    expect(perSpeaker.size).toBe(60);
    const expectedAvailable = new Map<string, number>();
    for (const i of items) expectedAvailable.set(i.clientId, Math.min(5, (expectedAvailable.get(i.clientId) ?? 0) + 1));
    expect(r.selected.length).toBe([...expectedAvailable.values()].reduce((a, b) => a + b, 0));
    const over = new Map<string, number>();
    for (const i of items) over.set(i.clientId, (over.get(i.clientId) ?? 0) + 1);
    expect(r.speakersCapped).toBe([...over.values()].filter((n) => n > 5).length);
    expect(r.clipsRemovedByCap).toBe(items.length - r.selected.length);
    expect(r.warnings[0]!.message).toContain('with at most 5 per speaker');
    // Same seed, reordered input: same choice.
    const again = selectBalancedSubset([...items].reverse(), { male: 10_000, female: 10_000, maxClipsPerSpeaker: 5 }, 1);
    expect(paths(again.selected)).toEqual(paths(r.selected));
  });

  it('the cap spreads a fixed-size subset over more speakers', () => {
    const plain = selectBalancedSubset(items, { male: 150, female: 60 }, 4).selected;
    const capped = selectBalancedSubset(items, { male: 150, female: 60, maxClipsPerSpeaker: 4 }, 4).selected;
    expect(capped).toHaveLength(plain.length);
    expect(new Set(capped.map((i) => i.clientId)).size).toBeGreaterThan(new Set(plain.map((i) => i.clientId)).size);
  });

  it('validates targets and refuses reuse', () => {
    expect(() => new BalancedSubsetSampler({ male: -1, female: 1 }, 1)).toThrow('subset.male must be an integer >= 0, got -1');
    expect(() => new BalancedSubsetSampler({ male: 1, female: 1, maxClipsPerSpeaker: 0 }, 1)).toThrow('subset.maxClipsPerSpeaker must be an integer >= 1');
    const s = new BalancedSubsetSampler({ male: 1, female: 1 }, 1);
    s.finish();
    expect(() => s.add(items[0]!)).toThrow('add() after finish()');
  });
});
