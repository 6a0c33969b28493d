import type { ModelConfig } from './config.js';
import { compiledGraph } from './graph-cache.js';
import type { Builder } from './graph/builder.js';
import { buildInferenceGraph, type InferenceGraphOptions } from './llama/inference-graph.js';
import type { ModelParams } from './llama/decoder.js';
import { openSession, ort, type SessionOptions } from './session.js';
import { QUANT_METHOD, type QuantActivations, type QuantMode } from './quant/quant-mode.js';

/** Keys and values of every layer for the tokens seen so far, [batch, kvHeads, length, headDim] each. */
export interface KvCache {
  batch: number;
  length: number;
  tensors: Map<string, ort.Tensor>;
}

export interface ForwardResult {
  /** [batch, positions, vocab] flattened; positions is S ('all' logits) or 1 ('last'). */
  logits: Float32Array;
  positions: number;
  cache: KvCache;
  /** [batch, S, hidden] flattened, when the graph was built with hidden states. */
  hidden?: Float32Array;
  /** [batch]: log Σ exp of each row's logits ('last' logits graphs). */
  logSumExp?: Float64Array;
}

export interface CausalLMOptions extends SessionOptions, InferenceGraphOptions {
  /** Identifies the weights for the graph cache (e.g. the weight files' fingerprint). */
  weightsKey: string;
  params: (b: Builder) => ModelParams;
  /** Extra fixed parts of the cache key (e.g. the LoRA layout of an adapter-input graph). */
  variant?: unknown;
  /** The quant mode `params` was built with (part of the cache key); 'none' when absent. */
  quant?: QuantMode;
  /** The activations mode `params` was built with (part of the cache key when quantized). */
  quantActivations?: QuantActivations;
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);

/** One compiled inference graph of a decoder, run step by step with a KV cache. */
export class CausalLM {
  /** Inputs sent with every run besides the tokens: an unmerged adapter's matrices. */
  fixedFeeds: Record<string, ort.Tensor> = {};

  private constructor(
    readonly config: ModelConfig,
    readonly logitsMode: 'all' | 'last',
    private readonly session: ort.InferenceSession,
    /** The weights' width: 'none' is float32 throughout. */
    readonly quant: QuantMode = 'none',
  ) {}

  static async create(config: ModelConfig, opts: CausalLMOptions): Promise<CausalLM> {
    const quant = opts.quant ?? 'none';
    // The quantized weights live in the compiled graph's data file, so a cache hit loads them without re-quantizing.
    const activations = quant === 'none' ? null : (opts.quantActivations ?? 'float');
    const parts = {
      kind: 'inference',
      config,
      weights: opts.weightsKey,
      quant,
      quantMethod: quant === 'none' ? null : QUANT_METHOD,
      activations,
      logits: opts.logits,
      hidden: !!opts.hidden,
      variant: opts.variant ?? null,
    };
    const path = compiledGraph(parts, () => buildInferenceGraph(config, opts.params, opts));
    return new CausalLM(config, opts.logits, await openSession(path, opts), quant);
  }

  emptyCache(batch: number): KvCache {
    const { numLayers, numKvHeads, headDim } = this.config;
    const tensors = new Map<string, ort.Tensor>();
    for (let i = 0; i < numLayers; i++) {
      for (const kind of ['key', 'value']) {
        tensors.set(`past_key_values.${i}.${kind}`, new ort.Tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]));
      }
    }
    return { batch, length: 0, tensors };
  }

  /**
   * Runs `ids` (one equal-length row per batch entry) after the cached tokens.
   * `attention` masks padding over cache + new tokens (default: all ones); `positions` overrides position ids.
   */
  async forward(
    ids: number[][],
    cache: KvCache,
    opts: { attention?: number[][]; positions?: number[][]; extra?: Record<string, ort.Tensor> } = {},
  ): Promise<ForwardResult> {
    const batch = ids.length;
    const seq = ids[0].length;
    if (batch !== cache.batch) throw new Error(`batch ${batch} does not match cache batch ${cache.batch}`);
    const total = cache.length + seq;
    const attention = opts.attention ?? ids.map(() => new Array<number>(total).fill(1));
    const positions = opts.positions ?? ids.map(() => Array.from({ length: seq }, (_, i) => cache.length + i));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids.flat(), [batch, seq]),
      attention_mask: int64(attention.flat(), [batch, total]),
      position_ids: int64(positions.flat(), [batch, seq]),
      ...this.fixedFeeds,
      ...opts.extra,
    };
    for (const [k, v] of cache.tensors) feeds[k] = v;
    const out = await this.session.run(feeds);
    const tensors = new Map<string, ort.Tensor>();
    for (let i = 0; i < this.config.numLayers; i++) {
      tensors.set(`past_key_values.${i}.key`, out[`present.${i}.key`]);
      tensors.set(`past_key_values.${i}.value`, out[`present.${i}.value`]);
    }
    return {
      logits: out.logits.data as Float32Array,
      positions: this.logitsMode === 'all' ? seq : 1,
      cache: { batch, length: total, tensors },
      hidden: out.last_hidden_state?.data as Float32Array | undefined,
      logSumExp: out.logsumexp?.data as Float64Array | undefined,
    };
  }

  /** A cache holding rows `rows` of `cache` (in that order, repeats allowed): beam search reorders with it. */
  static selectRows(cache: KvCache, rows: number[]): KvCache {
    const tensors = new Map<string, ort.Tensor>();
    for (const [name, t] of cache.tensors) {
      const [, heads, len, dim] = t.dims as number[];
      const rowSize = heads * len * dim;
      const src = t.data as Float32Array;
      const dst = new Float32Array(rows.length * rowSize);
      rows.forEach((r, i) => dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
      tensors.set(name, new ort.Tensor('float32', dst, [rows.length, heads, len, dim]));
    }
    return { batch: rows.length, length: cache.length, tensors };
  }

  /** The first `length` positions of `cache`: what a new prompt sharing only that much of the old one can reuse. */
  static truncate(cache: KvCache, length: number): KvCache {
    if (length >= cache.length) return cache;
    const tensors = new Map<string, ort.Tensor>();
    for (const [name, t] of cache.tensors) {
      const [batch, heads, len, dim] = t.dims as number[];
      const src = t.data as Float32Array;
      const dst = new Float32Array(batch * heads * length * dim);
      for (let r = 0; r < batch * heads; r++) dst.set(src.subarray(r * len * dim, (r * len + length) * dim), r * length * dim);
      tensors.set(name, new ort.Tensor('float32', dst, [batch, heads, length, dim]));
    }
    return { batch: cache.batch, length, tensors };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
