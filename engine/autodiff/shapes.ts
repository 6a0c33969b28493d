// Shape plumbing for gradient rules: undoing broadcasts and restoring an input's shape,
// from the builder's static shapes when they are known, from Shape() at run time when not.
import type { Builder } from '../graph/builder.js';
import type { Dim, Value } from '../graph/graph.js';

export function isStatic(shape: readonly Dim[]): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The integers held by a constant int64 input (the axes, perm or bounds operand of a node). */
export function constInts(b: Builder, name: string): number[] {
  const init = b.initializers.get(name);
  if (!init) throw new Error(`autodiff: "${name}" must be a constant`);
  const data = typeof init.data === 'function' ? init.data() : init.data;
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

/** x's shape as an int64 vector: a constant when static, Shape(x) otherwise. */
export function shapeTensor(b: Builder, x: Value): Value {
  return isStatic(x.shape) ? b.int64s([...x.shape]) : b.shapeOf(x);
}

/**
 * Reshape `g` (x's element count) to x's shape. Symbols that `g` holds at the same position
 * are copied with 0 and one other symbol is inferred with -1, so Shape(x) is rarely needed.
 */
export function reshapeLike(b: Builder, g: Value, x: Value): Value {
  if (sameShape(g.shape, x.shape)) return g;
  const spec: number[] = [];
  let inferred = false;
  for (let i = 0; i < x.shape.length; i++) {
    const d = x.shape[i];
    if (typeof d === 'number' && d !== 0) spec.push(d);
    else if (typeof d === 'string' && g.shape[i] === d) spec.push(0);
    else if (typeof d === 'string' && !inferred) {
      spec.push(-1);
      inferred = true;
    } else return b.reshapeTo(g, b.shapeOf(x), x.shape);
  }
  return b.reshapeTo(g, b.int64s(spec), x.shape);
}

/**
 * Broadcast `g` to x's shape. Expand broadcasts both ways, so a dimension `g` already has
 * is requested as 1 and only a symbol `g` lacks needs Shape(x).
 */
export function expandLike(b: Builder, g: Value, x: Value): Value {
  if (sameShape(g.shape, x.shape)) return g;
  const lead = x.shape.length - g.shape.length;
  const spec: number[] = [];
  for (let i = 0; i < x.shape.length; i++) {
    const d = x.shape[i];
    const own = i >= lead ? g.shape[i - lead] : undefined;
    if (typeof d === 'number') spec.push(d);
    else if (own === d) spec.push(1);
    else return b.expand(g, b.shapeOf(x), x.shape);
  }
  return b.expand(g, b.int64s(spec), x.shape);
}

export function zerosLike(b: Builder, x: Value): Value {
  return expandLike(b, b.scalar(0, x), x);
}

/**
 * Sums `g` (the shape `x` was broadcast to) over the broadcast axes, giving x's shape:
 * the leading axes `x` lacks and the axes where `x` has a literal 1 and `g` does not.
 * A symbolic dimension of `x` is taken to match `g`'s (a symbol that is 1 at run time is not supported).
 */
export function sumToShape(b: Builder, g: Value, x: Value): Value {
  const lead = g.shape.length - x.shape.length;
  if (lead < 0) throw new Error(`autodiff: gradient [${g.shape}] has lower rank than its input [${x.shape}]`);
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (x.shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return g;
  const summed = b.sum(g, axes, true);
  return lead === 0
    ? summed
    : b.squeeze(
        summed,
        Array.from({ length: lead }, (_, i) => i),
      );
}
