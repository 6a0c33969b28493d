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
   * them, fast, but its peak is above what is live at any moment. Off, tensors are malloc'd and
   * freed as they die, and glibc keeps most of what was freed resident: the 6-layer 0.5B-shape QLoRA
   * step (batch 1x512) peaked at 1587 MB RSS without it, 677 MB with it.
   */
  memoryArena?: boolean;
  /**
   * onnxruntime's memory patterns (default on): after a run it plans one block for all the next
   * run's intermediates of the same input shapes. Training graphs turn it off: the 6-layer QLoRA
   * step above peaked at 903 MB with it (and its steps were several times slower), 677 MB without.
   */
  memoryPattern?: boolean;
  /**
   * onnxruntime's graph optimizations (default 'all'). 'basic' (constant folding, redundant-node
   * elimination) for float64 graphs: the fusions 'all' adds have float32 kernels only, and one that
   * matches (QuickGelu for x * sigmoid(x)) fails the session on a double graph.
   */
  optimization?: 'basic' | 'all';
}

export async function openSession(modelPath: string, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: opts.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: opts.optimization ?? 'all',
    intraOpNumThreads: opts.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: opts.memoryArena ?? true,
    enableMemPattern: opts.memoryPattern ?? true,
  });
}

export { ort };
