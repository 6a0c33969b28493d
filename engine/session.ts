import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { QuantMode } from './quant/quant-mode.js';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  device?: Device;
  /** Intra-op threads; defaults to the machine's cores. */
  threads?: number;
  /**
   * The weights' width for inference graphs (int4, int8, none); undefined: by model size. Not read
   * by openSession itself: it rides along with the other run-time choices to the model loaders.
   * Training graphs take it from their spec (TrainingGraphSpec.quant) instead.
   */
  quant?: QuantMode;
}

export async function openSession(modelPath: string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: opts.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
}

export { ort };
