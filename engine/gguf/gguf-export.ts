// A model folder → a GGUF file llama.cpp (and Ollama, LM Studio) loads, and a PEFT adapter → llama.cpp's
// LoRA GGUF. Follows what llama.cpp's convert_hf_to_gguf.py and convert_lora_to_gguf.py write: the same
// metadata keys, tensor names, the llama q/k row permutation, token list padded to the vocab size.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import { f32ToF16 } from '../float-convert.js';
import { moduleRankAndScale, targetsModule } from '../lora/lora-spec.js';
import { parsePeftKey } from '../lora/lora-layout.js';
import { adapterFloat32, type LoraAdapter } from '../lora/peft.js';
import type { ModelFolder } from '../model-folder.js';
import { expectedTensors } from '../weight-layout.js';
import { FILE_TYPE, GGUF_DEFAULT_ALIGNMENT, GgmlType, KEY } from './gguf-format.js';
import { CODEFUDGE_FIM_MODE, GgufWeights } from './gguf-model.js';
import { ggufName, permutedHeads, permuteRows } from './gguf-names.js';
import { QK, quantizeQ4_0, quantizeQ8_0 } from './gguf-quants.js';
import { placeholderTokenizer, writeTokenizerMetadata } from './gguf-tokenizer.js';
import { GgufMetadata, writeGguf, type GgufTensorToWrite } from './gguf-writer.js';

export type GgufQuant = 'f32' | 'f16' | 'q8_0' | 'q4_0';
export const GGUF_QUANTS: readonly GgufQuant[] = ['f32', 'f16', 'q8_0', 'q4_0'];

export interface GgufExportResult {
  file: string;
  tensors: number;
  bytes: number;
  /** The tokenizer.ggml.pre written, and whether llama.cpp splits text exactly like the tokenizer.json. */
  pre: string;
  preExact: boolean;
  /** The folder had no tokenizer.json: the GGUF carries a placeholder byte-level vocabulary. */
  placeholderTokenizer: boolean;
}

function ggufArch(config: ModelConfig): 'llama' | 'qwen2' {
  // Mistral converts to llama.cpp's `llama` architecture, as convert_hf_to_gguf.py does.
  return config.architecture === 'Qwen2ForCausalLM' ? 'qwen2' : 'llama';
}

/** The `{arch}.*` hyperparameters, as convert_hf_to_gguf.py's set_gguf_parameters writes them. */
function modelMetadata(meta: GgufMetadata, config: ModelConfig, name: string): void {
  const arch = ggufArch(config);
  const a = (k: string) => `${arch}.${k}`;
  meta.string(KEY.architecture, arch).string(KEY.type, 'model').string(KEY.name, name);
  meta
    .u32(a('block_count'), config.numLayers)
    .u32(a('context_length'), config.maxPositionEmbeddings)
    .u32(a('embedding_length'), config.hiddenSize)
    .u32(a('feed_forward_length'), config.intermediateSize)
    .u32(a('attention.head_count'), config.numHeads)
    .u32(a('attention.head_count_kv'), config.numKvHeads)
    .f32(a('rope.freq_base'), config.ropeTheta)
    .f32(a('attention.layer_norm_rms_epsilon'), config.rmsNormEps);
  if (config.headDim !== config.hiddenSize / config.numHeads) {
    meta.u32(a('attention.key_length'), config.headDim).u32(a('attention.value_length'), config.headDim);
  }
  if (arch === 'llama') meta.u32(a('vocab_size'), config.vocabSize).u32(a('rope.dimension_count'), config.headDim);
  const s = config.ropeScaling;
  if (s?.type === 'linear') meta.string(a('rope.scaling.type'), 'linear').f32(a('rope.scaling.factor'), s.factor);
  else if (s?.type === 'yarn') {
    meta
      .string(a('rope.scaling.type'), 'yarn')
      .f32(a('rope.scaling.factor'), s.factor)
      .u32(a('rope.scaling.original_context_length'), s.originalMaxPositionEmbeddings)
      .f32(a('rope.scaling.yarn_attn_factor'), s.attentionFactor)
      .f32(a('rope.scaling.yarn_beta_fast'), s.betaFast)
      .f32(a('rope.scaling.yarn_beta_slow'), s.betaSlow);
  } else if (s) throw new UserError(`rope scaling "${s.type}" has no GGUF equivalent this exporter writes (linear and yarn do)`);
  if (config.slidingWindow !== null && config.slidingWindow < config.maxPositionEmbeddings) {
    throw new UserError(
      `the model attends within a sliding window of ${config.slidingWindow} tokens, which llama.cpp's ${arch} architecture does not do`,
    );
  }
}

/** The ggml type a tensor is written as: vectors stay F32 (as llama.cpp keeps norms and biases). */
function tensorType(shape: readonly number[], quant: GgufQuant): GgmlType {
  if (shape.length < 2 || quant === 'f32') return GgmlType.F32;
  if (quant === 'f16') return GgmlType.F16;
  // A row that is not whole blocks falls back to F16, as llama.cpp's converter does.
  if (shape[shape.length - 1] % QK !== 0) return GgmlType.F16;
  return quant === 'q8_0' ? GgmlType.Q8_0 : GgmlType.Q4_0;
}

function encode(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case GgmlType.F16: {
      const h = f32ToF16(values);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.Q4_0:
      return quantizeQ4_0(values);
    default:
      throw new Error(`cannot encode ${GgmlType[type]}`);
  }
}

function readJsonIfAny(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Writes `folder` (safetensors or GGUF) as a GGUF model at `out`, atomically. */
export function exportModelGguf(
  folder: ModelFolder,
  tokenizer: { json: Record<string, unknown>; config: Record<string, unknown>; placeholder?: boolean },
  out: string,
  quant: GgufQuant = 'f16',
): GgufExportResult {
  const { config, weights } = folder;
  const meta = new GgufMetadata();
  modelMetadata(meta, config, path.basename(folder.dir).replace(/\.gguf$/, ''));
  meta.u32(KEY.fileType, FILE_TYPE[quant]).u32(KEY.quantizationVersion, 2).u32(KEY.alignment, GGUF_DEFAULT_ALIGNMENT);
  const tokConfig = { ...tokenizer.config };
  const vocabJson = tokenizer.json.model as { vocab?: Record<string, number> } | undefined;
  const tokenOf = (id: number | null | undefined) => {
    if (id === null || id === undefined) return undefined;
    const added = (tokenizer.json.added_tokens as { id: number; content: string }[] | undefined)?.find((t) => t.id === id)?.content;
    return added ?? Object.entries(vocabJson?.vocab ?? {}).find(([, v]) => v === id)?.[0];
  };
  // config.json's ids are what the model was trained to emit; tokenizer_config.json may omit them.
  tokConfig.bos_token ??= tokenOf(config.bosTokenId);
  tokConfig.eos_token ??= tokenOf(config.eosTokenIds[0]);
  const { pre, exact } = writeTokenizerMetadata(meta, tokenizer.json, tokConfig, config.vocabSize);
  const fimMode = (config.raw.codefudge as { fim_mode?: unknown } | undefined)?.fim_mode;
  if (typeof fimMode === 'string') meta.string(CODEFUDGE_FIM_MODE, fimMode);
  const arch = ggufArch(config);
  const tensors: GgufTensorToWrite[] = expectedTensors(config).map(({ name, shape }) => {
    const gname = ggufName(name);
    if (!gname) throw new Error(`no GGUF name for ${name}`);
    const type = tensorType(shape, quant);
    return {
      name: gname,
      dims: [...shape].reverse(),
      type,
      bytes: () => {
        // A GGUF source already holding this type: copy its blocks (requantizing Q4_0 values is not lossless).
        if (weights instanceof GgufWeights && weights.ggmlType(name) === type) return weights.storedBytes(name);
        let values: Float32Array = weights.float32(name);
        const heads = arch === 'llama' ? permutedHeads(name, config.numHeads, config.numKvHeads) : undefined;
        if (heads !== undefined) {
          const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
          const p = permuteRows(raw, shape[0], raw.length / shape[0], heads, true);
          values = new Float32Array(p.buffer, p.byteOffset, p.length / 4);
        }
        return encode(type, values);
      },
    };
  });
  writeGguf(out, meta, tensors);
  return {
    file: out,
    tensors: tensors.length,
    bytes: fs.statSync(out).size,
    pre,
    preExact: exact,
    placeholderTokenizer: tokenizer.placeholder === true,
  };
}

/**
 * The tokenizer files of a model folder (or, for a GGUF model, those its metadata describes); a folder
 * without tokenizer.json (a random benchmark model) gets a placeholder byte-level vocabulary, flagged.
 */
export function tokenizerFilesOf(
  dir: string,
  vocabSize: number,
  fromGguf: (file: string) => { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> },
): { json: Record<string, unknown>; config: Record<string, unknown>; placeholder?: boolean } {
  if (fs.statSync(dir).isFile()) {
    const t = fromGguf(dir);
    return { json: t.tokenizerJson, config: t.tokenizerConfig };
  }
  const tokPath = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(tokPath)) return { ...placeholderTokenizer(vocabSize), placeholder: true };
  return { json: readJsonIfAny(tokPath), config: readJsonIfAny(path.join(dir, 'tokenizer_config.json')) };
}

/**
 * Writes a PEFT adapter as llama.cpp's LoRA GGUF (convert_lora_to_gguf.py's layout): general.type
 * "adapter", adapter.type "lora", adapter.lora.alpha, and per module `blk.N.<tensor>.weight.lora_a`
 * (ggml dims [in, r]) and `.lora_b` ([r, out]), B's rows permuted like the base weight's for llama q/k.
 * llama.cpp scales each pair by alpha / r (r from the tensor); a module whose PEFT scale differs (rsLoRA,
 * rank or alpha patterns) has the ratio folded into B, so the product is the same.
 */
export function exportAdapterGguf(adapter: LoraAdapter, config: ModelConfig, out: string): { file: string; modules: number } {
  const arch = ggufArch(config);
  const alpha = adapter.spec.alpha;
  const meta = new GgufMetadata();
  meta.string(KEY.architecture, arch).string(KEY.type, 'adapter').string(KEY.adapterType, 'lora').f32(KEY.loraAlpha, alpha);
  meta.u32(KEY.alignment, GGUF_DEFAULT_ALIGNMENT);
  const modules = new Map<string, { A?: string; B?: string }>();
  for (const key of adapter.tensors.keys()) {
    const p = parsePeftKey(key);
    if (!p) throw new UserError(`adapter tensor "${key}" is not a LoRA matrix`);
    if (!targetsModule(adapter.spec, p.module)) continue; // PEFT applies no LoRA there: neither does llama.cpp
    const m = modules.get(p.module) ?? {};
    m[p.which] = key;
    modules.set(p.module, m);
  }
  const tensors: GgufTensorToWrite[] = [];
  for (const [module, { A, B }] of modules) {
    if (!A || !B) throw new UserError(`adapter module "${module}" has lora_${A ? 'A' : 'B'} but not lora_${A ? 'B' : 'A'}`);
    const gname = ggufName(`${module}.weight`);
    if (!gname || !gname.startsWith('blk.'))
      throw new UserError(`adapter module "${module}" has no llama.cpp LoRA equivalent (only layer projections do)`);
    const a = adapter.tensors.get(A)!;
    const b = adapter.tensors.get(B)!;
    const [r, inDim] = a.shape;
    const [outDim, rb] = b.shape;
    if (a.shape.length !== 2 || b.shape.length !== 2 || rb !== r)
      throw new UserError(`adapter module "${module}": lora_A [${a.shape}] and lora_B [${b.shape}] do not fit together`);
    const ours = moduleRankAndScale(adapter.spec, module).scale;
    const theirs = alpha / r;
    tensors.push({
      name: `${gname}.lora_a`,
      dims: [inDim, r],
      type: GgmlType.F32,
      bytes: () => encode(GgmlType.F32, Float32Array.from(adapterFloat32(a))),
    });
    tensors.push({
      name: `${gname}.lora_b`,
      dims: [r, outDim],
      type: GgmlType.F32,
      bytes: () => {
        let values: Float32Array = Float32Array.from(adapterFloat32(b));
        if (ours !== theirs) for (let i = 0; i < values.length; i++) values[i] *= ours / theirs;
        const heads = arch === 'llama' ? permutedHeads(`${module}.weight`, config.numHeads, config.numKvHeads) : undefined;
        if (heads !== undefined) {
          const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
          const p = permuteRows(raw, outDim, raw.length / outDim, heads, true);
          values = new Float32Array(p.buffer, p.byteOffset, p.length / 4);
        }
        return encode(GgmlType.F32, values);
      },
    });
  }
  if (tensors.length === 0) throw new UserError('the adapter has no LoRA matrices');
  writeGguf(out, meta, tensors);
  return { file: out, modules: modules.size };
}
