// A Hugging Face config.json, checked and normalized into the fields the engine needs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../common/index.js';

export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

const MODEL_TYPE_ARCHITECTURE: Readonly<Record<string, Architecture>> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
};

/** rope_scaling with every default resolved the way Hugging Face resolves it. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  /** Dynamic NTK: identical to no scaling up to `originalMaxPositionEmbeddings`, then the base grows with the length. */
  | { type: 'dynamic'; factor: number; originalMaxPositionEmbeddings: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | {
      type: 'yarn';
      factor: number;
      originalMaxPositionEmbeddings: number;
      /** Multiplies cos and sin (the "mscale" of the YaRN paper). */
      attentionFactor: number;
      betaFast: number;
      betaSlow: number;
      truncate: boolean;
    };

export interface ModelConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  /** Attention window (Mistral); null when attention is fully causal. */
  slidingWindow: number | null;
  tieWordEmbeddings: boolean;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  torchDtype: string | null;
  raw: Record<string, unknown>;
}

type Json = Record<string, unknown>;

class FieldReader {
  constructor(
    private readonly json: Json,
    private readonly label: string,
  ) {}

  fail(problem: string): never {
    throw new UserError(`${this.label}: ${problem}`);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  positiveInt(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (v === undefined) this.fail(`missing field "${key}"`);
    if (!Number.isSafeInteger(v) || (v as number) <= 0) this.fail(`field "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  }

  positiveNumber(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (v === undefined) this.fail(`missing field "${key}"`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      this.fail(`field "${key}" must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(`field "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  tokenIds(key: string): number[] {
    const v = this.json[key];
    if (v === undefined || v === null) return [];
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0))
      this.fail(`field "${key}" must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return ids as number[];
  }
}

function architectureOf(json: Json, fields: FieldReader): Architecture {
  const listed = json.architectures;
  let name: unknown;
  if (Array.isArray(listed) && listed.length > 0) name = listed[0];
  else if (typeof json.model_type === 'string') name = MODEL_TYPE_ARCHITECTURE[json.model_type] ?? `model_type ${json.model_type}`;
  else fields.fail('missing field "architectures"');
  if (!(SUPPORTED_ARCHITECTURES as readonly unknown[]).includes(name)) {
    fields.fail(`architecture ${JSON.stringify(name)} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  return name as Architecture;
}

function parseRopeScaling(value: unknown, maxPositionEmbeddings: number, label: string): RopeScaling | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new UserError(`${label}: field "rope_scaling" must be an object`);
  const json = value as Json;
  const f: FieldReader = new FieldReader(json, `${label} rope_scaling`);
  const type = json.rope_type ?? json.type;
  const originalMax = () => f.positiveInt('original_max_position_embeddings', maxPositionEmbeddings);
  switch (type) {
    case 'default':
      return null;
    case 'linear':
      return { type, factor: f.positiveNumber('factor') };
    case 'dynamic':
      return { type, factor: f.positiveNumber('factor'), originalMaxPositionEmbeddings: originalMax() };
    case 'llama3':
      return {
        type,
        factor: f.positiveNumber('factor'),
        lowFreqFactor: f.positiveNumber('low_freq_factor'),
        highFreqFactor: f.positiveNumber('high_freq_factor'),
        originalMaxPositionEmbeddings: f.positiveInt('original_max_position_embeddings'),
      };
    case 'yarn': {
      const factor = f.positiveNumber('factor');
      return {
        type,
        factor,
        originalMaxPositionEmbeddings: originalMax(),
        attentionFactor: f.has('attention_factor') ? f.positiveNumber('attention_factor') : yarnDefaultAttentionFactor(json, factor),
        betaFast: f.positiveNumber('beta_fast', 32),
        betaSlow: f.positiveNumber('beta_slow', 1),
        truncate: f.bool('truncate', true),
      };
    }
    default:
      throw new UserError(
        `${label}: rope_scaling type ${JSON.stringify(type)} is not supported (supported: default, linear, dynamic, llama3, yarn)`,
      );
  }
}

function yarnDefaultAttentionFactor(json: Json, factor: number): number {
  const mscale = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  const { mscale: m, mscale_all_dim: mAll } = json;
  if (typeof m === 'number' && m && typeof mAll === 'number' && mAll) return mscale(factor, m) / mscale(factor, mAll);
  return mscale(factor);
}

/** Newer configs put rope_theta and the scaling in one `rope_parameters` object; older ones use two fields. */
function ropeFields(json: Json): { theta: unknown; scaling: unknown } {
  const params = json.rope_parameters;
  if (params && typeof params === 'object' && !Array.isArray(params)) {
    const p = params as Json;
    return { theta: p.rope_theta ?? json.rope_theta, scaling: p };
  }
  return { theta: json.rope_theta, scaling: json.rope_scaling };
}

/** Parses the JSON of a config.json; `label` names the file in errors. */
export function parseModelConfig(value: unknown, label = 'config.json'): ModelConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${label}: not a JSON object`);
  const json = value as Json;
  const f: FieldReader = new FieldReader(json, label);
  const architecture = architectureOf(json, f);
  const hiddenSize = f.positiveInt('hidden_size');
  const numHeads = f.positiveInt('num_attention_heads');
  const numKvHeads = f.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) f.fail(`num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads})`);
  if (!f.has('head_dim') && hiddenSize % numHeads !== 0)
    f.fail(`hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads})`);
  const headDim = f.positiveInt('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) f.fail(`head dimension ${headDim} must be even for rotary embeddings`);
  const maxPositionEmbeddings = f.positiveInt('max_position_embeddings', 2048);
  if (maxPositionEmbeddings < 2)
    f.fail(`field "max_position_embeddings" is ${maxPositionEmbeddings}; a model needs at least 2 positions (a token and the next)`);
  const rope = ropeFields(json);
  const ropeTheta = rope.theta ?? 10000;
  if (typeof ropeTheta !== 'number' || !(ropeTheta > 0))
    f.fail(`field "rope_theta" must be a positive number, got ${JSON.stringify(ropeTheta)}`);
  const llamaBias = architecture === 'LlamaForCausalLM' && f.bool('attention_bias', false);
  const windowed = architecture === 'MistralForCausalLM' || (architecture === 'Qwen2ForCausalLM' && f.bool('use_sliding_window', false));
  const slidingWindow = windowed && f.has('sliding_window') ? f.positiveInt('sliding_window') : null;
  const dtype = json.torch_dtype ?? json.dtype;
  return {
    architecture,
    vocabSize: f.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: f.positiveInt('intermediate_size'),
    numLayers: f.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: f.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling: parseRopeScaling(rope.scaling, maxPositionEmbeddings, label),
    maxPositionEmbeddings,
    slidingWindow,
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    qkvBias: architecture === 'Qwen2ForCausalLM' || llamaBias,
    oBias: llamaBias,
    mlpBias: architecture === 'LlamaForCausalLM' && f.bool('mlp_bias', false),
    bosTokenId: f.tokenIds('bos_token_id')[0] ?? null,
    eosTokenIds: f.tokenIds('eos_token_id'),
    torchDtype: typeof dtype === 'string' ? dtype : null,
    raw: json,
  };
}

function readJsonFile(file: string, label: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${label}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${label} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads `dir/config.json`; generation_config.json, when present, adds its end-of-sequence ids. */
export function readModelConfig(dir: string): ModelConfig {
  const configPath = path.join(dir, 'config.json');
  if (!fs.existsSync(configPath)) throw new UserError(`model folder "${dir}" has no config.json`);
  const config = parseModelConfig(readJsonFile(configPath, configPath), configPath);
  const generationPath = path.join(dir, 'generation_config.json');
  if (fs.existsSync(generationPath)) {
    const generation = readJsonFile(generationPath, generationPath);
    if (typeof generation === 'object' && generation !== null && !Array.isArray(generation)) {
      const extra = new FieldReader(generation as Json, generationPath).tokenIds('eos_token_id');
      config.eosTokenIds = [...new Set([...config.eosTokenIds, ...extra])];
    }
  }
  return config;
}

/** A stable hash of the fields that shape a compiled graph (the key of the graph cache). */
export function configKey(config: ModelConfig): string {
  const shaping = {
    architecture: config.architecture,
    vocabSize: config.vocabSize,
    hiddenSize: config.hiddenSize,
    intermediateSize: config.intermediateSize,
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    rmsNormEps: config.rmsNormEps,
    ropeTheta: config.ropeTheta,
    ropeScaling: config.ropeScaling,
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    slidingWindow: config.slidingWindow,
    tieWordEmbeddings: config.tieWordEmbeddings,
    qkvBias: config.qkvBias,
    oBias: config.oBias,
    mlpBias: config.mlpBias,
  };
  return createHash('sha256').update(canonicalJson(shaping)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Json)[k])}`).join(',')}}`;
}
