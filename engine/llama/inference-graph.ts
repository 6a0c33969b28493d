import type { ModelConfig } from '../config.js';
import { Builder } from '../graph/builder.js';
import { buildDecoder, lmHead, type LinearHook, type ModelParams } from './decoder.js';
import { quantizedInitializers, type QuantChoice, type QuantSource } from '../quant/quantized-params.js';
import { headDraftBits } from '../quant/quant-mode.js';

/** The weights a graph reads: named float tensors, converted to f32 on demand, or stored quantized blocks. */
export type WeightReader = QuantSource;

export interface InferenceGraphOptions {
  /** 'all' returns logits for every position; 'last' only the last (what decoding needs, much cheaper). */
  logits: 'all' | 'last';
  /** Also return `last_hidden_state` [B, S, hidden] (the final normed states). */
  hidden?: boolean;
  linearHook?: LinearHook;
}

/**
 * Every weight becomes an initializer, read from the model folder only when the graph is written;
 * under a quant mode the weights it quantizes (see `quantBitsFor`) become quantized initializers.
 */
export function initializerParams(b: Builder, weights: WeightReader, quant?: QuantChoice): ModelParams {
  const quantized = !quant || quant.mode === 'none' ? undefined : quantizedInitializers(b, weights, quant);
  return {
    get(name, shape) {
      return b.has(name) ? b.value(name) : b.initializer(name, 'float32', shape, () => weights.float32(name));
    },
    quantized,
    // A head the storage holds quantized (a GGUF) keeps its own width whatever is asked, so it gets no draft.
    draftHead:
      quant && quantized
        ? (name, shape) => {
            const bits = headDraftBits(quant.mode, quantized(name, shape)?.bits);
            const draft = bits && quantized(name, shape, bits);
            return draft && draft.bits === bits ? draft : undefined;
          }
        : undefined,
  };
}

/** Inference graph with Optimum's I/O names: input_ids, attention_mask, position_ids, past_key_values.N.* -> logits, present.N.*. */
export function buildInferenceGraph(cfg: ModelConfig, params: (b: Builder) => ModelParams, opts: InferenceGraphOptions): Builder {
  const b = new Builder('float32');
  const p = params(b);
  const dec = buildDecoder(b, cfg, p, { kvCache: true, linearHook: opts.linearHook, fusedKernels: true });
  const V = cfg.vocabSize;
  const H = cfg.hiddenSize;
  if (opts.logits === 'all') {
    const logits = lmHead(b, cfg, p, dec.hidden);
    b.output(b.reshapeTo(logits, b.concat([dec.batchSeq, b.int64s([V])], 0), ['batch_size', 'sequence_length', V]), 'logits');
  } else {
    const seq3 = b.reshapeTo(dec.hidden, b.concat([dec.batchSeq, b.int64s([H])], 0), ['batch_size', 'sequence_length', H]);
    const last = b.reshape(b.slice(seq3, [1], [-1], [Number.MAX_SAFE_INTEGER]), [-1, H]);
    const logits = b.unsqueeze(lmHead(b, cfg, p, last), [1]);
    b.output(logits, 'logits');
    // log Σ exp over the vocabulary, for the chosen token's log-probability: in JS it was ~3 ms a token
    // (one Math.exp per vocabulary entry). In float64, so it equals the JS sum of the same float32 logits.
    b.output(b.reduce('ReduceLogSumExp', b.cast(logits, 'float64'), [2], false), 'logsumexp');
  }
  dec.presents.forEach((kv, i) => {
    b.output(kv.key, `present.${i}.key`);
    b.output(kv.value, `present.${i}.value`);
  });
  if (opts.hidden) {
    b.output(
      b.reshapeTo(dec.hidden, b.concat([dec.batchSeq, b.int64s([H])], 0), ['batch_size', 'sequence_length', H]),
      'last_hidden_state',
    );
  }
  return b;
}
