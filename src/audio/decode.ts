/**
 * In-process audio decoding: MP3 (mpg123 in WASM), FLAC (libFLAC in WASM) and WAV (a small
 * RIFF parser), picked by the file's magic bytes rather than its extension, because corpora
 * mislabel files and clips often arrive without a name. Every result is mono float32 in [-1, 1].
 */
// Types only: the decoders are ESM packages, imported on first use: the CommonJS bundle (scripts/bundle.mjs) cannot `require` ESM.
import type { MPEGDecoder } from 'mpg123-decoder';
import type { FLACDecoder } from '@wasm-audio-decoders/flac';
import { UserError } from '../errors.ts';

export type AudioFormat = 'mp3' | 'flac' | 'wav';

export interface DecodedAudio {
  /** Mono samples in [-1, 1] (multi-channel input is averaged). */
  samples: Float32Array;
  sampleRate: number;
  format: AudioFormat;
  /** Channels in the source before the downmix (mpg123 always reports 2 for MP3). */
  channels: number;
}

export interface AudioDecoder {
  /** Decodes one whole file. Calls are serialised: one clip at a time per decoder. */
  decode(bytes: Uint8Array): Promise<DecodedAudio>;
  /** Frees the WASM decoders; waits for a decode in progress. */
  close(): Promise<void>;
}

/** The bytes are not audio xp can read, or they decode to nothing. */
export class AudioDecodeError extends UserError {
  override name = 'AudioDecodeError';
}

export async function createAudioDecoder(): Promise<AudioDecoder> {
  // The WASM decoders are created on first use: a Common Voice run never needs FLAC.
  let mpeg: MPEGDecoder | undefined;
  let flac: FLACDecoder | undefined;
  let closed = false;
  // mpg123 corrupts its state (and eventually the heap) if a second clip is fed while the first
  // is still awaiting reset(), so every call goes through this one promise chain.
  let queue: Promise<unknown> = Promise.resolve();

  const decodeMp3 = async (bytes: Uint8Array): Promise<DecodedAudio> => {
    if (!mpeg) {
      const { MPEGDecoder } = await import('mpg123-decoder');
      mpeg = new MPEGDecoder();
      await mpeg.ready;
    }
    try {
      const messages: string[] = [];
      const decoded = withConsoleErrorCaptured(messages, () => mpeg!.decode(bytes));
      if (decoded.samplesDecoded === 0 || decoded.sampleRate === 0) {
        throw new AudioDecodeError(`MP3 decode produced no samples${detail(messages)}`);
      }
      return {
        samples: downmix(decoded.channelData, decoded.samplesDecoded),
        sampleRate: decoded.sampleRate,
        format: 'mp3',
        channels: decoded.channelData.length,
      };
    } finally {
      await mpeg.reset();
    }
  };

  const decodeFlac = async (bytes: Uint8Array): Promise<DecodedAudio> => {
    if (!flac) {
      const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
      flac = new FLACDecoder();
      await flac.ready;
    }
    try {
      const decoded = await flac.decodeFile(bytes);
      if (decoded.samplesDecoded === 0 || decoded.sampleRate === 0) {
        const messages = decoded.errors.map((e) => e.message);
        throw new AudioDecodeError(`FLAC decode produced no samples${detail(messages)}`);
      }
      return {
        samples: downmix(decoded.channelData, decoded.samplesDecoded),
        sampleRate: decoded.sampleRate,
        format: 'flac',
        channels: decoded.channelData.length,
      };
    } finally {
      await flac.reset();
    }
  };

  const decodeOne = async (bytes: Uint8Array): Promise<DecodedAudio> => {
    if (closed) throw new Error('AudioDecoder is closed');
    switch (sniffFormat(bytes)) {
      case 'mp3':
        return decodeMp3(bytes);
      case 'flac':
        return decodeFlac(bytes);
      case 'wav':
        return decodeWav(bytes);
      default:
        throw new AudioDecodeError(
          `not an MP3/FLAC/WAV file (${bytes.length} bytes, starts with ${hexPrefix(bytes)})`,
        );
    }
  };

  return {
    decode(bytes) {
      const run = queue.then(() => decodeOne(bytes));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      closed = true;
      await queue;
      mpeg?.free();
      flac?.free();
      mpeg = flac = undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Format sniffing

/** Which decoder the bytes need, or undefined. Exported for tests and for CLI diagnostics. */
export function sniffFormat(bytes: Uint8Array): AudioFormat | undefined {
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE') return 'wav';
  // An ID3v2 tag may precede MPEG audio and, rarely, FLAC.
  const start = id3v2Length(bytes);
  if (bytes.length >= start + 4 && ascii(bytes, start, 4) === 'fLaC') return 'flac';
  if (findMpegFrame(bytes, start) >= 0) return 'mp3';
  return undefined;
}

function id3v2Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || ascii(bytes, 0, 3) !== 'ID3') return 0;
  // Tag size is "syncsafe": 4 bytes of 7 bits each; +10 header, +10 if a footer is present.
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  return 10 + size + (bytes[5] & 0x10 ? 10 : 0);
}

const MPEG_BITRATES_KBPS: Record<string, readonly number[]> = {
  // [version group][layer] → index 1..14 (0 = free format, 15 = invalid)
  'v1l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2l2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  'v2l3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MPEG_SAMPLE_RATES = [44100, 48000, 32000];

/** Length in bytes of the MPEG audio frame whose header starts at `i`, 0 if free-format, −1 if invalid. */
function mpegFrameLength(b: Uint8Array, i: number): number {
  if (i + 4 > b.length || b[i] !== 0xff || (b[i + 1] & 0xe0) !== 0xe0) return -1;
  const versionBits = (b[i + 1] >> 3) & 3; // 0: 2.5, 1: reserved, 2: 2, 3: 1
  const layerBits = (b[i + 1] >> 1) & 3; // 1: III, 2: II, 3: I
  const bitrateIndex = b[i + 2] >> 4;
  const rateIndex = (b[i + 2] >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 15 || rateIndex === 3) return -1;
  const layer = 4 - layerBits;
  const v1 = versionBits === 3;
  const sampleRate = MPEG_SAMPLE_RATES[rateIndex] / (v1 ? 1 : versionBits === 2 ? 2 : 4);
  const kbps = MPEG_BITRATES_KBPS[`${v1 ? 'v1' : 'v2'}l${layer}`][bitrateIndex];
  if (kbps === 0) return 0;
  const padding = (b[i + 2] >> 1) & 1;
  if (layer === 1) return (Math.floor((12 * kbps * 1000) / sampleRate) + padding) * 4;
  const perFrame = layer === 3 && !v1 ? 72 : 144;
  return Math.floor((perFrame * kbps * 1000) / sampleRate) + padding;
}

/**
 * Offset of the first plausible MPEG audio frame within a small window after `start`, or −1.
 * A 0xFFE sync pattern occurs by chance in binary data, so when the file is long enough the
 * next frame header must be where this one's length says it is.
 */
function findMpegFrame(b: Uint8Array, start: number): number {
  const limit = Math.min(b.length - 4, start + 4096);
  for (let i = start; i <= limit; i++) {
    const len = mpegFrameLength(b, i);
    if (len < 0) continue;
    if (len === 0) return i; // free-format stream: cannot chain-check, accept the header
    if (i + len + 4 > b.length) return i + len === b.length ? i : -1;
    if (mpegFrameLength(b, i + len) >= 0) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// WAV

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Parses a RIFF/WAVE file: PCM 8/16/24/32-bit and IEEE float 32/64-bit, plain or EXTENSIBLE. */
export function decodeWav(bytes: Uint8Array): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WAVE') {
    throw new AudioDecodeError('not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  let dataOffset = -1;
  let dataSize = 0;
  for (let pos = 12; pos + 8 <= bytes.length; ) {
    const id = ascii(bytes, pos, 4);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new AudioDecodeError('WAV fmt chunk is truncated');
      let format = view.getUint16(body, true);
      if (format === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 26 > bytes.length) throw new AudioDecodeError('WAV EXTENSIBLE fmt chunk is truncated');
        format = view.getUint16(body + 24, true); // first two bytes of the SubFormat GUID
      }
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      dataOffset = body;
      // Streaming writers leave 0 or 0xFFFFFFFF here; a truncated file is shorter than claimed.
      dataSize = size === 0 || body + size > bytes.length ? bytes.length - body : size;
      break;
    }
    pos = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt) throw new AudioDecodeError('WAV has no fmt chunk');
  if (dataOffset < 0) throw new AudioDecodeError('WAV has no data chunk');
  const { format, channels, sampleRate, bits } = fmt;
  const bytesPerSample = bits / 8;
  const supported =
    (format === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bits)) ||
    (format === WAVE_FORMAT_IEEE_FLOAT && (bits === 32 || bits === 64));
  if (!supported) throw new AudioDecodeError(`unsupported WAV encoding (format ${format}, ${bits} bits)`);
  if (channels === 0 || sampleRate === 0) throw new AudioDecodeError('WAV declares 0 channels or 0 Hz');
  const blockAlign = Math.max(fmt.blockAlign, channels * bytesPerSample);
  const frames = Math.floor(dataSize / blockAlign);
  if (frames === 0) throw new AudioDecodeError('WAV contains no samples');

  const read = sampleReader(view, format, bits);
  const out = new Float32Array(frames);
  const scale = 1 / channels;
  for (let f = 0, pos = dataOffset; f < frames; f++, pos += blockAlign) {
    if (channels === 1) {
      out[f] = read(pos);
    } else {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += read(pos + c * bytesPerSample);
      out[f] = sum * scale;
    }
  }
  return { samples: out, sampleRate, format: 'wav', channels };
}

function sampleReader(view: DataView, format: number, bits: number): (pos: number) => number {
  if (format === WAVE_FORMAT_IEEE_FLOAT) {
    return bits === 32 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
  }
  switch (bits) {
    case 8:
      return (p) => (view.getUint8(p) - 128) / 128; // 8-bit WAV is unsigned
    case 16:
      return (p) => view.getInt16(p, true) / 32768;
    case 24:
      return (p) => ((view.getUint8(p + 2) << 24) | (view.getUint8(p + 1) << 16) | (view.getUint8(p) << 8)) / 2147483648;
    default:
      return (p) => view.getInt32(p, true) / 2147483648;
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

/** Average of the channels; a channel list whose members are all equal (mono MP3) is returned as is. */
function downmix(channels: Float32Array[], length: number): Float32Array {
  const first = channels[0].subarray(0, length);
  if (channels.length === 1 || channels.every((ch) => sameSamples(ch, first, length))) return first;
  const out = new Float32Array(length);
  for (const ch of channels) for (let i = 0; i < length; i++) out[i] += ch[i];
  const scale = 1 / channels.length;
  for (let i = 0; i < length; i++) out[i] *= scale;
  return out;
}

function sameSamples(a: Float32Array, b: Float32Array, length: number): boolean {
  if (a === b) return true;
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** mpg123-decoder reports stream errors with console.error; keep them for our error message instead. */
function withConsoleErrorCaptured<T>(sink: string[], fn: () => T): T {
  const original = console.error;
  console.error = (...args: unknown[]) => void sink.push(args.map(String).join(' '));
  try {
    return fn();
  } finally {
    console.error = original;
  }
}

function detail(messages: string[]): string {
  if (messages.length === 0) return '';
  const shown = messages.slice(0, 3).join('; ');
  return ` (${shown}${messages.length > 3 ? `; and ${messages.length - 3} more` : ''})`;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function hexPrefix(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'nothing';
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
