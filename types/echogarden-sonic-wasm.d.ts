// The package ships Emscripten glue without typings; only the exports xp calls are declared.
declare module '@echogarden/sonic-wasm' {
  export interface SonicModule {
    HEAPF32: Float32Array;
    _malloc(size: number): number;
    _free(ptr: number): void;
    _sonicCreateStream(sampleRate: number, channels: number): number;
    _sonicDestroyStream(stream: number): void;
    _sonicSetPitch(stream: number, pitch: number): void;
    _sonicSetSpeed(stream: number, speed: number): void;
    _sonicSetRate(stream: number, rate: number): void;
    _sonicSetQuality(stream: number, quality: number): void;
    _sonicWriteFloatToStream(stream: number, samplesPtr: number, numSamples: number): number;
    _sonicFlushStream(stream: number): number;
    _sonicSamplesAvailable(stream: number): number;
    _sonicReadFloatFromStream(stream: number, samplesPtr: number, maxSamples: number): number;
  }
  const Sonic: (moduleArg?: Record<string, unknown>) => Promise<SonicModule>;
  export default Sonic;
}
