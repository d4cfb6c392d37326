/** Writes RIFF/WAVE bytes for decoder tests: PCM 8/16/24/32-bit or float 32/64, plain or EXTENSIBLE. */
export interface WavSpec {
  sampleRate: number;
  /** Interleaved frames: channels[c][i]. */
  channels: Float32Array[];
  encoding: 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
  extensible?: boolean;
  /** Insert a 'LIST' chunk of odd length before 'data' (checks chunk walking and padding). */
  extraChunk?: boolean;
}

export function writeWav(spec: WavSpec): Uint8Array {
  const bits = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 }[spec.encoding];
  const isFloat = spec.encoding.startsWith('float');
  const nch = spec.channels.length;
  const frames = spec.channels[0]!.length;
  const bps = bits / 8;
  const dataSize = frames * nch * bps;
  const fmtSize = spec.extensible ? 40 : 16;
  const extra = spec.extraChunk ? 8 + 5 + 1 : 0;
  const total = 12 + 8 + fmtSize + extra + 8 + dataSize;
  const buf = new ArrayBuffer(total);
  const v = new DataView(buf);
  const u8 = new Uint8Array(buf);
  const str = (o: number, s: string) => [...s].forEach((ch, i) => (u8[o + i] = ch.charCodeAt(0)));
  str(0, 'RIFF');
  v.setUint32(4, total - 8, true);
  str(8, 'WAVE');
  str(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  const formatCode = isFloat ? 3 : 1;
  v.setUint16(20, spec.extensible ? 0xfffe : formatCode, true);
  v.setUint16(22, nch, true);
  v.setUint32(24, spec.sampleRate, true);
  v.setUint32(28, spec.sampleRate * nch * bps, true);
  v.setUint16(32, nch * bps, true);
  v.setUint16(34, bits, true);
  let pos = 36;
  if (spec.extensible) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, bits, true); // valid bits
    v.setUint32(40, 0, true); // channel mask
    v.setUint16(44, formatCode, true); // SubFormat GUID, first two bytes
    // rest of KSDATAFORMAT_SUBTYPE GUID: 00 00 00 00 10 00 80 00 00 AA 00 38 9B 71
    [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71].forEach((b, i) => (u8[46 + i] = b));
    pos = 60;
  }
  if (spec.extraChunk) {
    str(pos, 'LIST');
    v.setUint32(pos + 4, 5, true);
    str(pos + 8, 'INFOx');
    pos += 8 + 5 + 1; // odd size → one pad byte
  }
  str(pos, 'data');
  v.setUint32(pos + 4, dataSize, true);
  pos += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++, pos += bps) {
      const x = spec.channels[c]![i]!;
      switch (spec.encoding) {
        case 'pcm8':
          v.setUint8(pos, Math.round(x * 128) + 128);
          break;
        case 'pcm16':
          v.setInt16(pos, Math.round(x * 32768), true);
          break;
        case 'pcm24': {
          const s = Math.round(x * 8388608);
          v.setUint8(pos, s & 0xff);
          v.setUint8(pos + 1, (s >> 8) & 0xff);
          v.setUint8(pos + 2, (s >> 16) & 0xff);
          break;
        }
        case 'pcm32':
          v.setInt32(pos, Math.round(x * 2147483648), true);
          break;
        case 'float32':
          v.setFloat32(pos, x, true);
          break;
        case 'float64':
          v.setFloat64(pos, x, true);
          break;
      }
    }
  }
  return u8;
}
