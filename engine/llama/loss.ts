// Causal-LM cross-entropy over the labelled positions only, as graph ops, plus the JS side
// that turns Hugging Face style labels into the graph's inputs.
import type { ModelConfig } from '../config.js';
import { UserError } from '../../common/index.js';
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';
import { ort } from '../session.js';
import { lmHead, type DecoderGraph, type ModelParams } from './decoder.js';

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
  /** [N, vocab]: the logits of the labelled rows only. */
  logits: Value;
  /**
   * Emits d loss / d logits, [N, vocab], formed directly as (softmax - onehot) (/ N for the mean):
   * two vocabulary-wide tensors, where differentiating logsumexp and the label gather op by op
   * makes five (311 MB each for 511 rows of a 152k vocabulary). Pass it as `seed` to
   * `grad(b, logits, …)` for the loss's gradients.
   */
  logitsGradient(): Value;
}

export interface CausalLmLossOptions {
  /** 'mean' (default) divides by N; 'sum' lets a trainer accumulate micro-batches and divide by the total itself. */
  reduction?: 'mean' | 'sum';
}

/**
 * Cross-entropy of next-token prediction: only the N labelled rows of the hidden states go
 * through lm_head, and loss_i = logsumexp(logits_i) - logits_i[label_i]. Its gradient with
 * respect to the logits is formed once, as (softmax - onehot) / N.
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
  const logits = lmHead(b, cfg, params, b.gather(dec.hidden, labelPositions, 0));
  const logZ = b.reduce('ReduceLogSumExp', logits, [1], false);
  const picked = b.squeeze(b.gatherElements(logits, b.unsqueeze(labels, [1]), 1), [1]);
  const nll = b.sub(logZ, picked);
  const loss = opts.reduction === 'sum' ? b.sum(nll, [0], false) : b.mean(nll, [0], false);
  const logitsGradient = () => {
    const probs = b.softmax(logits, 1);
    const minusOne = b.expand(b.scalar(-1, probs), b.concat([b.shapeOf(labels), b.int64s([1])], 0), [labels.shape[0], 1]);
    const g = b.emit('ScatterElements', [probs, b.unsqueeze(labels, [1]), minusOne], [{ dtype: probs.dtype, shape: probs.shape }], {
      axis: { kind: 'int', value: 1 },
      reduction: { kind: 'string', value: 'add' },
    })[0];
    if (opts.reduction === 'sum') return g;
    const count = b.cast(b.emit('Size', [labels], [{ dtype: 'int64', shape: [] }])[0], probs.dtype);
    return b.div(g, count);
  };
  return { loss, labelPositions, labels, logits, logitsGradient };
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
