/**
 * Band-limited sample-rate conversion with the Speex resampler (BSD, compiled to WASM).
 * Quality 8 keeps 7.5 kHz within 0.3 dB at 16 kHz output and pushes aliases below −118 dB at
 * ~0.8 ms per input second (see shared/notes/audio-routes.md); 10 is reference quality at ~4×
 * the cost.
 *
 * The package ships only Emscripten glue, so this file owns the WASM memory: samples are copied
 * into the heap in fixed-size chunks, and filter state is reset between clips so one clip's
 * tail never leaks into the next.
 */
import type { SpeexResamplerModule } from '@echogarden/speex-resampler-wasm';

export const DEFAULT_RESAMPLE_QUALITY = 8;

export interface Resampler {
  readonly quality: number;
  /**
   * Converts a whole clip from `fromRate` to `toRate` (integer Hz). The output is aligned with
   * the input (filter delay removed) and has exactly ceil(n · to / from) samples. Returns the
   * input array itself when the rates are equal.
   */
  resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array;
  /** Frees all WASM state; the resampler cannot be used afterwards. */
  close(): void;
}

/** Input samples copied into WASM memory per process call: bounds the heap whatever the clip length. */
const CHUNK = 16384;
/** Converters kept for reuse. Speed perturbation asks for many source rates; keep the recent ones. */
const MAX_CACHED_CONVERTERS = 8;

let modulePromise: Promise<SpeexResamplerModule> | undefined;

/** One WASM instance per thread is enough: converters are just pointers into its heap. */
function loadSpeex(): Promise<SpeexResamplerModule> {
  // Node ≥ 16.4 has WASM SIMD, so the /simd build always loads here.
  // An ESM package, imported on first use: the CommonJS bundle (scripts/bundle.mjs) cannot `require` ESM.
  modulePromise ??= import('@echogarden/speex-resampler-wasm/simd').then(({ default: createModule }) => createModule());
  return modulePromise;
}

export async function createResampler(quality: number = DEFAULT_RESAMPLE_QUALITY): Promise<Resampler> {
  if (!Number.isInteger(quality) || quality < 0 || quality > 10) {
    throw new RangeError(`resampler quality must be an integer 0..10, got ${quality}`);
  }
  const m = await loadSpeex();
  // Buffers are per resampler, so two resamplers in one thread never share scratch memory.
  const lenPtrs = m._malloc(8); // [in_len, out_len] as uint32
  const inPtr = m._malloc(CHUNK * 4);
  let outPtr = 0;
  let outCapacity = 0;
  const converters = new Map<string, number>(); // "from>to" → SpeexResamplerState*
  let closed = false;

  const converter = (fromRate: number, toRate: number): number => {
    const key = `${fromRate}>${toRate}`;
    let state = converters.get(key);
    if (state !== undefined) {
      converters.delete(key); // re-insert to mark as most recently used
    } else {
      const errPtr = m._malloc(4);
      state = m._speex_resampler_init(1, fromRate, toRate, quality, errPtr);
      const err = m.HEAP32[errPtr >> 2];
      m._free(errPtr);
      if (state === 0 || err !== 0) throw new Error(`speex_resampler_init(${fromRate} → ${toRate}) failed with code ${err}`);
      if (converters.size >= MAX_CACHED_CONVERTERS) {
        const [oldKey, oldState] = converters.entries().next().value as [string, number];
        converters.delete(oldKey);
        m._speex_resampler_destroy(oldState);
      }
    }
    converters.set(key, state);
    return state;
  };

  const ensureOutCapacity = (n: number): void => {
    if (n <= outCapacity) return;
    if (outPtr) m._free(outPtr);
    outPtr = m._malloc(n * 4);
    outCapacity = n;
  };

  return {
    quality,
    resample(samples, fromRate, toRate) {
      if (closed) throw new Error('Resampler is closed');
      for (const [name, rate] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
        if (!Number.isInteger(rate) || rate <= 0) throw new RangeError(`resample: ${name} must be a positive integer Hz, got ${rate}`);
      }
      if (fromRate === toRate) return samples;
      const n = samples.length;
      const expected = Math.ceil((n * toRate) / fromRate);
      const out = new Float32Array(expected);
      if (n === 0) return out;

      const st = converter(fromRate, toRate);
      // A fresh clip: clear the filter history, then skip the filter's group delay so output
      // sample 0 lines up with input sample 0.
      m._speex_resampler_reset_mem(st);
      m._speex_resampler_skip_zeros(st);
      const latency = m._speex_resampler_get_input_latency(st);
      ensureOutCapacity(Math.ceil((CHUNK * toRate) / fromRate) + 64);

      let written = 0;
      // Feed the clip, then `latency` zeros (plus a little) to push the last samples out of the filter.
      const totalIn = n + latency + 2;
      for (let fed = 0; fed < totalIn && written < expected; ) {
        const len = Math.min(CHUNK, totalIn - fed);
        const heap = m.HEAPF32; // re-read: a malloc may have grown (and replaced) the heap
        const base = inPtr >> 2;
        const real = Math.max(0, Math.min(len, n - fed));
        if (real > 0) heap.set(samples.subarray(fed, fed + real), base);
        if (real < len) heap.fill(0, base + real, base + len);

        let consumed = 0;
        while (consumed < len && written < expected) {
          m.HEAPU32[lenPtrs >> 2] = len - consumed;
          m.HEAPU32[(lenPtrs >> 2) + 1] = outCapacity;
          const err = m._speex_resampler_process_float(st, 0, inPtr + consumed * 4, lenPtrs, outPtr, lenPtrs + 4);
          if (err !== 0) throw new Error(`speex_resampler_process_float failed with code ${err}`);
          const inUsed = m.HEAPU32[lenPtrs >> 2]!;
          const outMade = m.HEAPU32[(lenPtrs >> 2) + 1]!;
          const take = Math.min(outMade, expected - written);
          out.set(m.HEAPF32.subarray(outPtr >> 2, (outPtr >> 2) + take), written);
          written += take;
          consumed += inUsed;
          if (inUsed === 0 && outMade === 0) break; // cannot happen with a valid state; never spin
        }
        fed += len;
      }
      if (written < expected) {
        throw new Error(`speex resampler produced ${written} of ${expected} samples (${fromRate} → ${toRate})`);
      }
      return out;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const state of converters.values()) m._speex_resampler_destroy(state);
      converters.clear();
      m._free(inPtr);
      m._free(lenPtrs);
      if (outPtr) m._free(outPtr);
    },
  };
}
