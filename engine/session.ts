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
  /**
   * onnxruntime's CPU memory arena (default on): it keeps every block it ever grew to and reuses
   * them, fast, but its peak is far above what is live at any moment. Off, tensors are malloc'd and
   * freed as they die. QLoRA turns it off: at a 4-layer 0.5B shape, batch 1x512, peak RSS 3.6 GB
   * with it, 2.2 GB without, at the same step time.
   */
  memoryArena?: boolean;
}

export async function openSession(modelPath: string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: opts.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: opts.memoryArena ?? true,
  });
}

export { ort };
