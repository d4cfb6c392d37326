/** Clip params shared by the extractClip and pool tests. */
import { DEFAULT_FEATURE_PARAMS } from '../../src/features/mfcc.ts';
import type { ClipParams } from '../../src/features/extractClip.ts';

export const BASE_PARAMS: ClipParams = {
  ...DEFAULT_FEATURE_PARAMS,
  targetRate: 16000,
  trim: { enabled: false, topDb: 60 },
  frames: 300,
};

export const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
