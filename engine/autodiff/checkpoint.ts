// Activation checkpointing: reverse-mode autodiff through a chain of segments (a decoder's layers)
// that keeps only each segment's input from the forward pass and emits the segment's forward ops a
// second time in the backward pass, right where its gradient is formed. Without it every
// intermediate of every layer lives from the forward pass until its backward node has run: about
// 210 MB per layer at the 0.5B shape and 512 tokens, 5 GB of a 24-layer QLoRA step.
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';
import { gradReached } from './grad.js';
import { zerosLike } from './shapes.js';

export interface CheckpointedSegment {
  /** The segment's input as the forward pass computed it (the one value of the segment kept for backward). */
  input: Value;
  /** Its output in the forward pass. */
  output: Value;
}

export interface CheckpointedChain {
  /** In forward order; segment i + 1's input is segment i's output. */
  segments: CheckpointedSegment[];
  /** Emits segment `i`'s forward ops again from `x`, returning its output. */
  rebuild(i: number, x: Value): Value;
}

/**
 * d loss / d w for each `w` in `wrt`, as `grad` forms it, for a loss reached from `wrt` through `chain`:
 * the gradient flows from the loss to the last segment's output, then through each segment rebuilt
 * from its saved input (last to first), then on to whatever comes before the chain.
 *
 * A rebuilt segment starts from Where(ready, input, input), `ready` computed from the gradient at
 * its output and the later segment's `wrt` gradients: that ties its recomputation to the backward
 * pass (onnxruntime cannot run it early and keep its intermediates alive after all) and gives it an
 * input onnxruntime cannot merge with the forward pass's (common-subexpression elimination would
 * otherwise fold the two copies back into one).
 * The rebuilt ops are the forward ops themselves, so the gradients are the un-checkpointed ones.
 */
export function checkpointedGrad(
  b: Builder,
  loss: Value,
  wrt: Value[],
  chain: CheckpointedChain,
  opts: { seed?: Value } = {},
): Map<string, Value> {
  const parts = new Map<string, Value[]>();
  const collect = (reached: Map<string, Value>, except?: Value) => {
    for (const w of wrt) {
      const g = reached.get(w.name);
      if (g && w !== except) parts.set(w.name, [...(parts.get(w.name) ?? []), g]);
    }
  };
  const { segments } = chain;
  if (segments.length === 0) throw new Error('checkpointedGrad: no segments');
  const last = segments[segments.length - 1].output;
  const top = gradReached(b, loss, [...wrt, last], { seed: opts.seed, stopAt: [last] });
  collect(top);
  let g = top.get(last.name);
  // A bool computed from the data of `vs`: what waits on it runs after them. Its value is irrelevant
  // (Where(c, x, x) is x); Size() would not do, onnxruntime folds it to a constant for a static shape.
  const after = (vs: Value[]) =>
    vs
      .map((v) => {
        const top = b.reduce('ReduceMax', v, [...v.shape.keys()], false);
        return b.compare('Equal', top, top);
      })
      .reduce((acc, t) => b.compare('Or', acc, t));
  let ready = g && after([g]);
  for (let i = segments.length - 1; i >= 0 && g && ready; i--) {
    const { input } = segments[i];
    const x = b.where(ready, input, input);
    const y = chain.rebuild(i, x);
    const reached = gradReached(b, y, [...wrt, x], { seed: g, stopAt: [x] });
    collect(reached, x);
    g = reached.get(x.name);
    // The next segment also waits for this one's `wrt` gradients: otherwise onnxruntime may order those
    // (needed by nothing but the graph's outputs) last, holding what they read from every segment.
    ready = g && after([g, ...[...reached.values()].filter((v) => v !== g)]);
  }
  // Uses of `wrt` before the chain (e.g. a trained embedding) get the gradient at the chain's input.
  if (g) collect(gradReached(b, segments[0].input, wrt, { seed: g }));
  const out = new Map<string, Value>();
  for (const w of wrt) {
    const list = parts.get(w.name);
    out.set(w.name, list ? list.reduce((acc, v) => b.add(acc, v)) : zerosLike(b, w));
  }
  return out;
}
