// Tiny random Hugging Face model folders for tests: config.json, safetensors (one file or shards
// with an index), tokenizer.json and tokenizer_config.json, all deterministic from a seed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  bf16ToF32,
  expectedTensors,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  parseModelConfig,
  writeSafetensors,
  type Architecture,
  type ModelConfig,
  type TensorToWrite,
} from '../../engine/index.js';
import { mulberry32 } from '../../common/index.js';
import { makeTinyTokenizer } from './tiny-tokenizer.js';

export interface TinyModelOptions {
  architecture?: Architecture;
  vocabSize?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  /** Written as config head_dim; by default hidden / heads. */
  headDim?: number;
  /** Llama: attention_bias (q/k/v and o bias). Qwen2 always has q/k/v bias; Mistral never. */
  qkvBias?: boolean;
  /** Llama: mlp_bias. */
  mlpBias?: boolean;
  tied?: boolean;
  dtype?: 'F32' | 'F16' | 'BF16';
  seed?: number;
  ropeTheta?: number;
  /** Written as config rope_scaling, verbatim (Hugging Face field names). */
  ropeScaling?: Record<string, unknown> | null;
  maxPositionEmbeddings?: number;
  rmsNormEps?: number;
  /** Number of safetensors shards; above 1 also writes model.safetensors.index.json. */
  shards?: number;
}

export interface TinyModel {
  config: ModelConfig;
  /** The weights exactly as stored (after F16/BF16 rounding), by Hugging Face name. */
  tensors: Map<string, Float32Array>;
}

export { mulberry32 };

const MODEL_TYPE: Record<Architecture, string> = {
  LlamaForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  MistralForCausalLM: 'mistral',
};
const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

function configJson(o: TinyModelOptions): Record<string, unknown> {
  const architecture = o.architecture ?? 'LlamaForCausalLM';
  if (architecture === 'MistralForCausalLM' && o.qkvBias) throw new Error('Mistral has no attention bias');
  const heads = o.heads ?? 4;
  const hidden = o.hidden ?? 32;
  return {
    architectures: [architecture],
    model_type: MODEL_TYPE[architecture],
    vocab_size: o.vocabSize ?? 320,
    hidden_size: hidden,
    intermediate_size: o.ffn ?? 2 * hidden,
    num_hidden_layers: o.layers ?? 2,
    num_attention_heads: heads,
    num_key_value_heads: o.kvHeads ?? heads,
    ...(o.headDim !== undefined ? { head_dim: o.headDim } : {}),
    rms_norm_eps: o.rmsNormEps ?? 1e-6,
    rope_theta: o.ropeTheta ?? 10000,
    rope_scaling: o.ropeScaling ?? null,
    max_position_embeddings: o.maxPositionEmbeddings ?? 512,
    tie_word_embeddings: o.tied ?? false,
    ...(architecture === 'LlamaForCausalLM' ? { attention_bias: o.qkvBias ?? false, mlp_bias: o.mlpBias ?? false } : {}),
    ...(architecture === 'Qwen2ForCausalLM' ? { use_sliding_window: false } : {}),
    bos_token_id: 0,
    eos_token_id: 0,
    torch_dtype: TORCH_DTYPE[o.dtype ?? 'F32'],
  };
}

function randomTensor(name: string, shape: number[], rand: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const uniform = (center: number, halfWidth: number) => {
    for (let i = 0; i < n; i++) out[i] = center + (2 * rand() - 1) * halfWidth;
  };
  if (name.endsWith('norm.weight')) uniform(1, 0.2);
  else if (name.endsWith('.bias')) uniform(0, 0.1);
  else if (name === 'model.embed_tokens.weight') uniform(0, 1);
  else uniform(0, Math.sqrt(3 / shape[1])); // unit-variance outputs for unit-variance inputs
  return out;
}

/** The values a float32 array holds once stored as `dtype`. */
function roundTo(dtype: 'F32' | 'F16' | 'BF16', data: Float32Array): Float32Array {
  if (dtype === 'F16') return f16ToF32(f32ToF16(data));
  if (dtype === 'BF16') return bf16ToF32(f32ToBf16(data));
  return data;
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function makeTinyModel(dir: string, options: TinyModelOptions = {}): TinyModel {
  fs.mkdirSync(dir, { recursive: true });
  const json = configJson(options);
  const config = parseModelConfig(json);
  const dtype = options.dtype ?? 'F32';
  const rand = mulberry32(options.seed ?? 1);
  const tensors = new Map<string, Float32Array>();
  const toWrite: TensorToWrite[] = expectedTensors(config).map(({ name, shape }) => {
    const values = roundTo(dtype, randomTensor(name, shape, rand));
    tensors.set(name, values);
    return { name, dtype, shape, data: values };
  });

  const shards = options.shards ?? 1;
  if (shards <= 1) {
    writeSafetensors(path.join(dir, 'model.safetensors'), toWrite, { format: 'pt' });
  } else {
    const perShard = Math.ceil(toWrite.length / shards);
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = toWrite.slice(s * perShard, (s + 1) * perShard);
      writeSafetensors(path.join(dir, file), part, { format: 'pt' });
      for (const t of part) {
        weightMap[t.name] = file;
        totalSize += tensors.get(t.name)!.length * (dtype === 'F32' ? 4 : 2);
      }
    }
    writeJson(path.join(dir, 'model.safetensors.index.json'), { metadata: { total_size: totalSize }, weight_map: weightMap });
  }

  const tokenizer = makeTinyTokenizer(config.vocabSize);
  writeJson(path.join(dir, 'config.json'), json);
  writeJson(path.join(dir, 'tokenizer.json'), tokenizer.tokenizerJson);
  writeJson(path.join(dir, 'tokenizer_config.json'), tokenizer.tokenizerConfig);
  return { config, tensors };
}
