/** Speaker sex from LibriSpeech's SPEAKERS.TXT, so tests take the label from the data, not from us. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LIBRISPEECH_TEST_OTHER } from '../fixtures/paths.ts';

export function speakerSex(speaker: string, root = LIBRISPEECH_TEST_OTHER): 'F' | 'M' {
  for (const line of readFileSync(path.join(root, 'SPEAKERS.TXT'), 'utf8').split('\n')) {
    if (line.startsWith(';')) continue;
    const [id, sex] = line.split('|').map((s) => s.trim());
    if (id === speaker && (sex === 'F' || sex === 'M')) return sex;
  }
  throw new Error(`speaker ${speaker} not in SPEAKERS.TXT`);
}
