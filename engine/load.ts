import { CausalLM } from './causal-lm.js';
import { initializerParams, type InferenceGraphOptions } from './llama/inference-graph.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import { resolveQuantMode, type QuantActivations, type QuantMode } from './quant/quant-mode.js';
import type { SessionOptions } from './session.js';

export interface LoadOptions extends SessionOptions, Omit<InferenceGraphOptions, 'linearHook'> {
  /** int4/int8 weights (see quant/quant-mode.ts), or none; undefined: the default for the model's size. */
  quant?: QuantMode;
  /** MatMulNBits' activations (quant/quant-mode.ts); default 'int8', the fast kernels. Tests ask for 'float', the exact ones. */
  quantActivations?: QuantActivations;
}

/** Compiles (or finds in the cache) the inference graph of a model folder and opens it. */
export async function loadCausalLM(folder: ModelFolder | string, opts: LoadOptions): Promise<CausalLM> {
  const f = typeof folder === 'string' ? openModelFolder(folder) : folder;
  const quant = resolveQuantMode(f.config, opts.quant);
  const quantActivations = opts.quantActivations ?? 'int8';
  return CausalLM.create(f.config, {
    ...opts,
    quant,
    quantActivations,
    weightsKey: f.weights.fingerprint(),
    params: (b) => initializerParams(b, f.weights, { mode: quant, activations: quantActivations, numLayers: f.config.numLayers }),
  });
}
