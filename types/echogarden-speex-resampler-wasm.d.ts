// The package ships Emscripten glue without typings; only the exports xp calls are declared.
declare module '@echogarden/speex-resampler-wasm' {
  export interface SpeexResamplerModule {
    HEAPU8: Uint8Array;
    HEAP32: Int32Array;
    HEAPU32: Uint32Array;
    HEAPF32: Float32Array;
    _malloc(size: number): number;
    _free(ptr: number): void;
    _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
    _speex_resampler_destroy(state: number): void;
    _speex_resampler_process_float(
      state: number,
      channel: number,
      inPtr: number,
      inLenPtr: number,
      outPtr: number,
      outLenPtr: number,
    ): number;
    _speex_resampler_reset_mem(state: number): number;
    _speex_resampler_skip_zeros(state: number): number;
    _speex_resampler_get_input_latency(state: number): number;
    _speex_resampler_get_output_latency(state: number): number;
    _speex_resampler_strerror(code: number): number;
  }
  const SpeexResampler: (moduleArg?: Record<string, unknown>) => Promise<SpeexResamplerModule>;
  export default SpeexResampler;
}

declare module '@echogarden/speex-resampler-wasm/simd' {
  import SpeexResampler from '@echogarden/speex-resampler-wasm';
  export default SpeexResampler;
}
