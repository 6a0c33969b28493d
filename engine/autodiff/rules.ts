// Vector-Jacobian products, one small rule per ONNX op the builder emits: given the gradient
// of the loss with respect to a node's outputs, emit the ops giving it with respect to the inputs.
import { isFloat } from '../graph/dtype.js';
import type { Builder } from '../graph/builder.js';
import type { Attr, Node, Value } from '../graph/graph.js';
import { constInts, expandLike, isStatic, reshapeLike, sumToShape, zerosLike } from './shapes.js';
import { dequantizeSlices, MS_DOMAIN, runtimeTrue } from '../quant/dequantize-graph.js';

export interface VjpContext {
  b: Builder;
  node: Node;
  /** The node's inputs; undefined for an omitted optional input. */
  inputs: (Value | undefined)[];
  outputs: Value[];
  /** d loss / d output, per output; undefined where no gradient reaches that output. */
  grads: (Value | undefined)[];
  /** Which inputs a gradient is wanted for (the others may be left undefined). */
  needs: boolean[];
}

/** Returns d loss / d input per input (undefined where not needed or not defined). */
export type Vjp = (c: VjpContext) => (Value | undefined)[];

/** Ops whose outputs carry no gradient: integer or boolean results, or piecewise-constant functions. */
export const NON_DIFFERENTIABLE = new Set([
  'Shape',
  'Size',
  'Range',
  'ConstantOfShape',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
  'Not',
  'Xor',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
]);

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

function attr(node: Node, name: string, fallback: number): number {
  const a: Attr | undefined = node.attrs[name];
  return a && (a.kind === 'int' || a.kind === 'float') ? a.value : fallback;
}

function grad0(c: VjpContext): Value {
  const g = c.grads[0];
  if (!g) throw new Error(`autodiff: ${c.node.op} reached without an output gradient`);
  return g;
}

function input(c: VjpContext, i: number): Value {
  const v = c.inputs[i];
  if (!v) throw new Error(`autodiff: ${c.node.op} is missing input ${i}`);
  return v;
}

/** Applies `f` to the gradient of a one-input, one-output op. */
const elementwise =
  (f: (b: Builder, g: Value, x: Value, y: Value) => Value): Vjp =>
  (c) => [f(c.b, grad0(c), input(c, 0), c.outputs[0])];

/** A two-input broadcasting op: each partial is computed at the output's shape, then summed back to its input's shape. */
const broadcasting =
  (
    da: (b: Builder, g: Value, a: Value, bb: Value, y: Value) => Value,
    db: (b: Builder, g: Value, a: Value, bb: Value, y: Value) => Value,
  ): Vjp =>
  (c) => {
    const { b } = c;
    const g = grad0(c);
    const [x0, x1] = [input(c, 0), input(c, 1)];
    return [
      c.needs[0] ? sumToShape(b, da(b, g, x0, x1, c.outputs[0]), x0) : undefined,
      c.needs[1] ? sumToShape(b, db(b, g, x0, x1, c.outputs[0]), x1) : undefined,
    ];
  };

const emit1 = (b: Builder, op: string, inputs: (Value | '')[], like: Value, attrs: Record<string, Attr> = {}) =>
  b.emit(op, inputs, [{ dtype: like.dtype, shape: like.shape }], attrs)[0];

const sign = (b: Builder, x: Value) => emit1(b, 'Sign', [x], x);

/** For Max/Min: the first input's share of the gradient (all of it where it won, half on ties). */
function winnerShare(b: Builder, g: Value, a: Value, other: Value, wins: 'Greater' | 'Less'): Value {
  const zero = b.scalar(0, g);
  const tieShare = b.where(b.compare('Equal', a, other), b.mul(g, b.scalar(0.5, g)), zero);
  return b.where(b.compare(wins, a, other), g, tieShare);
}

const minMax =
  (wins: 'Greater' | 'Less'): Vjp =>
  (c) => {
    const { b } = c;
    const g = grad0(c);
    const [x0, x1] = [input(c, 0), input(c, 1)];
    const share0 = winnerShare(b, g, x0, x1, wins);
    return [c.needs[0] ? sumToShape(b, share0, x0) : undefined, c.needs[1] ? sumToShape(b, b.sub(g, share0), x1) : undefined];
  };

/** [..., d] -> [-1, d] */
function flattenLeading(b: Builder, v: Value): Value {
  const last = v.shape[v.shape.length - 1];
  if (v.shape.length === 2) return v;
  const spec = typeof last === 'number' ? b.int64s([-1, last]) : b.concat([b.int64s([-1]), b.shapeOf(v, v.shape.length - 1)], 0);
  return b.reshapeTo(v, spec, [b.sym('flat'), last]);
}

function swapLast(v: Value): number[] {
  const r = v.shape.length;
  return [...range(0, r - 2), r - 1, r - 2];
}

/** Y = A @ B with numpy batching. A 2-D right operand (a weight) gets its gradient from one Gemm over all rows. */
const matmul: Vjp = (c) => {
  const { b } = c;
  const g = grad0(c);
  const [a, w] = [input(c, 0), input(c, 1)];
  if (w.shape.length === 2) {
    const g2 = flattenLeading(b, g);
    const a2 = flattenLeading(b, a);
    return [
      c.needs[0] ? reshapeLike(b, b.gemm(g2, w, { transB: true }), a) : undefined,
      c.needs[1] ? b.gemm(a2, g2, { transA: true }) : undefined,
    ];
  }
  return [
    c.needs[0] ? sumToShape(b, b.matmul(g, b.transpose(w, swapLast(w))), a) : undefined,
    c.needs[1] ? sumToShape(b, b.matmul(b.transpose(a, swapLast(a)), g), w) : undefined,
  ];
};

/** Y = alpha * op(A) @ op(B) + beta * C, the transposes folded into the gradient Gemms too. */
const gemm: Vjp = (c) => {
  const { b, node } = c;
  const g = grad0(c);
  const [a, w] = [input(c, 0), input(c, 1)];
  const transA = attr(node, 'transA', 0) === 1;
  const transB = attr(node, 'transB', 0) === 1;
  const alpha = attr(node, 'alpha', 1);
  const beta = attr(node, 'beta', 1);
  const da = () => (transA ? b.gemm(w, g, { transA: transB, transB: true, alpha }) : b.gemm(g, w, { transB: !transB, alpha }));
  const dw = () => (transB ? b.gemm(g, a, { transA: true, transB: transA, alpha }) : b.gemm(a, g, { transA: !transA, alpha }));
  const bias = c.inputs[2];
  const dc = () => {
    const s = sumToShape(b, g, bias!);
    return beta === 1 ? s : b.mul(s, b.scalar(beta, s));
  };
  return [c.needs[0] ? da() : undefined, c.needs[1] ? dw() : undefined, c.needs[2] && bias ? dc() : undefined];
};

function inversePerm(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

const transpose: Vjp = (c) => {
  const x = input(c, 0);
  const a = c.node.attrs.perm;
  const perm = a && a.kind === 'ints' ? a.value : range(0, x.shape.length).reverse();
  return [c.b.transpose(grad0(c), inversePerm(perm))];
};

/** Sizes along `axis` as a Split operand: constant when every input's size is known. */
function sizesAlong(b: Builder, xs: Value[], axis: number): Value {
  if (xs.every((x) => typeof x.shape[axis] === 'number')) return b.int64s(xs.map((x) => x.shape[axis] as number));
  return b.concat(
    xs.map((x) => (typeof x.shape[axis] === 'number' ? b.int64s([x.shape[axis] as number]) : b.shapeOf(x, axis, axis + 1))),
    0,
  );
}

const concat: Vjp = (c) => {
  const { b } = c;
  const xs = c.inputs.map((_, i) => input(c, i));
  const axis = attr(c.node, 'axis', 0);
  const outs = xs.map((x) => ({ dtype: x.dtype, shape: x.shape }));
  return b.emit('Split', [grad0(c), sizesAlong(b, xs, axis)], outs, { axis: { kind: 'int', value: axis } });
};

const split: Vjp = (c) => {
  const axis = attr(c.node, 'axis', 0);
  const parts = c.outputs.map((o, i) => c.grads[i] ?? zerosLike(c.b, o));
  return [parts.length === 1 ? parts[0] : c.b.concat(parts, axis), undefined];
};

/** Slice (step 1) is undone by zero-padding the gradient back to the input's extent. */
const slice: Vjp = (c) => {
  const { b, node } = c;
  const x = input(c, 0);
  const rank = x.shape.length;
  const starts = constInts(b, node.inputs[1]);
  const ends = constInts(b, node.inputs[2]);
  const axes = node.inputs[3] ? constInts(b, node.inputs[3]) : range(0, starts.length);
  const steps = node.inputs[4] ? constInts(b, node.inputs[4]) : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new Error('autodiff: Slice with a step other than 1 has no gradient rule');
  const before: (number | Value)[] = new Array(rank).fill(0);
  const after: (number | Value)[] = new Array(rank).fill(0);
  axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + rank : ax;
    const d = x.shape[a];
    if (typeof d === 'number') {
      const clamp = (v: number) => Math.max(0, Math.min(d, v < 0 ? v + d : v));
      const s = clamp(starts[i]);
      before[a] = s;
      after[a] = d - Math.max(s, clamp(ends[i]));
      return;
    }
    const dim = b.shapeOf(x, a, a + 1);
    const clamp = (v: number) => (v >= 0 ? b.min(b.int64s([v]), dim) : b.max(b.add(b.int64s([v]), dim), b.int64s([0])));
    const s = clamp(starts[i]);
    before[a] = s;
    after[a] = b.sub(dim, b.max(clamp(ends[i]), s));
  });
  const all = [...before, ...after];
  const pads = all.every((p) => typeof p === 'number')
    ? b.int64s(all as number[])
    : b.concat(
        all.map((p) => (typeof p === 'number' ? b.int64s([p]) : p)),
        0,
      );
  return [emit1(b, 'Pad', [grad0(c), pads], x)];
};

/** Gather's gradient scatters (adding duplicates) the rows back with ScatterND, the gathered axis moved to the front. */
const gather: Vjp = (c) => {
  const { b } = c;
  const [data, indices] = [input(c, 0), input(c, 1)];
  if (!c.needs[0]) return [];
  const g = grad0(c);
  const r = data.shape.length;
  const q = indices.shape.length;
  const axis = attr(c.node, 'axis', 0);
  const front = [axis, ...range(0, axis), ...range(axis + 1, r)];
  const gFront = axis === 0 ? g : b.transpose(g, [...range(axis, axis + q), ...range(0, axis), ...range(axis + q, r - 1 + q)]);
  const rest = front.slice(1).map((i) => data.shape[i]);
  const frontShape = front.map((i) => data.shape[i]);
  const restSpec = isStatic(rest)
    ? b.int64s([-1, ...rest])
    : b.concat([b.int64s([-1]), b.gather(b.shapeOf(data), b.int64s(front.slice(1)), 0)], 0);
  const updates = b.reshapeTo(gFront, restSpec, [b.sym('n'), ...rest]);
  const idx = b.reshapeTo(indices, b.int64s([-1, 1]), [updates.shape[0], 1]);
  const zeroShape = isStatic(frontShape) ? b.int64s([...frontShape]) : b.gather(b.shapeOf(data), b.int64s(front), 0);
  const zeros = b.expand(b.scalar(0, data), zeroShape, frontShape);
  const scattered = b.emit('ScatterND', [zeros, idx, updates], [{ dtype: data.dtype, shape: frontShape }], {
    reduction: { kind: 'string', value: 'add' },
  })[0];
  return [axis === 0 ? scattered : b.transpose(scattered, inversePerm(front))];
};

const gatherElements: Vjp = (c) => {
  const { b } = c;
  const [data, indices] = [input(c, 0), input(c, 1)];
  if (!c.needs[0]) return [];
  const attrs: Record<string, Attr> = {
    axis: { kind: 'int', value: attr(c.node, 'axis', 0) },
    reduction: { kind: 'string', value: 'add' },
  };
  return [emit1(b, 'ScatterElements', [zerosLike(b, data), indices, grad0(c)], data, attrs)];
};

/** The normalised axes a Reduce* node reduced over (all of them when it has no axes operand). */
function reducedAxes(c: VjpContext): number[] {
  const rank = input(c, 0).shape.length;
  const name = c.node.inputs[1];
  if (!name) return range(0, rank);
  return constInts(c.b, name).map((a) => (a < 0 ? a + rank : a));
}

/** The reduce output (or its gradient) with the reduced axes put back as 1s, so it broadcasts against the input. */
function kept(c: VjpContext, v: Value): Value {
  return attr(c.node, 'keepdims', 1) === 1 ? v : c.b.unsqueeze(v, reducedAxes(c));
}

/** How many elements each output of a Reduce* node summarises, as a scalar of x's type. */
function reducedCount(c: VjpContext): Value {
  const { b } = c;
  const x = input(c, 0);
  const dims = reducedAxes(c).map((a) => x.shape[a]);
  if (isStatic(dims))
    return b.scalar(
      dims.reduce((p: number, d: number) => p * d, 1),
      x,
    );
  const size = (v: Value) => b.cast(b.emit('Size', [v], [{ dtype: 'int64', shape: [] }])[0], x.dtype);
  return b.div(size(x), size(c.outputs[0]));
}

const reduceSum: Vjp = (c) => [expandLike(c.b, kept(c, grad0(c)), input(c, 0))];

const reduceMean: Vjp = (c) => {
  const { b } = c;
  return [expandLike(b, b.div(kept(c, grad0(c)), reducedCount(c)), input(c, 0))];
};

/** The gradient goes to the maxima, shared equally between ties. */
const reduceMax: Vjp = (c) => {
  const { b } = c;
  const x = input(c, 0);
  const hit = b.cast(b.compare('Equal', x, kept(c, c.outputs[0])), x.dtype);
  const ties = b.sum(hit, reducedAxes(c), true);
  return [b.mul(hit, b.div(kept(c, grad0(c)), ties))];
};

/** d logsumexp(x) / dx = softmax(x), formed once as exp(x - y). */
const reduceLogSumExp: Vjp = (c) => {
  const { b } = c;
  const x = input(c, 0);
  return [b.mul(b.exp(b.sub(x, kept(c, c.outputs[0]))), kept(c, grad0(c)))];
};

const softmax: Vjp = (c) => {
  const { b } = c;
  const g = grad0(c);
  const y = c.outputs[0];
  const axis = attr(c.node, 'axis', -1);
  return [b.mul(y, b.sub(g, b.sum(b.mul(g, y), [axis], true)))];
};

const logSoftmax: Vjp = (c) => {
  const { b } = c;
  const g = grad0(c);
  const axis = attr(c.node, 'axis', -1);
  return [b.sub(g, b.mul(b.exp(c.outputs[0]), b.sum(g, [axis], true)))];
};

const cast: Vjp = (c) => {
  const x = input(c, 0);
  return [isFloat(x.dtype) && isFloat(c.outputs[0].dtype) ? c.b.cast(grad0(c), x.dtype) : undefined];
};

const unsqueeze: Vjp = (c) => [reshapeLike(c.b, grad0(c), input(c, 0)), undefined];
const squeeze: Vjp = (c) => [reshapeLike(c.b, grad0(c), input(c, 0)), undefined];

const where: Vjp = (c) => {
  const { b } = c;
  const g = grad0(c);
  const [cond, x0, x1] = [input(c, 0), input(c, 1), input(c, 2)];
  const zero = b.scalar(0, g);
  return [
    undefined,
    c.needs[1] ? sumToShape(b, b.where(cond, g, zero), x0) : undefined,
    c.needs[2] ? sumToShape(b, b.where(cond, zero, g), x1) : undefined,
  ];
};

const trilu: Vjp = (c) => [emit1(c.b, 'Trilu', [grad0(c), c.inputs[1] ?? ''], input(c, 0), c.node.attrs), undefined];

/**
 * Y = A @ Wᵀ over a quantized W (com.microsoft MatMulNBits, see quant/dequantize-graph.ts); W is
 * frozen, so only dA = dY @ W is formed, over W dequantized in the graph right here, in the backward
 * pass (a float copy of one matrix lives only while its Gemm runs). The other route, a second
 * quantized copy of Wᵀ [K, N] fed to MatMulNBits, is not exact: re-blocking the dequantized Wᵀ along
 * N rounds it again, so its gradients would not be the float model's (max error 0.2-0.5 on dx of
 * size ~1.4 at 4 bits); it also doubles the stored weights. Measured by bench/qlora-backward.ts at
 * the 0.5B shapes, 512 rows, 2 threads on a loaded machine: dequantize 13 / 92 / 89 ms vs transposed
 * 8 / 67 / 92 ms vs float Gemm 4.5 / 42 / 69 ms (896x896, 4864x896, 896x4864): the transposed copy
 * is up to 1.4x faster on the smaller shapes and no faster on down_proj; exactness decides.
 */
const matMulNBits: Vjp = (c) => {
  const { b, node } = c;
  if (!c.needs[0]) return [];
  const g = grad0(c);
  const bits = attr(node, 'bits', 4);
  if (bits !== 4 && bits !== 8) throw new Error(`autodiff: MatMulNBits with ${bits} bits has no gradient rule`);
  const N = attr(node, 'N', 0);
  const K = attr(node, 'K', 0);
  // A big W (lm_head: 136M values at the 0.5B shape) is dequantized in row slices of ~16 MB, each
  // multiplied in as soon as it exists: dx = Σ_slices g[:, slice] @ W[slice].
  const slices = dequantizeSlices(
    b,
    {
      bits,
      blockSize: attr(node, 'block_size', 32),
      rows: N,
      cols: K,
      data: input(c, 1),
      scales: input(c, 2),
      zeroPoints: input(c, 3),
    },
    runtimeTrue(b, g),
    Math.max(1, Math.floor(DEQUANTIZE_SLICE_ELEMENTS / K)),
  );
  const g2 = g.shape.length === 2 ? g : b.reshape(g, [-1, N]);
  let dx: Value | undefined;
  for (const s of slices) {
    const w = s.w.dtype === g.dtype ? s.w : b.cast(s.w, g.dtype);
    const gs = slices.length === 1 ? g2 : b.slice(g2, [1], [s.from], [s.to]);
    const part = b.gemm(gs, w);
    dx = dx ? b.add(dx, part) : part;
  }
  return [g.shape.length === 2 ? dx : reshapeLike(b, dx!, input(c, 0))];
};

/** Most float values of a weight dequantized at once by the MatMulNBits gradient rule (16 MB). */
const DEQUANTIZE_SLICE_ELEMENTS = 1 << 22;

/** Rules of ops outside the default ONNX domain are keyed `domain:op`. */
export function ruleKey(node: Pick<Node, 'op' | 'domain'>): string {
  return node.domain ? `${node.domain}:${node.op}` : node.op;
}

/** The rule table, keyed by ONNX op type (default domain) or `domain:op`. */
export const VJP_RULES: Readonly<Record<string, Vjp>> = {
  Identity: elementwise((_b, g) => g),
  Neg: elementwise((b, g) => b.neg(g)),
  Exp: elementwise((b, g, _x, y) => b.mul(g, y)),
  Log: elementwise((b, g, x) => b.div(g, x)),
  Sqrt: elementwise((b, g, _x, y) => b.div(b.mul(g, b.scalar(0.5, g)), y)),
  Reciprocal: elementwise((b, g, _x, y) => b.neg(b.mul(g, b.mul(y, y)))),
  Sigmoid: elementwise((b, g, _x, y) => b.mul(g, b.mul(y, b.sub(b.scalar(1, y), y)))),
  Tanh: elementwise((b, g, _x, y) => b.mul(g, b.sub(b.scalar(1, y), b.mul(y, y)))),
  Cos: elementwise((b, g, x) => b.neg(b.mul(g, b.sin(x)))),
  Sin: elementwise((b, g, x) => b.mul(g, b.cos(x))),
  Abs: elementwise((b, g, x) => b.mul(g, sign(b, x))),
  Relu: elementwise((b, g, x) => b.where(b.compare('Greater', x, b.scalar(0, x)), g, b.scalar(0, g))),
  Add: broadcasting(
    (_b, g) => g,
    (_b, g) => g,
  ),
  Sub: broadcasting(
    (_b, g) => g,
    (b, g) => b.neg(g),
  ),
  Mul: broadcasting(
    (b, g, _a, x1) => b.mul(g, x1),
    (b, g, x0) => b.mul(g, x0),
  ),
  Div: broadcasting(
    (b, g, _a, x1) => b.div(g, x1),
    (b, g, _a, x1, y) => b.neg(b.div(b.mul(g, y), x1)),
  ),
  Pow: broadcasting(
    (b, g, x0, x1) => b.mul(g, b.mul(x1, b.pow(x0, b.sub(x1, b.scalar(1, x1))))),
    (b, g, x0, _x1, y) => b.mul(g, b.mul(y, b.log(x0))),
  ),
  Max: minMax('Greater'),
  Min: minMax('Less'),
  Where: where,
  Cast: cast,
  MatMul: matmul,
  Gemm: gemm,
  Reshape: (c) => [reshapeLike(c.b, grad0(c), input(c, 0)), undefined],
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: (c) => [sumToShape(c.b, grad0(c), input(c, 0)), undefined],
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  ReduceSum: reduceSum,
  ReduceMean: reduceMean,
  ReduceMax: reduceMax,
  ReduceLogSumExp: reduceLogSumExp,
  Trilu: trilu,
  [`${MS_DOMAIN}:MatMulNBits`]: matMulNBits,
};
