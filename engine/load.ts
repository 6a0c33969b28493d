import { CausalLM } from './causal-lm.js';
import { initializerParams, type InferenceGraphOptions } from './llama/inference-graph.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import { resolveQuantMode, type QuantMode } from './quant/quant-mode.js';
import type { SessionOptions } from './session.js';

export interface LoadOptions extends SessionOptions, Omit<InferenceGraphOptions, 'linearHook'> {
  /** int4/int8 weights (see quant/quant-mode.ts), or none; undefined: the default for the model's size. */
  quant?: QuantMode;
}

/** Compiles (or finds in the cache) the inference graph of a model folder and opens it. */
export async function loadCausalLM(folder: ModelFolder | string, opts: LoadOptions): Promise<CausalLM> {
  const f = typeof folder === 'string' ? openModelFolder(folder) : folder;
  const quant = resolveQuantMode(f.config, opts.quant);
  return CausalLM.create(f.config, {
    ...opts,
    quant,
    weightsKey: f.weights.fingerprint(),
    params: (b) => initializerParams(b, f.weights, quant),
  });
}
