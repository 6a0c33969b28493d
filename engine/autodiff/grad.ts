import { isFloat } from '../graph/dtype.js';
import type { Builder } from '../graph/builder.js';
import type { Node, Value } from '../graph/graph.js';
import { NON_DIFFERENTIABLE, ruleKey, VJP_RULES } from './rules.js';
import { expandLike, zerosLike } from './shapes.js';

export interface GradOptions {
  /** d(objective)/d(loss), of the loss's shape; default ones (the loss itself is the objective). */
  seed?: Value;
  /** Values whose producers are not differentiated through: the walk back stops at them (their own gradient is still summed). */
  stopAt?: readonly Value[];
}

/** Values that depend on some `wrt` value through differentiable ops, in float types. */
function dependents(b: Builder, nodes: readonly Node[], wrt: Set<string>): Set<string> {
  const active = new Set(wrt);
  for (const n of nodes) {
    if (NON_DIFFERENTIABLE.has(n.op) || !n.inputs.some((i) => active.has(i))) continue;
    for (const o of n.outputs) if (isFloat(b.value(o).dtype)) active.add(o);
  }
  return active;
}

/**
 * Reverse-mode autodiff: appends to `b` the nodes computing d loss / d w for each `w` in `wrt`
 * and returns them by name. Only nodes on a path from some `w` to the loss get a backward
 * node, so frozen weights cost nothing; gradients of values used several times are summed.
 * A `w` the loss does not depend on gets zeros. `wrt` may hold graph inputs, initializers or
 * intermediate values.
 */
export function grad(b: Builder, loss: Value, wrt: Value[], opts: GradOptions = {}): Map<string, Value> {
  const reached = gradReached(b, loss, wrt, opts);
  return new Map(wrt.map((w) => [w.name, reached.get(w.name) ?? zerosLike(b, w)]));
}

/** `grad` without the zeros: the gradients of the `wrt` values the loss reaches, by name. */
export function gradReached(b: Builder, loss: Value, wrt: Value[], opts: GradOptions = {}): Map<string, Value> {
  if (!isFloat(loss.dtype)) throw new Error(`grad: loss "${loss.name}" is ${loss.dtype}, not a float`);
  for (const w of wrt) {
    if (!b.has(w.name)) throw new Error(`grad: "${w.name}" is not in this graph`);
    if (!isFloat(w.dtype)) throw new Error(`grad: "${w.name}" is ${w.dtype}, not a float`);
  }
  const forward = b.nodes.slice();
  const active = dependents(b, forward, new Set(wrt.map((w) => w.name)));
  const stop = new Set((opts.stopAt ?? []).map((v) => v.name));

  const parts = new Map<string, Value[]>();
  const summed = new Map<string, Value>();
  const contribute = (name: string, g: Value) => {
    const list = parts.get(name);
    if (list) list.push(g);
    else parts.set(name, [g]);
  };
  // Contributions to one value all arrive before its producer is visited (reverse topological order).
  const total = (name: string): Value | undefined => {
    const done = summed.get(name);
    if (done) return done;
    const list = parts.get(name);
    if (!list) return undefined;
    const sum = list.reduce((acc, g) => b.add(acc, g));
    summed.set(name, sum);
    return sum;
  };

  contribute(loss.name, opts.seed ?? expandLike(b, b.scalar(1, loss), loss));
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const needs = node.inputs.map((n) => n !== '' && active.has(n));
    if (!needs.some(Boolean) || NON_DIFFERENTIABLE.has(node.op)) continue;
    if (!node.outputs.some((o) => parts.has(o)) || node.outputs.every((o) => stop.has(o))) continue;
    const rule = VJP_RULES[ruleKey(node)];
    if (!rule) throw new Error(`grad: no gradient rule for op ${node.op} (computing "${node.outputs[0]}")`);
    const inputGrads = rule({
      b,
      node,
      inputs: node.inputs.map((n) => (n === '' ? undefined : b.value(n))),
      outputs: node.outputs.map((o) => b.value(o)),
      grads: node.outputs.map(total),
      needs,
    });
    node.inputs.forEach((name, k) => {
      const g = inputGrads[k];
      if (needs[k] && g) contribute(name, g);
    });
  }

  const out = new Map<string, Value>();
  for (const w of wrt) {
    const g = total(w.name);
    if (g) out.set(w.name, g);
  }
  return out;
}
