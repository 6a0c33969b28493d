import type { ModelConfig } from './config.js';
import { compiledGraph } from './graph-cache.js';
import type { Builder } from './graph/builder.js';
import { buildInferenceGraph, type InferenceGraphOptions } from './llama/inference-graph.js';
import type { ModelParams } from './llama/decoder.js';
import { openSession, ort, type SessionOptions } from './session.js';
import { QUANT_METHOD, type QuantActivations, type QuantMode } from './quant/quant-mode.js';
import { appendKv, emptyKvCache, presentName, selectKvRows, truncateKv, type KvCache } from './kv-cache.js';

export type { KvCache } from './kv-cache.js';

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
    return emptyKvCache(this.config, batch);
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
    return {
      logits: out.logits.data as Float32Array,
      positions: this.logitsMode === 'all' ? seq : 1,
      cache: appendKv(cache, this.config, seq, (name) => out[presentName(name)].data as Float32Array),
      hidden: out.last_hidden_state?.data as Float32Array | undefined,
      logSumExp: out.logsumexp?.data as Float64Array | undefined,
    };
  }

  /** A cache holding rows `rows` of `cache` (in that order, repeats allowed): beam search reorders with it. */
  static selectRows(cache: KvCache, rows: number[]): KvCache {
    return selectKvRows(cache, rows);
  }

  /** The first `length` positions of `cache` (truncateKv: `take` gives `cache` up so its buffers are reused). */
  static truncate(cache: KvCache, length: number, take = false): KvCache {
    return truncateKv(cache, length, take);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
