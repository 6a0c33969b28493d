import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../engine/config.js';
import { Rng, UserError } from '../common/index.js';
import { writeSafetensors } from '../engine/safetensors.js';
import { expectedTensors } from '../engine/weight-layout.js';

/** Qwen2.5-Coder-0.5B's config.json shape (random weights stand in for the real ones offline). */
export const QWEN25_CODER_05B = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  torch_dtype: 'float32',
  bos_token_id: 151643,
  eos_token_id: 151643,
};

/** Writes a model folder with `config` and N(0, 0.02) weights (norms at 1): for benchmarks and tests of shape, not quality. */
export function writeRandomModel(dir: string, config: Record<string, unknown>, seed = 0): ModelConfig {
  mkdirSync(dir, { recursive: true });
  const parsed = parseModelConfig(config);
  const rng = new Rng(seed);
  const tensors = expectedTensors(parsed).map(({ name, shape }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
    return { name, dtype: 'F32' as const, shape, data };
  });
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return parsed;
}

/** Shapes `bench random-model` can write. */
export const RANDOM_MODEL_SHAPES: Record<string, Record<string, unknown>> = { 'qwen2.5-coder-0.5b': QWEN25_CODER_05B };

/**
 * A random model of a named shape with a working tokenizer, so the commands that need one (serve,
 * `bench typing`) run on it: the embedded model's tokenizer files are copied in. Its 8192 ids are
 * all inside the shape's vocabulary; the rest of the vocabulary is never produced by the tokenizer
 * but still costs what it costs in lm_head, which is what a benchmark of shape measures.
 */
export function writeRandomModelWithTokenizer(dir: string, shape: string, tokenizerFrom: string, seed = 0): ModelConfig {
  const config = RANDOM_MODEL_SHAPES[shape];
  if (!config) throw new UserError(`unknown model shape "${shape}" (${Object.keys(RANDOM_MODEL_SHAPES).join(', ')})`);
  const parsed = writeRandomModel(dir, config, seed);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerFrom, f), join(dir, f));
  return parsed;
}
