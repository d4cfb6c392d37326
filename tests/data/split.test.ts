import { describe, expect, it } from 'vitest';
import type { Gender } from '../../src/data/commonVoice.ts';
import { splitByClip, splitByMembership, splitBySpeaker, type Assigned, type SplitItem, type SplitName } from '../../src/data/split.ts';

/** Speakers with heavy-tailed clip counts; ~40% female. */
function corpus(speakers = 120): SplitItem[] {
  const items: SplitItem[] = [];
  for (let k = 0; k < speakers; k++) {
    const gender: Gender = k % 5 < 2 ? 'female' : 'male';
    const n = 1 + Math.floor(300 / (k + 3));
    for (let c = 0; c < n; c++) items.push({ path: `s${k}-${c}.mp3`, clientId: `spk${k}`, gender });
  }
  return items;
}

function speakersBySplit<T extends SplitItem>(rows: Assigned<T>[]): Record<SplitName, Set<string>> {
  const out: Record<SplitName, Set<string>> = { train: new Set(), val: new Set(), test: new Set() };
  for (const r of rows) out[r.split].add(r.clientId);
  return out;
}

const F = { train: 0.7, val: 0.15, test: 0.15 };

describe('splitBySpeaker', () => {
  const items = corpus();

  it('never puts one client_id in two splits, keeps every row and the input order', () => {
    const r = splitBySpeaker(items, F, 1);
    expect(r.rows.map((x) => x.path)).toEqual(items.map((x) => x.path));
    const s = speakersBySplit(r.rows);
    for (const id of s.train) expect(s.val.has(id) || s.test.has(id)).toBe(false);
    for (const id of s.val) expect(s.test.has(id)).toBe(false);
    expect(r.leakage.testSpeakersInTrain).toBe(0);
    expect(r.leakage.valSpeakersInTrain).toBe(0);
    expect(r.warnings).toEqual([]);
  });

  it('is stratified and approximately honours the fractions, per gender', () => {
    for (const seed of [1, 2, 3, 'abc']) {
      const r = splitBySpeaker(items, F, seed);
      for (const gender of ['male', 'female'] as const) {
        const total = items.filter((i) => i.gender === gender).length;
        for (const name of ['train', 'val', 'test'] as const) {
          const share = r.stats[name][gender] / total;
          expect(Math.abs(share - F[name])).toBeLessThan(0.03);
          expect(r.stats[name][`${gender}Speakers`]).toBeGreaterThan(0);
        }
      }
    }
  });

  it('is deterministic per seed and varies with the seed', () => {
    const a = splitBySpeaker(items, F, 5).rows.map((r) => r.split);
    expect(splitBySpeaker(items, F, 5).rows.map((r) => r.split)).toEqual(a);
    expect(splitBySpeaker([...items].reverse(), F, 5).rows.map((r) => r.split).reverse()).toEqual(a);
    expect(splitBySpeaker(items, F, 6).rows.map((r) => r.split)).not.toEqual(a);
  });

  it('gives each split both genders even with few speakers', () => {
    const few: SplitItem[] = [
      ...Array.from({ length: 100 }, (_, i) => ({ path: `a${i}`, clientId: 'A', gender: 'female' as const })),
      { path: 'b', clientId: 'B', gender: 'female' },
      { path: 'c', clientId: 'C', gender: 'female' },
      ...Array.from({ length: 3 }, (_, i) => ({ path: `m${i}`, clientId: `M${i}`, gender: 'male' as const })),
    ];
    const r = splitBySpeaker(few, F, 1);
    for (const name of ['train', 'val', 'test'] as const) {
      expect(r.stats[name].femaleSpeakers).toBe(1);
      expect(r.stats[name].maleSpeakers).toBe(1);
    }
  });

  it('reports speakers with mixed gender labels and places them once', () => {
    const mixed: SplitItem[] = [...items, { path: 'x1', clientId: 'spk0', gender: 'male' }];
    const r = splitBySpeaker(mixed, F, 1);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'mixed_gender_speakers', speakers: 1 })]);
    expect(new Set(r.rows.filter((x) => x.clientId === 'spk0').map((x) => x.split)).size).toBe(1);
  });

  it('supports a zero fraction and validates fractions', () => {
    const r = splitBySpeaker(items, { train: 0.8, val: 0, test: 0.2 }, 1);
    expect(r.stats.val.clips).toBe(0);
    expect(() => splitBySpeaker(items, { train: 0.8, val: 0.3, test: 0.1 }, 1)).toThrow('split fractions must sum to 1');
    expect(() => splitBySpeaker(items, { train: 1.2, val: -0.2, test: 0 }, 1)).toThrow('split.val must be a number >= 0');
  });
});

describe('splitByClip', () => {
  const items = corpus();

  it('splits clips exactly by fraction per gender and reports the speaker leakage it causes', () => {
    const r = splitByClip(items, F, 1);
    for (const gender of ['male', 'female'] as const) {
      const total = items.filter((i) => i.gender === gender).length;
      expect(r.stats.train[gender] + r.stats.val[gender] + r.stats.test[gender]).toBe(total);
      expect(Math.abs(r.stats.test[gender] - 0.15 * total)).toBeLessThanOrEqual(1);
    }
    const s = speakersBySplit(r.rows);
    const leaked = [...s.test].filter((id) => s.train.has(id)).length;
    expect(leaked).toBeGreaterThan(0);
    expect(r.leakage.testSpeakersInTrain).toBe(leaked);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ code: 'speaker_leakage', testSpeakersInTrain: leaked, testSpeakers: s.test.size });
    expect(r.warnings[0]!.message).toContain(`${leaked} of ${s.test.size} test speakers`);
  });

  it('is deterministic per seed', () => {
    expect(splitByClip(items, F, 2).rows).toEqual(splitByClip(items, F, 2).rows);
    expect(splitByClip(items, F, 2).rows).not.toEqual(splitByClip(items, F, 3).rows);
  });
});

describe('splitByMembership', () => {
  it('follows the given lists and returns rows not listed', () => {
    const items: SplitItem[] = [
      { path: 'a', clientId: '1', gender: 'male' },
      { path: 'b', clientId: '2', gender: 'female' },
      { path: 'c', clientId: '3', gender: 'female' },
      { path: 'd', clientId: '1', gender: 'male' },
    ];
    const m = new Map<string, SplitName>([['a', 'train'], ['b', 'test'], ['d', 'test']]);
    const r = splitByMembership(items, m);
    expect(r.rows.map((x) => [x.path, x.split])).toEqual([['a', 'train'], ['b', 'test'], ['d', 'test']]);
    expect(r.unassigned.map((x) => x.path)).toEqual(['c']);
    expect(r.leakage.testSpeakersInTrain).toBe(1);
    expect(r.warnings[0]).toMatchObject({ code: 'speaker_leakage' });
  });
});
