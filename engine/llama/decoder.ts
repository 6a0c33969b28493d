import type { ModelConfig } from '../config.js';
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';
import { ropeTables } from './rope.js';
import { dequantizeValues, gatherQuantizedRows, matMulNBits, type QuantizedValues } from '../quant/dequantize-graph.js';

/** Where the decoder's weights come from: initializers for inference, graph inputs when they are trained. */
export interface ModelParams {
  /** The Hugging Face tensor `name`, in its stored layout (linear weights are [out, in]). */
  get(name: string, shape: number[]): Value;
  /** The weight as quantized initializers when the model runs quantized and this weight is; else undefined (use `get`). */
  quantized?(name: string, shape: number[]): QuantizedValues | undefined;
}

/**
 * Called after each linear projection with its input [N, in] and output [N, out];
 * returns the output to use instead. LoRA is injected through this.
 */
export type LinearHook = (b: Builder, x: Value, module: string, y: Value) => Value;

export interface DecoderOptions {
  /** Take `past_key_values.N.*` inputs and return `present.N.*` outputs. */
  kvCache: boolean;
  linearHook?: LinearHook;
}

export interface DecoderGraph {
  inputIds: Value;
  attentionMask: Value;
  positionIds: Value;
  /** Final normed hidden states, flattened to [B*S, hidden]. */
  hidden: Value;
  /** [B, S] as a run-time int64 vector, for reshaping [B*S, ...] results back. */
  batchSeq: Value;
  presents: { key: Value; value: Value }[];
  /** Per layer: the residual stream entering it and leaving it, [B*S, hidden]. */
  layers: { input: Value; output: Value }[];
  /**
   * Emits layer `layer` again from `x` (no KV cache), sharing this graph's rotary tables and mask:
   * activation checkpointing recomputes a layer's forward pass with it in the backward pass.
   */
  rebuildLayer(layer: number, x: Value): Value;
}

const MASKED = -1e9;

/** The per-graph context every layer shares: sizes, rotary tables and the additive attention mask. */
interface Shared {
  b: Builder;
  cfg: ModelConfig;
  params: ModelParams;
  hook?: LinearHook;
  cos: Value;
  sin: Value;
  mask: Value;
  /** [B, S, heads, headDim] and [B, S, kvHeads, headDim] as run-time shapes. */
  qShape: Value;
  kvShape: Value;
}

/**
 * x [N, in] @ Wᵀ for the stored [out, in] weight `name`: one Gemm over a float weight, or
 * MatMulNBits over a quantized one. MatMulNBits has no float64 kernel, so float64 graphs (the
 * gradient checks) dequantize in the graph and use a Gemm: the same dequantized weight either way.
 */
export function project(b: Builder, params: ModelParams, x: Value, name: string, shape: [number, number]): Value {
  const q = params.quantized?.(name, shape);
  if (!q) return b.gemm(x, params.get(name, shape), { transB: true });
  return b.floatType === 'float32' ? matMulNBits(b, x, q) : b.gemm(x, dequantizeValues(b, q), { transB: true });
}

function linear(s: Shared, x: Value, module: string, out: number, inDim: number, bias: boolean): Value {
  const { b, params } = s;
  let y = project(b, params, x, `${module}.weight`, [out, inDim]);
  if (bias) y = b.add(y, params.get(`${module}.bias`, [out]));
  return s.hook ? s.hook(b, x, module, y) : y;
}

function rmsNorm(s: Shared, x: Value, name: string): Value {
  const { b, cfg } = s;
  const variance = b.mean(b.mul(x, x), [-1]);
  const inv = b.reciprocal(b.sqrt(b.add(variance, b.scalar(cfg.rmsNormEps))));
  return b.mul(b.mul(x, inv), s.params.get(name, [cfg.hiddenSize]));
}

/** x * cos + rotate_half(x) * sin, on [B, heads, S, headDim]. */
function rotate(s: Shared, x: Value): Value {
  const { b } = s;
  const half = s.cfg.headDim / 2;
  const [x1, x2] = b.split(x, -1, [half, half]);
  const rotated = b.concat([b.neg(x2), x1], -1);
  return b.add(b.mul(x, s.cos), b.mul(rotated, s.sin));
}

/** [N, heads*headDim] -> [B, heads, S, headDim] */
function toHeads(s: Shared, x: Value, heads: number, shape: Value): Value {
  const { b, cfg } = s;
  const x4 = b.reshapeTo(x, shape, [b.sym('B'), b.sym('S'), heads, cfg.headDim]);
  return b.transpose(x4, [0, 2, 1, 3]);
}

function attention(s: Shared, x: Value, layer: number, past?: { key: Value; value: Value }) {
  const { b, cfg } = s;
  const p = `model.layers.${layer}.self_attn`;
  const H = cfg.hiddenSize;
  const d = cfg.headDim;
  const kvDim = cfg.numKvHeads * d;
  const q = rotate(s, toHeads(s, linear(s, x, `${p}.q_proj`, cfg.numHeads * d, H, cfg.qkvBias), cfg.numHeads, s.qShape));
  let k = rotate(s, toHeads(s, linear(s, x, `${p}.k_proj`, kvDim, H, cfg.qkvBias), cfg.numKvHeads, s.kvShape));
  let v = toHeads(s, linear(s, x, `${p}.v_proj`, kvDim, H, cfg.qkvBias), cfg.numKvHeads, s.kvShape);
  if (past) {
    k = b.concat([past.key, k], 2);
    v = b.concat([past.value, v], 2);
  }
  // Grouped-query attention without copying K/V per head: the `group` query heads that share a
  // KV head are stacked along the query axis, [B, kv, group*S, d], and attend to that head once.
  const qg = b.reshape(b.mul(q, b.scalar(1 / Math.sqrt(d))), [0, cfg.numKvHeads, -1, d]);
  const scores = b.add(b.matmul(qg, b.transpose(k, [0, 1, 3, 2])), s.mask);
  const ctx = b.matmul(b.softmax(scores, -1), v);
  const merged = b.transpose(b.reshape(ctx, [0, cfg.numHeads, -1, d]), [0, 2, 1, 3]);
  const flat = b.reshape(merged, [-1, cfg.numHeads * d]);
  const out = linear(s, flat, `${p}.o_proj`, H, cfg.numHeads * d, cfg.oBias);
  return { out, present: { key: k, value: v } };
}

function mlp(s: Shared, x: Value, layer: number): Value {
  const { b, cfg } = s;
  const p = `model.layers.${layer}.mlp`;
  const H = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  const gate = linear(s, x, `${p}.gate_proj`, F, H, cfg.mlpBias);
  const up = linear(s, x, `${p}.up_proj`, F, H, cfg.mlpBias);
  return linear(s, b.mul(b.mul(gate, b.sigmoid(gate)), up), `${p}.down_proj`, H, F, cfg.mlpBias);
}

/** cos/sin of the rotary angles for each position, [B, 1, S, headDim], scaled by the rope attention factor. */
function rotaryAngles(b: Builder, cfg: ModelConfig, positionIds: Value): { cos: Value; sin: Value } {
  const { invFreq, attentionFactor } = ropeTables(cfg);
  const inv = b.constant(b.floatType, [invFreq.length], invFreq);
  const pos = b.unsqueeze(b.cast(positionIds, b.floatType), [2]);
  const freqs = b.mul(pos, inv);
  const angles = b.unsqueeze(b.concat([freqs, freqs], -1), [1]);
  const scale = (v: Value) => (attentionFactor === 1 ? v : b.mul(v, b.scalar(attentionFactor)));
  return { cos: scale(b.cos(angles)), sin: scale(b.sin(angles)) };
}

/**
 * Additive mask [B, 1, group*S, T]: query i (at absolute position past+i) sees key j when j <= past+i
 * and attention_mask[b, j] is 1. Tiled `group` times along the query axis to match the stacked GQA layout.
 */
function attentionMask(b: Builder, cfg: ModelConfig, attentionMask: Value, inputIds: Value): Value {
  const total = b.squeeze(b.shapeOf(attentionMask, 1, 2), [0]);
  const seq = b.squeeze(b.shapeOf(inputIds, 1, 2), [0]);
  const zero = b.constant('int64', [], [0]);
  const one = b.constant('int64', [], [1]);
  const keyPos = b.unsqueeze(b.range(zero, total, one, b.sym('T')), [0]);
  const queryPos = b.unsqueeze(b.range(b.sub(total, seq), total, one, b.sym('S')), [1]);
  const causal = b.compare('LessOrEqual', keyPos, queryPos);
  const keep = b.unsqueeze(b.cast(attentionMask, 'bool'), [1]);
  const allowed = b.unsqueeze(b.compare('And', b.unsqueeze(causal, [0]), keep), [1]);
  const mask = b.where(allowed, b.scalar(0), b.scalar(MASKED));
  const group = cfg.numHeads / cfg.numKvHeads;
  return group === 1 ? mask : b.concat(Array(group).fill(mask), 2);
}

/**
 * The Llama-family decoder (Llama, Qwen2, Mistral) as graph ops, Hugging Face semantics:
 * RMSNorm, rotary embeddings, grouped-query attention, SwiGLU. Activations are kept
 * flat as [B*S, hidden] so every projection is one Gemm against the stored [out, in] weight.
 */
export function buildDecoder(b: Builder, cfg: ModelConfig, params: ModelParams, opts: DecoderOptions): DecoderGraph {
  const inputIds = b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMaskIn = b.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = b.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const pasts = opts.kvCache
    ? Array.from({ length: cfg.numLayers }, (_, i) => ({
        key: b.input(`past_key_values.${i}.key`, b.floatType, ['batch_size', cfg.numKvHeads, 'past_sequence_length', cfg.headDim]),
        value: b.input(`past_key_values.${i}.value`, b.floatType, ['batch_size', cfg.numKvHeads, 'past_sequence_length', cfg.headDim]),
      }))
    : [];

  const batchSeq = b.shapeOf(inputIds);
  const { cos, sin } = rotaryAngles(b, cfg, positionIds);
  const s: Shared = {
    b,
    cfg,
    params,
    hook: opts.linearHook,
    cos,
    sin,
    mask: attentionMask(b, cfg, attentionMaskIn, inputIds),
    qShape: b.concat([batchSeq, b.int64s([cfg.numHeads, cfg.headDim])], 0),
    kvShape: b.concat([batchSeq, b.int64s([cfg.numKvHeads, cfg.headDim])], 0),
  };

  const embedShape = [cfg.vocabSize, cfg.hiddenSize];
  const embedQ = params.quantized?.('model.embed_tokens.weight', embedShape);
  const flatIds = b.reshape(inputIds, [-1]);
  let h = embedQ ? gatherQuantizedRows(b, embedQ, flatIds) : b.gather(params.get('model.embed_tokens.weight', embedShape), flatIds, 0);
  const presents: { key: Value; value: Value }[] = [];
  const layers: { input: Value; output: Value }[] = [];
  for (let layer = 0; layer < cfg.numLayers; layer++) {
    const out = decoderLayer(s, h, layer, pasts[layer]);
    presents.push(out.present);
    layers.push({ input: h, output: out.h });
    h = out.h;
  }
  const hidden = rmsNorm(s, h, 'model.norm.weight');
  const rebuildLayer = (layer: number, x: Value) => decoderLayer(s, x, layer).h;
  return { inputIds, attentionMask: attentionMaskIn, positionIds, hidden, batchSeq, presents, layers, rebuildLayer };
}

/** One pre-norm decoder layer on the residual stream h [B*S, hidden]: attention, then the MLP, each added back. */
function decoderLayer(s: Shared, h: Value, layer: number, past?: { key: Value; value: Value }) {
  const { b } = s;
  const attn = attention(s, rmsNorm(s, h, `model.layers.${layer}.input_layernorm.weight`), layer, past);
  const mid = b.add(h, attn.out);
  return { h: b.add(mid, mlp(s, rmsNorm(s, mid, `model.layers.${layer}.post_attention_layernorm.weight`), layer)), present: attn.present };
}

/** Logits [N, vocab] for hidden states [N, hidden], through lm_head or the tied embedding. */
export function lmHead(b: Builder, cfg: ModelConfig, params: ModelParams, hidden: Value): Value {
  return project(b, params, hidden, headWeightName(cfg), [cfg.vocabSize, cfg.hiddenSize]);
}

/** The [vocab, hidden] weight lm_head multiplies by: its own, or the tied embedding. */
export function headWeightName(cfg: ModelConfig): string {
  return cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}
