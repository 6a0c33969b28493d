import { CausalLM } from './causal-lm.js';
import { initializerParams, type InferenceGraphOptions } from './llama/inference-graph.js';
import { openModelFolder, type ModelFolder } from './model-folder.js';
import type { SessionOptions } from './session.js';

export interface LoadOptions extends SessionOptions, Omit<InferenceGraphOptions, 'linearHook'> {}

/** Compiles (or finds in the cache) the inference graph of a model folder and opens it. */
export async function loadCausalLM(folder: ModelFolder | string, opts: LoadOptions): Promise<CausalLM> {
  const f = typeof folder === 'string' ? openModelFolder(folder) : folder;
  return CausalLM.create(f.config, {
    ...opts,
    weightsKey: f.weights.fingerprint(),
    params: (b) => initializerParams(b, f.weights),
  });
}
