// Causal-LM cross-entropy over the labelled positions only, as graph ops, plus the JS side
// that turns Hugging Face style labels into the graph's inputs.
import type { ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';
import { ort } from '../session.js';
import { headWeightName, lmHead, type DecoderGraph, type ModelParams } from './decoder.js';
import { dequantizeRowRange, gatherQuantizedRows, runtimeTrue, type QuantizedValues } from '../quant/dequantize-graph.js';

/** Labels equal to this are not predicted (Hugging Face's `ignore_index`). */
export const IGNORE_INDEX = -100;

/** Graph input names of the loss. */
export const LOSS_INPUTS = { labelPositions: 'label_positions', labels: 'labels' } as const;

export interface CausalLmLoss {
  /** Scalar: the mean (or sum) over labelled positions of -log p(label). */
  loss: Value;
  /** int64 [N]: rows of the flattened [B*S] hidden states whose next token is predicted. */
  labelPositions: Value;
  /** int64 [N]: the token each of those rows must predict. */
  labels: Value;
  /**
   * Where the backward pass starts: d loss / d `value` is `seed`, formed in closed form rather than by
   * differentiating the loss op by op. Over a float lm_head `value` is the logits [N, vocab] and `seed`
   * (softmax - onehot) (/ N for the mean): two vocabulary-wide tensors where the ops' own gradients
   * make five (311 MB each for 511 rows of a 152k vocabulary). Over a quantized lm_head (see
   * `slicedQuantizedHead`) `value` is the labelled rows' hidden states [N, hidden] and no tensor is
   * vocabulary-wide. Pass both to `grad(b, value, …, { seed })`.
   */
  backwardStart(): { value: Value; seed: Value };
}

export interface CausalLmLossOptions {
  /** 'mean' (default) divides by N; 'sum' lets a trainer accumulate micro-batches and divide by the total itself. */
  reduction?: 'mean' | 'sum';
  /** Form the gradient with the loss (`backwardStart`); needed up front by the sliced quantized head. */
  gradient?: boolean;
  /** Rows of a quantized lm_head dequantized at a time; default about HEAD_SLICE_ELEMENTS values. */
  headSliceRows?: number;
}

/** Most float values of a quantized lm_head dequantized at once by the loss (16 MB in float32). */
const HEAD_SLICE_ELEMENTS = 1 << 22;

/**
 * Cross-entropy of next-token prediction: only the N labelled rows of the hidden states go
 * through lm_head, and loss_i = logsumexp(logits_i) - logits_i[label_i].
 * Needs N >= 1 (a mean over no labels is NaN).
 */
export function buildCausalLmLoss(
  b: Builder,
  cfg: ModelConfig,
  params: ModelParams,
  dec: DecoderGraph,
  opts: CausalLmLossOptions = {},
): CausalLmLoss {
  const labelPositions = b.input(LOSS_INPUTS.labelPositions, 'int64', ['num_labels']);
  const labels = b.input(LOSS_INPUTS.labels, 'int64', ['num_labels']);
  const rows = b.gather(dec.hidden, labelPositions, 0);
  const count = () => b.cast(b.emit('Size', [labels], [{ dtype: 'int64', shape: [] }])[0], rows.dtype);
  const reduce = (nll: Value) => (opts.reduction === 'sum' ? b.sum(nll, [0], false) : b.mean(nll, [0], false));
  const perToken = (g: Value) => (opts.reduction === 'sum' ? g : b.div(g, count()));
  const q = params.quantized?.(headWeightName(cfg), [cfg.vocabSize, cfg.hiddenSize]);
  if (q) {
    const head = slicedQuantizedHead(b, q, rows, labels, { gradient: !!opts.gradient, sliceRows: opts.headSliceRows });
    return {
      loss: reduce(head.nll),
      labelPositions,
      labels,
      backwardStart() {
        if (!head.rowsGradient) throw new Error('buildCausalLmLoss: the gradient of a quantized head must be asked for up front');
        return { value: rows, seed: perToken(head.rowsGradient) };
      },
    };
  }
  const logits = lmHead(b, cfg, params, rows);
  const logZ = b.reduce('ReduceLogSumExp', logits, [1], false);
  const picked = b.squeeze(b.gatherElements(logits, b.unsqueeze(labels, [1]), 1), [1]);
  const backwardStart = () => {
    const probs = b.softmax(logits, 1);
    const minusOne = b.expand(b.scalar(-1, probs), b.concat([b.shapeOf(labels), b.int64s([1])], 0), [labels.shape[0], 1]);
    const g = b.emit('ScatterElements', [probs, b.unsqueeze(labels, [1]), minusOne], [{ dtype: probs.dtype, shape: probs.shape }], {
      axis: { kind: 'int', value: 1 },
      reduction: { kind: 'string', value: 'add' },
    })[0];
    return { value: logits, seed: perToken(g) };
  };
  return { loss: reduce(b.sub(logZ, picked)), labelPositions, labels, backwardStart };
}

/**
 * -log p(label) per row [N] through a quantized lm_head, and (with `gradient`) its gradient with
 * respect to the rows, d Σ nll / d rows [N, hidden], without a vocabulary-wide tensor: lm_head is
 * dequantized a slice of rows at a time (never whole, as MatMulNBits at 8 bits does per call) and
 * each slice's logits [N, rows] are used and dropped. The log-partition and the softmax-weighted sum
 * of lm_head's rows, Σ_v softmax_v W_v, are accumulated slice by slice with online rescaling (as
 * flash attention does); the label's logit and row come from a gather of the label rows. So
 * d nll / d row = Σ_v softmax_v W_v - W_label is formed in the same pass as the loss.
 * Each slice waits (through a run-time true) for the previous one's result, so onnxruntime runs
 * them one after another instead of computing every slice's logits first and holding them.
 */
export function slicedQuantizedHead(
  b: Builder,
  q: QuantizedValues,
  rows: Value,
  labels: Value,
  opts: { gradient: boolean; sliceRows?: number },
): { nll: Value; rowsGradient?: Value } {
  const step = opts.sliceRows ?? Math.max(1, Math.floor(HEAD_SLICE_ELEMENTS / q.cols));
  let logZ: Value | undefined;
  let acc: Value | undefined;
  let after = rows;
  for (let from = 0; from < q.rows; from += step) {
    const w = dequantizeRowRange(b, q, from, Math.min(q.rows, from + step), runtimeTrue(b, after));
    const logits = b.gemm(rows, w, { transB: true });
    const lse = b.reduce('ReduceLogSumExp', logits, [1], true);
    const weighted = opts.gradient ? b.gemm(b.exp(b.sub(logits, lse)), w) : undefined;
    if (!logZ) {
      logZ = lse;
      acc = weighted;
    } else {
      const top = b.max(logZ, lse);
      const next = b.add(top, b.log(b.add(b.exp(b.sub(logZ, top)), b.exp(b.sub(lse, top)))));
      if (acc && weighted) acc = b.add(b.mul(acc, b.exp(b.sub(logZ, next))), b.mul(weighted, b.exp(b.sub(lse, next))));
      logZ = next;
    }
    after = acc ?? logZ;
  }
  const labelRows = gatherQuantizedRows(b, q, labels);
  const picked = b.sum(b.mul(rows, labelRows), [1], true);
  const nll = b.squeeze(b.sub(logZ!, picked), [1]);
  return { nll, rowsGradient: acc && b.sub(acc, labelRows) };
}

/** The loss inputs for one batch: `positions[i]` (a row b*S + s) predicts `labels[i]`. */
export interface LossTargets {
  positions: BigInt64Array;
  labels: BigInt64Array;
}

/**
 * Hugging Face causal-LM labels [B][S] (aligned with input_ids, not shifted; -100 = ignored)
 * to loss inputs: the hidden state at s-1 predicts labels[b][s], as in `LlamaForCausalLM(labels=...)`.
 */
export function causalLmTargets(labels: number[][], vocabSize?: number): LossTargets {
  const seq = labels[0]?.length ?? 0;
  const positions: bigint[] = [];
  const targets: bigint[] = [];
  labels.forEach((row, r) => {
    if (row.length !== seq) throw new UserError(`labels row ${r} has ${row.length} tokens, row 0 has ${seq}`);
    for (let s = 1; s < seq; s++) {
      const t = row[s];
      if (t === IGNORE_INDEX) continue;
      if (!Number.isInteger(t) || t < 0 || (vocabSize !== undefined && t >= vocabSize)) {
        throw new UserError(
          `label ${t} at row ${r}, position ${s} is not a token id${vocabSize !== undefined ? ` below ${vocabSize}` : ''}`,
        );
      }
      positions.push(BigInt(r * seq + s - 1));
      targets.push(BigInt(t));
    }
  });
  if (positions.length === 0)
    throw new UserError('no labelled positions: every sequence needs at least 2 tokens with a label after the first');
  return { positions: BigInt64Array.from(positions), labels: BigInt64Array.from(targets) };
}

/** Next-token prediction over whole sequences: every position 1..n-1 is predicted, the mean taken over them. */
export function nextTokenTargets(ids: number[][], vocabSize?: number): LossTargets {
  return causalLmTargets(ids, vocabSize);
}

/** The loss's feeds, to pass to a session beside the decoder's inputs. */
export function lossFeeds(t: LossTargets): Record<string, ort.Tensor> {
  return {
    [LOSS_INPUTS.labelPositions]: new ort.Tensor('int64', t.positions, [t.positions.length]),
    [LOSS_INPUTS.labels]: new ort.Tensor('int64', t.labels, [t.labels.length]),
  };
}
