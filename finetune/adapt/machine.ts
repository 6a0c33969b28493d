// Defaults sized to the machine: threads from the cores, micro-batch from free memory and the
// model's activation size per token, gradient accumulation to keep the effective batch.
import { availableParallelism, freemem } from 'node:os';
import type { ModelConfig } from '../../engine/index.js';

export interface Machine {
  cores: number;
  /** Bytes of memory free for this run. */
  freeMemory: number;
}

export function thisMachine(): Machine {
  return { cores: availableParallelism(), freeMemory: freemem() };
}

/** Sequences per optimizer step the defaults aim for. */
export const EFFECTIVE_BATCH = 8;
const MAX_MICRO_BATCH = 8;
/** Share of free memory the training step's activations may take. */
const MEMORY_SHARE = 0.4;

/**
 * Rough float32 bytes one token of a training step holds: each layer's saved activations and
 * their gradients (projections, MLP, attention scores over `seq`), and the logits with their
 * softmax and gradient.
 */
export function bytesPerToken(config: ModelConfig, seq: number): number {
  const perLayer = 8 * config.hiddenSize + 4 * config.intermediateSize + 2 * config.numHeads * seq;
  return 4 * (2 * config.numLayers * perLayer + 3 * config.vocabSize);
}

/** Micro-batch and accumulation: explicit values win; else as many sequences as memory allows, up to the effective batch. */
export function batching(
  config: ModelConfig,
  seq: number,
  machine: Machine,
  explicit: { batch?: number; gradAccum?: number } = {},
): { batch: number; gradAccum: number } {
  const fits = Math.floor((machine.freeMemory * MEMORY_SHARE) / (seq * bytesPerToken(config, seq)));
  const batch = explicit.batch ?? Math.max(1, Math.min(MAX_MICRO_BATCH, EFFECTIVE_BATCH, fits));
  const gradAccum = explicit.gradAccum ?? Math.max(1, Math.ceil(EFFECTIVE_BATCH / batch));
  return { batch, gradAccum };
}

/** Warm-up steps for a run of `steps`: 5 percent, at least 1, at most 50. */
export function warmupFor(steps: number): number {
  return Math.min(50, Math.max(1, Math.round(steps * 0.05)));
}

export interface TimeBudget {
  /** The whole budget, seconds. */
  budget: number;
  /** Already spent (history, tokenizing, the loss before, timing steps). */
  spent: number;
  /** What measuring the loss before took: measuring it after costs about the same. */
  evalSeconds: number;
  secondsPerStep: number;
  /** Most steps (passes over the data times steps per pass). */
  cap: number;
}

/** Steps are planned for this share of the time left: speed varies on a shared machine. */
const TIME_MARGIN = 0.9;

/** Steps that fit in what is left of the budget, at least 1, at most the cap. */
export function stepsForTime(t: TimeBudget): number {
  const left = (t.budget - t.spent - Math.min(t.evalSeconds, t.budget / 4)) * TIME_MARGIN;
  return Math.max(1, Math.min(t.cap, Math.floor(left / t.secondsPerStep)));
}
