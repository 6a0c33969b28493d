// A GGUF file as a model: the config rebuilt from `{arch}.*` metadata into a Hugging Face config.json
// (then checked by the same parser as any folder), and the tensors served under Hugging Face names with
// llama.cpp's q/k permutation undone. Q4_0/Q8_0 tensors are also served as MatMulNBits blocks, unchanged.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModelConfig, type ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import { checkWeights, type ModelFolder, type WeightSource } from '../model-folder.js';
import type { QuantizedWeight } from '../quant/quantized-weight.js';
import type { Dtype } from '../safetensors.js';
import { GgmlType, GgufValueType, KEY } from './gguf-format.js';
import { permutedHeads, permuteRows, hfName } from './gguf-names.js';
import { dequantize, matMulNBitsLayout, toMatMulNBits } from './gguf-quants.js';
import { GgufFile, type GgufTensorInfo, type GgufValue } from './gguf-reader.js';

/** GGUF architectures the engine runs, with the Hugging Face class each was converted from. */
const ARCHITECTURES: Readonly<Record<string, string>> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM' };

/** Keeps what `codefudge.*` metadata our exporter wrote (the FIM order the model was trained for). */
export const CODEFUDGE_FIM_MODE = 'codefudge.fim_mode';

/** True when `file` starts with the GGUF magic (so `--model x.gguf` and renamed files both work). */
export function isGgufFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(4);
      return fs.readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === 'GGUF';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

class MetadataReader {
  constructor(
    private readonly gguf: GgufFile,
    private readonly label: string,
  ) {}

  fail(problem: string): never {
    throw new UserError(`${this.label}: ${problem}`);
  }

  raw(key: string): GgufValue | undefined {
    return this.gguf.get(key);
  }

  number(key: string): number | undefined {
    const v = this.gguf.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'object' && Array.isArray(v.items)) {
      // Per-layer arrays (e.g. head_count_kv) are fine while every layer agrees.
      const first = v.items[0];
      if (typeof first !== 'number' || v.items.some((x) => x !== first))
        this.fail(`"${key}" differs between layers, which the engine does not support`);
      return first;
    }
    if (typeof v !== 'number') this.fail(`"${key}" must be a number, got ${String(v)}`);
    return this.gguf.metadata.get(key)?.type === GgufValueType.FLOAT32 ? shortestFloat32(v) : v;
  }

  required(key: string): number {
    const v = this.number(key);
    if (v === undefined) this.fail(`missing metadata "${key}"`);
    return v;
  }

  string(key: string): string | undefined {
    const v = this.gguf.get(key);
    if (v !== undefined && typeof v !== 'string') this.fail(`"${key}" must be a string`);
    return v;
  }
}

/**
 * The shortest decimal that rounds to the same float32 (1e-6, not 9.999999974752427e-7): config.json held
 * that decimal before the converter narrowed it, and the engine keys compiled graphs by the config.
 */
export function shortestFloat32(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

/** The Hugging Face config.json a GGUF model's metadata describes. */
export function ggufConfigJson(gguf: GgufFile, label = path.basename(gguf.path)): Record<string, unknown> {
  const m: MetadataReader = new MetadataReader(gguf, label);
  const type = m.string(KEY.type);
  if (type === 'adapter') m.fail('this GGUF is a LoRA adapter, not a model (pass it to llama.cpp with --lora)');
  const arch = m.string(KEY.architecture);
  if (arch === undefined) m.fail(`missing metadata "${KEY.architecture}"`);
  const hfArch = ARCHITECTURES[arch];
  if (!hfArch) m.fail(`architecture "${arch}" is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`);
  if (gguf.has('rope_freqs.weight')) m.fail('rope_freqs.weight (Llama 3.1 "llama3" rope scaling) is not supported yet');
  const a = (k: string) => `${arch}.${k}`;
  const hidden = m.required(a('embedding_length'));
  const heads = m.required(a('attention.head_count'));
  const embd = gguf.has('token_embd.weight') ? gguf.tensor('token_embd.weight') : m.fail('missing tensor token_embd.weight');
  const headDim = m.number(a('attention.key_length')) ?? hidden / heads;
  const valueDim = m.number(a('attention.value_length')) ?? headDim;
  if (valueDim !== headDim) m.fail(`attention key length ${headDim} and value length ${valueDim} differ`);
  const ropeDim = m.number(a('rope.dimension_count')) ?? headDim;
  if (ropeDim !== headDim) m.fail(`rope.dimension_count ${ropeDim} is not the head size ${headDim} (partial rotary is not supported)`);
  const json: Record<string, unknown> = {
    architectures: [hfArch],
    model_type: arch,
    vocab_size: embd.dims[1],
    hidden_size: hidden,
    intermediate_size: m.required(a('feed_forward_length')),
    num_hidden_layers: m.required(a('block_count')),
    num_attention_heads: heads,
    num_key_value_heads: m.number(a('attention.head_count_kv')) ?? heads,
    head_dim: headDim,
    rms_norm_eps: m.required(a('attention.layer_norm_rms_epsilon')),
    rope_theta: m.number(a('rope.freq_base')) ?? 10000,
    max_position_embeddings: m.number(a('context_length')) ?? 2048,
    tie_word_embeddings: !gguf.has('output.weight'),
    torch_dtype: 'float32',
  };
  if (arch === 'llama') {
    json.attention_bias = gguf.has('blk.0.attn_q.bias');
    json.mlp_bias = gguf.has('blk.0.ffn_gate.bias');
  }
  const scaling = ropeScaling(m, a);
  if (scaling) json.rope_scaling = scaling;
  const bos = m.number(KEY.bosId);
  const eos = m.number(KEY.eosId);
  if (bos !== undefined) json.bos_token_id = bos;
  if (eos !== undefined) json.eos_token_id = eos;
  const fimMode = m.string(CODEFUDGE_FIM_MODE);
  if (fimMode) json.codefudge = { fim_mode: fimMode };
  return json;
}

function ropeScaling(m: MetadataReader, a: (k: string) => string): Record<string, unknown> | undefined {
  const type = m.string(a('rope.scaling.type'));
  const factor = m.number(a('rope.scaling.factor')) ?? m.number(a('rope.scale_linear'));
  if (type === undefined || type === 'none') {
    return type === undefined && factor !== undefined && factor !== 1 ? { type: 'linear', factor } : undefined;
  }
  if (factor === undefined) m.fail(`rope scaling "${type}" without ${a('rope.scaling.factor')}`);
  if (type === 'linear') return { type, factor };
  if (type === 'yarn') {
    const out: Record<string, unknown> = { type, factor };
    const orig = m.number(a('rope.scaling.original_context_length'));
    if (orig !== undefined) out.original_max_position_embeddings = orig;
    const attn = m.number(a('rope.scaling.yarn_attn_factor'));
    if (attn !== undefined) out.attention_factor = attn;
    const fast = m.number(a('rope.scaling.yarn_beta_fast'));
    if (fast !== undefined) out.beta_fast = fast;
    const slow = m.number(a('rope.scaling.yarn_beta_slow'));
    if (slow !== undefined) out.beta_slow = slow;
    return out;
  }
  return m.fail(`rope scaling type "${type}" is not supported (none, linear, yarn are)`);
}

/** A GGUF model's tensors by Hugging Face name. */
export class GgufWeights implements WeightSource {
  private readonly byHf = new Map<string, GgufTensorInfo>();

  constructor(
    readonly gguf: GgufFile,
    readonly config: ModelConfig,
  ) {
    for (const t of gguf.tensors()) {
      const hf = hfName(t.name);
      if (hf) this.byHf.set(hf, t);
    }
  }

  get files(): string[] {
    return [this.gguf.path];
  }

  names(): string[] {
    return [...this.byHf.keys()].sort();
  }

  has(name: string): boolean {
    return this.byHf.has(name);
  }

  shape(name: string): number[] {
    return [...this.info(name).dims].reverse();
  }

  /** F16/BF16 as stored; everything else reads as exact float32 (quantized blocks also through quantized()). */
  dtype(name: string): Dtype {
    const { type } = this.info(name);
    return type === GgmlType.F16 ? 'F16' : type === GgmlType.BF16 ? 'BF16' : 'F32';
  }

  /** The ggml type the tensor is stored as (GgmlType.Q4_0, ...). */
  ggmlType(name: string): GgmlType {
    return this.info(name).type;
  }

  float32(name: string): Float32Array {
    const t = this.info(name);
    const count = t.dims.reduce((x, y) => x * y, 1);
    return dequantize(t.type, this.hfOrderBytes(name, t), count, `tensor "${t.name}" of ${path.basename(this.gguf.path)}`);
  }

  quantized(name: string): QuantizedWeight | undefined {
    const t = this.info(name);
    if (!this.quantizedLayout(name)) return undefined;
    return toMatMulNBits(t.type, this.hfOrderBytes(name, t), t.dims[1], t.dims[0]);
  }

  quantizedLayout(name: string): { bits: 4 | 8; blockSize: number } | undefined {
    const t = this.info(name);
    return t.dims.length === 2 ? matMulNBitsLayout(t.type, t.dims[0]) : undefined;
  }

  /** The tensor's bytes exactly as stored (GGUF row order, q/k still permuted for llama). */
  storedBytes(name: string): Buffer {
    return this.gguf.bytes(this.info(name).name);
  }

  fingerprint(): string {
    const st = fs.statSync(this.gguf.path);
    return createHash('sha256')
      .update(`${path.resolve(this.gguf.path)}\0${st.size}\0${st.mtimeMs}\n`)
      .digest('hex')
      .slice(0, 16);
  }

  close(): void {
    this.gguf.close();
  }

  /** The stored bytes with rows in Hugging Face order (llama q/k un-permuted). */
  private hfOrderBytes(name: string, t: GgufTensorInfo): Buffer {
    const raw = this.gguf.bytes(t.name);
    const heads =
      this.config.architecture === 'LlamaForCausalLM' ? permutedHeads(name, this.config.numHeads, this.config.numKvHeads) : undefined;
    if (heads === undefined) return raw;
    const rows = t.dims.length === 1 ? t.dims[0] : t.dims[1];
    const out = permuteRows(raw, rows, raw.length / rows, heads, false);
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  }

  private info(name: string): GgufTensorInfo {
    const t = this.byHf.get(name);
    if (!t) throw new UserError(`${path.basename(this.gguf.path)} has no tensor for "${name}"`);
    return t;
  }
}

/** Opens a GGUF model file as a model folder (dir is the file's path). */
export function openGgufModel(file: string): ModelFolder {
  const gguf = GgufFile.open(file);
  try {
    const label = path.basename(file);
    const config = parseModelConfig(ggufConfigJson(gguf, label), label);
    const weights = new GgufWeights(gguf, config);
    checkWeights(config, weights);
    return { dir: file, config, weights };
  } catch (e) {
    gguf.close();
    throw e;
  }
}
