/**
 * What the training loop needs from an engine's model. The libtorch addon implements it; a
 * TF.js engine can too. Weights travel in Keras / TF.js layout so any engine can save or load them.
 */
export interface WeightTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TrainableModel {
  /** One optimiser step on a batch ([batch, frames, coeffs], labels 0/1); the batch's mean loss. */
  trainStep(x: Float32Array, y: Float32Array, batch: number): number;
  /** Probabilities of class 1 (male), inference mode. */
  predict(x: Float32Array, batch: number): Float32Array;
  getWeights(): WeightTensor[];
  setWeights(weights: WeightTensor[]): void;
  /** Opaque, JSON/binary-serialisable optimiser state (see checkpoint.ts). */
  getOptimizerState(): unknown;
  setOptimizerState(state: unknown): void;
  setLearningRate(lr: number): void;
  getLearningRate(): number;
  paramCount(): number;
  dispose(): void;
}
