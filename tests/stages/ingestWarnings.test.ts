import { describe, expect, it } from 'vitest';
import { validationSpeakerWarnings } from '../../src/stages/ingest.ts';

const val = (maleSpeakers: number, femaleSpeakers: number, clips = 10) => ({ clips, male: 5, female: 5, speakers: maleSpeakers + femaleSpeakers, maleSpeakers, femaleSpeakers });

describe('too few validation speakers', () => {
  it('warns when either class has fewer speakers than data.split.min_val_speakers', () => {
    expect(validationSpeakerWarnings(val(2, 9), 5)).toEqual([
      'the validation split has only 2 male and 9 female speakers (data.split.min_val_speakers: 5): early stopping and search decisions rest on a handful of voices and can collapse a run; use more data or a larger data.split.val',
    ]);
    expect(validationSpeakerWarnings(val(9, 4), 5)).toHaveLength(1);
  });

  it('is quiet with enough speakers, without a validation split, or when turned off', () => {
    expect(validationSpeakerWarnings(val(5, 5), 5)).toEqual([]);
    expect(validationSpeakerWarnings(val(0, 0, 0), 5)).toEqual([]);
    expect(validationSpeakerWarnings(val(1, 1), 0)).toEqual([]);
  });
});
