import type { ModelConfig } from '../config.js';
import type { Builder } from '../graph/builder.js';
import { float, int, type Value } from '../graph/graph.js';
import { ropeTables } from './rope.js';
import { dequantizeValues, gatherQuantizedRows, matMulNBits, MS_DOMAIN, type QuantizedValues } from '../quant/dequantize-graph.js';

/** Where the decoder's weights come from: initializers for inference, graph inputs when they are trained. */
export interface ModelParams {
  /** The Hugging Face tensor `name`, in its stored layout (linear weights are [out, in]). */
  get(name: string, shape: number[]): Value;
  /** The weight as quantized initializers when the model runs quantized and this weight is; else undefined (use `get`). */
  quantized?(name: string, shape: number[]): QuantizedValues | undefined;
  /** A narrower copy of the quantized lm_head `name` to score the whole vocabulary with (see lmHead); else undefined. */
  draftHead?(name: string, shape: number[]): QuantizedValues | undefined;
}

/**
 * Called after each linear projection with its input [N, in] and output [N, out];
 * returns the output to use instead. LoRA is injected through this.
 */
export type LinearHook = (b: Builder, x: Value, module: string, y: Value) => Value;

export interface DecoderOptions {
  /** Take `past_key_values.N.*` inputs, [B, T, kvHeads, headDim], and return the new tokens' rows as `present.N.*` (needs fusedKernels). */
  kvCache: boolean;
  linearHook?: LinearHook;
  /**
   * RMSNorm and the rotary embedding as onnxruntime's fused CPU kernels (SimplifiedLayerNormalization,
   * com.microsoft RotaryEmbedding): one node each instead of seven and six; q/k/v and gate/up as one
   * projection each (see `linears`). Decoding one token runs
   * every node of the graph, and at a few microseconds of dispatch per node the plain ops cost a
   * tenth of a 0.5B model's decode step. Inference only: the gradient rules know the plain ops.
   */
  fusedKernels?: boolean;
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

/**
 * The rotary tables: cos/sin per token [B, 1, S, headDim] for the plain ops, or cos/sin caches
 * [positions, headDim/2] with the position ids for the fused kernel, which looks the rows up itself.
 */
type Rotary = { fused: false; cos: Value; sin: Value } | { fused: true; cosCache: Value; sinCache: Value; positionIds: Value };

/** The per-graph context every layer shares: sizes, rotary tables and the additive attention mask. */
interface Shared {
  b: Builder;
  cfg: ModelConfig;
  params: ModelParams;
  hook?: LinearHook;
  rotary: Rotary;
  fused: boolean;
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

/**
 * Several projections of the same input as one matmul over their weights stacked along N, split
 * after: q/k/v and gate/up each become one MatMulNBits (or Gemm). At decode a node's dispatch costs
 * about as much as a small projection's arithmetic, and k/v (N = 128 on a 0.5B model) are too narrow
 * for two threads to share. The stacked weights are written as one initializer (see Builder.stack).
 * Weights stored at different widths (a GGUF may mix them) fall back to one projection each.
 */
function linears(s: Shared, x: Value, modules: string[], outs: number[], inDim: number, bias: boolean): Value[] {
  const { b, params } = s;
  const names = modules.map((m) => `${m}.weight`);
  const qs = names.map((n, i) => params.quantized?.(n, [outs[i], inDim]));
  const same = (q: QuantizedValues | undefined) =>
    q?.bits === qs[0]?.bits && q?.blockSize === qs[0]?.blockSize && q?.accuracyLevel === qs[0]?.accuracyLevel;
  const stackable = b.floatType === 'float32' && (qs.every((q) => !q) || qs.every(same));
  if (!s.fused || !stackable) return modules.map((m, i) => linear(s, x, m, outs[i], inDim, bias));
  const cat = (vs: Value[]) => b.stack(vs);
  const rows = outs.reduce((a, n) => a + n, 0);
  const [q0] = qs;
  const stacked = q0
    ? {
        ...q0,
        rows,
        data: cat(qs.map((q) => q!.data)),
        scales: cat(qs.map((q) => q!.scales)),
        zeroPoints: cat(qs.map((q) => q!.zeroPoints)),
      }
    : undefined;
  let y = stacked ? matMulNBits(b, x, stacked) : b.gemm(x, cat(names.map((n, i) => params.get(n, [outs[i], inDim]))), { transB: true });
  if (bias) y = b.add(y, cat(modules.map((m, i) => params.get(`${m}.bias`, [outs[i]]))));
  return b.split(y, -1, outs).map((part, i) => (s.hook ? s.hook(b, x, modules[i], part) : part));
}

function linear(s: Shared, x: Value, module: string, out: number, inDim: number, bias: boolean): Value {
  const { b, params } = s;
  let y = project(b, params, x, `${module}.weight`, [out, inDim]);
  if (bias) y = b.add(y, params.get(`${module}.bias`, [out]));
  return s.hook ? s.hook(b, x, module, y) : y;
}

function rmsNorm(s: Shared, x: Value, name: string): Value {
  const { b, cfg } = s;
  if (s.fused) {
    const scale = s.params.get(name, [cfg.hiddenSize]);
    const attrs = { axis: int(-1), epsilon: float(cfg.rmsNormEps) };
    return b.emit('SimplifiedLayerNormalization', [x, scale], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
  }
  const variance = b.mean(b.mul(x, x), [-1]);
  const inv = b.reciprocal(b.sqrt(b.add(variance, b.scalar(cfg.rmsNormEps))));
  return b.mul(b.mul(x, inv), s.params.get(name, [cfg.hiddenSize]));
}

/** x * cos + rotate_half(x) * sin, on [B, heads, S, headDim]. */
function rotate(s: Shared, x: Value): Value {
  const { b, rotary: r } = s;
  if (r.fused) {
    const inputs = [x, r.positionIds, r.cosCache, r.sinCache];
    return b.emit('RotaryEmbedding', inputs, [{ dtype: x.dtype, shape: x.shape }], { interleaved: int(0) }, MS_DOMAIN)[0];
  }
  const half = s.cfg.headDim / 2;
  const [x1, x2] = b.split(x, -1, [half, half]);
  const rotated = b.concat([b.neg(x2), x1], -1);
  return b.add(b.mul(x, r.cos), b.mul(rotated, r.sin));
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
  const [qx, kx, vx] = linears(s, x, [`${p}.q_proj`, `${p}.k_proj`, `${p}.v_proj`], [cfg.numHeads * d, kvDim, kvDim], H, cfg.qkvBias);
  const q = rotate(s, toHeads(s, qx, cfg.numHeads, s.qShape));
  let present: { key: Value; value: Value };
  let kT: Value;
  let v: Value;
  if (past) {
    // The cache is sequence-major, [B, T, kv, d] (engine/kv-cache.ts says why): the graph returns
    // only the new tokens' rows and attends over the past rows followed by them. The fused rotary
    // kernel takes [B, S, kv*d] as it is, so the new rows need no transpose.
    const rowsOf = (x: Value) => b.reshapeTo(x, s.kvShape, [b.sym('B'), b.sym('S'), cfg.numKvHeads, d]);
    const key = b.reshape(rotate(s, b.reshape(rowsOf(kx), [0, 0, -1])), [0, 0, cfg.numKvHeads, d]);
    present = { key, value: rowsOf(vx) };
    kT = b.transpose(b.concat([past.key, present.key], 1), [0, 2, 3, 1]);
    v = b.transpose(b.concat([past.value, present.value], 1), [0, 2, 1, 3]);
  } else {
    present = { key: rotate(s, toHeads(s, kx, cfg.numKvHeads, s.kvShape)), value: toHeads(s, vx, cfg.numKvHeads, s.kvShape) };
    kT = b.transpose(present.key, [0, 1, 3, 2]);
    v = present.value;
  }
  // Grouped-query attention without copying K/V per head: the `group` query heads that share a
  // KV head are stacked along the query axis, [B, kv, group*S, d], and attend to that head once.
  const qg = b.reshape(b.mul(q, b.scalar(1 / Math.sqrt(d))), [0, cfg.numKvHeads, -1, d]);
  const scores = b.add(b.matmul(qg, kT), s.mask);
  const ctx = b.matmul(b.softmax(scores, -1), v);
  const merged = b.transpose(b.reshape(ctx, [0, cfg.numHeads, -1, d]), [0, 2, 1, 3]);
  const flat = b.reshape(merged, [-1, cfg.numHeads * d]);
  const out = linear(s, flat, `${p}.o_proj`, H, cfg.numHeads * d, cfg.oBias);
  return { out, present };
}

function mlp(s: Shared, x: Value, layer: number): Value {
  const { b, cfg } = s;
  const p = `model.layers.${layer}.mlp`;
  const H = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  const [gate, up] = linears(s, x, [`${p}.gate_proj`, `${p}.up_proj`], [F, F], H, cfg.mlpBias);
  return linear(s, b.mul(b.mul(gate, b.sigmoid(gate)), up), `${p}.down_proj`, H, F, cfg.mlpBias);
}

/**
 * cos/sin of the rotary angles, scaled by the rope attention factor: per token [B, 1, S, headDim] for
 * the plain ops, or (fused) one row per position up to the largest position id, [P, headDim/2],
 * computed in the graph so no max_position_embeddings-sized table is stored.
 */
function rotaryAngles(b: Builder, cfg: ModelConfig, positionIds: Value, fused: boolean): Rotary {
  const { invFreq, attentionFactor } = ropeTables(cfg);
  const inv = b.constant(b.floatType, [invFreq.length], invFreq);
  const scale = (v: Value) => (attentionFactor === 1 ? v : b.mul(v, b.scalar(attentionFactor)));
  if (fused) {
    // onnxruntime's kernel also wants at least as many rows as the sequence is long (padded rows
    // repeat positions), so the table runs to max(position) + 1 + S.
    const one = b.constant('int64', [], [1]);
    const seq = b.squeeze(b.shapeOf(positionIds, 1, 2), [0]);
    const count = b.add(b.add(b.reduce('ReduceMax', positionIds, [0, 1], false), one), seq);
    const positions = b.range(b.constant('int64', [], [0]), count, one, b.sym('P'));
    const freqs = b.mul(b.unsqueeze(b.cast(positions, b.floatType), [1]), inv);
    return { fused: true, cosCache: scale(b.cos(freqs)), sinCache: scale(b.sin(freqs)), positionIds };
  }
  const pos = b.unsqueeze(b.cast(positionIds, b.floatType), [2]);
  const freqs = b.mul(pos, inv);
  const angles = b.unsqueeze(b.concat([freqs, freqs], -1), [1]);
  return { fused: false, cos: scale(b.cos(angles)), sin: scale(b.sin(angles)) };
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
  // The cached path rotates the new keys as [B, S, kv*d], which only the fused rotary kernel takes.
  if (opts.kvCache && !opts.fusedKernels) throw new Error('a KV-cache graph is built with the fused kernels');
  const pasts = opts.kvCache
    ? Array.from({ length: cfg.numLayers }, (_, i) => ({
        key: b.input(`past_key_values.${i}.key`, b.floatType, ['batch_size', 'past_sequence_length', cfg.numKvHeads, cfg.headDim]),
        value: b.input(`past_key_values.${i}.value`, b.floatType, ['batch_size', 'past_sequence_length', cfg.numKvHeads, cfg.headDim]),
      }))
    : [];

  const batchSeq = b.shapeOf(inputIds);
  const fused = !!opts.fusedKernels;
  const s: Shared = {
    b,
    cfg,
    params,
    hook: opts.linearHook,
    rotary: rotaryAngles(b, cfg, positionIds, fused),
    fused,
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

/** Candidates per position that a draft-scored head rescores at full width. */
export const RESCORED_CANDIDATES = 32;

/**
 * Logits [N, vocab] for hidden states [N, hidden], through lm_head or the tied embedding.
 *
 * With a draft head (int4), the whole vocabulary is scored through the 4-bit copy, and the
 * RESCORED_CANDIDATES best of each row are scored again through the int8 rows and replace the draft
 * logits. lm_head is read in full every decoded token (at the 0.5B shape, int8: 39% of the bytes per
 * token; 4-bit: 26%), but its rows compete with each other for the next token, where 4-bit error
 * flips choices: after the rescoring the top of each row carries the int8 head's logits, whose
 * choices the draft's error reaches only if it pushes the best token out of the candidates.
 */
export function lmHead(b: Builder, cfg: ModelConfig, params: ModelParams, hidden: Value): Value {
  const name = headWeightName(cfg);
  const shape: [number, number] = [cfg.vocabSize, cfg.hiddenSize];
  const draft = b.floatType === 'float32' ? params.draftHead?.(name, shape) : undefined;
  if (!draft) return project(b, params, hidden, name, shape);
  const full = params.quantized!(name, shape)!;
  const k = Math.min(RESCORED_CANDIDATES, cfg.vocabSize);
  const drafted = matMulNBits(b, hidden, draft);
  const n = hidden.shape[0];
  const [, ids] = b.emit(
    'TopK',
    [drafted, b.int64s([k])],
    [
      { dtype: 'float32', shape: [n, k] },
      { dtype: 'int64', shape: [n, k] },
    ],
    { axis: int(-1), largest: int(1), sorted: int(0) },
  );
  const rows = b.reshape(gatherQuantizedRows(b, full, ids), [-1, k, cfg.hiddenSize]);
  const exact = b.squeeze(b.matmul(rows, b.unsqueeze(hidden, [2])), [2]);
  return b.emit('ScatterElements', [drafted, ids, exact], [{ dtype: 'float32', shape: drafted.shape }], { axis: int(-1) })[0];
}

/** The [vocab, hidden] weight lm_head multiplies by: its own, or the tied embedding. */
export function headWeightName(cfg: ModelConfig): string {
  return cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}
