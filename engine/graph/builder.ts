import type { DType } from './dtype.js';
import { type Attr, type Dim, Graph, type Value, concatSources, float, int, ints } from './graph.js';

/** Numpy broadcasting of two shapes; a symbol against a size keeps the size, since 1 is the only size that broadcasts. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number' && x !== y) {
      throw new Error(`cannot broadcast [${a}] with [${b}]`);
    } else out.push(typeof x === 'number' ? x : y);
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

function product(dims: readonly Dim[]): Dim {
  let p = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') p *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return p;
  return p === 1 ? syms.join('*') : `${p}*${syms.join('*')}`;
}

type Unary =
  'Neg' | 'Exp' | 'Log' | 'Sqrt' | 'Reciprocal' | 'Sigmoid' | 'Tanh' | 'Cos' | 'Sin' | 'Abs' | 'Relu' | 'Identity' | 'Not' | 'Floor';
type Binary = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow' | 'Max' | 'Min';
type Compare = 'Equal' | 'Less' | 'LessOrEqual' | 'Greater' | 'GreaterOrEqual' | 'And' | 'Or';
export type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceLogSumExp';

/**
 * Typed op constructors over the graph IR, each inferring its output's dtype and shape.
 * Only ops with ONNX (opset 18) semantics; the model code and the autodiff rules use these.
 */
export class Builder extends Graph {
  constructor(readonly floatType: DType = 'float32') {
    super();
  }

  /** A float scalar of the graph's float type (or of `like`'s type). */
  scalar(x: number, like?: Value): Value {
    return this.constant(like?.dtype ?? this.floatType, [], [x]);
  }

  int64s(values: number[]): Value {
    return this.constant('int64', [values.length], values);
  }

  unary(op: Unary, x: Value, attrs: Record<string, Attr> = {}): Value {
    return this.emit(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
  }

  neg = (x: Value) => this.unary('Neg', x);
  exp = (x: Value) => this.unary('Exp', x);
  log = (x: Value) => this.unary('Log', x);
  sqrt = (x: Value) => this.unary('Sqrt', x);
  reciprocal = (x: Value) => this.unary('Reciprocal', x);
  sigmoid = (x: Value) => this.unary('Sigmoid', x);
  tanh = (x: Value) => this.unary('Tanh', x);
  cos = (x: Value) => this.unary('Cos', x);
  sin = (x: Value) => this.unary('Sin', x);
  abs = (x: Value) => this.unary('Abs', x);
  relu = (x: Value) => this.unary('Relu', x);
  identity = (x: Value) => this.unary('Identity', x);

  binary(op: Binary, a: Value, b: Value): Value {
    if (a.dtype !== b.dtype) throw new Error(`${op}: dtype ${a.dtype} vs ${b.dtype}`);
    return this.emit(op, [a, b], [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape) }])[0];
  }

  add = (a: Value, b: Value) => this.binary('Add', a, b);
  sub = (a: Value, b: Value) => this.binary('Sub', a, b);
  mul = (a: Value, b: Value) => this.binary('Mul', a, b);
  div = (a: Value, b: Value) => this.binary('Div', a, b);
  pow = (a: Value, b: Value) => this.binary('Pow', a, b);
  max = (a: Value, b: Value) => this.binary('Max', a, b);
  min = (a: Value, b: Value) => this.binary('Min', a, b);

  compare(op: Compare, a: Value, b: Value): Value {
    return this.emit(op, [a, b], [{ dtype: 'bool', shape: broadcastShapes(a.shape, b.shape) }])[0];
  }

  where(cond: Value, a: Value, b: Value): Value {
    const shape = broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape));
    return this.emit('Where', [cond, a, b], [{ dtype: a.dtype, shape }])[0];
  }

  cast(x: Value, to: DType): Value {
    if (x.dtype === to) return x;
    const codes: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
    return this.emit('Cast', [x], [{ dtype: to, shape: x.shape }], { to: int(codes[to]) })[0];
  }

  matmul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) throw new Error('matmul needs rank >= 2');
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
    return this.emit('MatMul', [a, b], [{ dtype: a.dtype, shape }])[0];
  }

  /** 2-D alpha * op(a) @ op(b), with the transposes folded into the kernel instead of materialised. */
  gemm(a: Value, b: Value, opts: { transA?: boolean; transB?: boolean; alpha?: number } = {}): Value {
    const m = opts.transA ? a.shape[1] : a.shape[0];
    const n = opts.transB ? b.shape[0] : b.shape[1];
    const attrs: Record<string, Attr> = {};
    if (opts.transA) attrs.transA = int(1);
    if (opts.transB) attrs.transB = int(1);
    if (opts.alpha !== undefined && opts.alpha !== 1) attrs.alpha = float(opts.alpha);
    return this.emit('Gemm', [a, b], [{ dtype: a.dtype, shape: [m, n] }], attrs)[0];
  }

  /** ONNX Reshape: 0 copies the input's dimension, -1 is inferred. */
  reshape(x: Value, spec: number[]): Value {
    const shape: Dim[] = spec.map((s, i) => (s === 0 ? x.shape[i] : s));
    const inferred = shape.indexOf(-1);
    if (inferred >= 0) {
      const total = product(x.shape);
      const rest = product(shape.filter((_, i) => i !== inferred));
      shape[inferred] = typeof total === 'number' && typeof rest === 'number' ? total / rest : this.sym('r');
    }
    return this.emit('Reshape', [x, this.int64s(spec)], [{ dtype: x.dtype, shape }])[0];
  }

  /** Reshape to the run-time shape held in `shapeOf` (an int64 vector), e.g. `shape(y)` of another value. */
  reshapeTo(x: Value, shapeOf: Value, shape: readonly Dim[]): Value {
    return this.emit('Reshape', [x, shapeOf], [{ dtype: x.dtype, shape }])[0];
  }

  transpose(x: Value, perm: number[]): Value {
    const shape = perm.map((p) => x.shape[p]);
    return this.emit('Transpose', [x], [{ dtype: x.dtype, shape }], { perm: ints(perm) })[0];
  }

  /** `name` names the result, e.g. after the graph output it is, so no Identity has to copy it there. */
  concat(xs: Value[], axis: number, name?: string): Value {
    const rank = xs[0].shape.length;
    const a = normAxis(axis, rank);
    const shape = [...xs[0].shape];
    shape[a] = xs.every((x) => typeof x.shape[a] === 'number') ? xs.reduce((s, x) => s + (x.shape[a] as number), 0) : this.sym('cat');
    return this.emit('Concat', xs, [{ dtype: xs[0].dtype, shape, name }], { axis: int(a) })[0];
  }

  /**
   * Initializers stacked along axis 0 as one initializer, concatenated when the graph is written (a
   * Concat node over them would make onnxruntime fold it at every session start: a copy of every
   * stacked weight, a third of the embedded model's load time). Other values get a Concat node.
   */
  stack(xs: Value[]): Value {
    const sources = xs.map((x) => this.initializers.get(x.name));
    if (sources.some((i) => !i) || xs.some((x) => x.shape.some((d) => typeof d !== 'number'))) return this.concat(xs, 0);
    const shape = [xs.reduce((n, x) => n + (x.shape[0] as number), 0), ...xs[0].shape.slice(1)];
    return this.initializer(this.fresh('stacked'), xs[0].dtype, shape, () => concatSources(sources.map((i) => i!.data)));
  }

  split(x: Value, axis: number, sizes: number[]): Value[] {
    const a = normAxis(axis, x.shape.length);
    const outs = sizes.map((s) => {
      const shape = [...x.shape];
      shape[a] = s;
      return { dtype: x.dtype, shape };
    });
    return this.emit('Split', [x, this.int64s(sizes)], outs, { axis: int(a) });
  }

  /** Slice with constant bounds along the given axes (step 1). */
  slice(x: Value, axes: number[], starts: number[], ends: number[]): Value {
    const shape = [...x.shape];
    axes.forEach((ax, i) => {
      const a = normAxis(ax, x.shape.length);
      const d = x.shape[a];
      const clamp = (v: number, size: number) => Math.max(0, Math.min(size, v < 0 ? v + size : v));
      shape[a] = typeof d === 'number' ? clamp(ends[i], d) - clamp(starts[i], d) : this.sym('sl');
    });
    return this.emit('Slice', [x, this.int64s(starts), this.int64s(ends), this.int64s(axes)], [{ dtype: x.dtype, shape }])[0];
  }

  gather(data: Value, indices: Value, axis = 0): Value {
    const a = normAxis(axis, data.shape.length);
    const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
    return this.emit('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: int(a) })[0];
  }

  gatherElements(data: Value, indices: Value, axis: number): Value {
    const a = normAxis(axis, data.shape.length);
    return this.emit('GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], { axis: int(a) })[0];
  }

  unsqueeze(x: Value, axes: number[]): Value {
    const rank = x.shape.length + axes.length;
    const norm = axes.map((a) => normAxis(a, rank)).sort((p, q) => p - q);
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
    return this.emit('Unsqueeze', [x, this.int64s(norm)], [{ dtype: x.dtype, shape }])[0];
  }

  squeeze(x: Value, axes: number[]): Value {
    const norm = axes.map((a) => normAxis(a, x.shape.length));
    const shape = x.shape.filter((_, i) => !norm.includes(i));
    return this.emit('Squeeze', [x, this.int64s(norm)], [{ dtype: x.dtype, shape }])[0];
  }

  /** Broadcast `x` to the run-time shape `shapeOf` (an int64 vector) whose static form is `shape`. */
  expand(x: Value, shapeOf: Value, shape: readonly Dim[]): Value {
    return this.emit('Expand', [x, shapeOf], [{ dtype: x.dtype, shape }])[0];
  }

  /** The run-time shape of `x` (or of dims [start, end)) as an int64 vector. */
  shapeOf(x: Value, start?: number, end?: number): Value {
    const attrs: Record<string, Attr> = {};
    if (start !== undefined) attrs.start = int(start);
    if (end !== undefined) attrs.end = int(end);
    const n = (end ?? x.shape.length) - (start ?? 0);
    return this.emit('Shape', [x], [{ dtype: 'int64', shape: [n] }], attrs)[0];
  }

  softmax(x: Value, axis = -1): Value {
    return this.emit('Softmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: int(normAxis(axis, x.shape.length)) })[0];
  }

  logSoftmax(x: Value, axis = -1): Value {
    return this.emit('LogSoftmax', [x], [{ dtype: x.dtype, shape: x.shape }], { axis: int(normAxis(axis, x.shape.length)) })[0];
  }

  reduce(op: ReduceOp, x: Value, axes: number[], keepdims = true): Value {
    const norm = axes.map((a) => normAxis(a, x.shape.length));
    const shape = keepdims ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.includes(i));
    return this.emit(op, [x, this.int64s(norm)], [{ dtype: x.dtype, shape }], { keepdims: int(keepdims ? 1 : 0) })[0];
  }

  sum = (x: Value, axes: number[], keepdims = true) => this.reduce('ReduceSum', x, axes, keepdims);
  mean = (x: Value, axes: number[], keepdims = true) => this.reduce('ReduceMean', x, axes, keepdims);

  /** [start, limit) with step `delta`; all three are scalars of one type. */
  range(start: Value, limit: Value, delta: Value, length: Dim = this.sym('n')): Value {
    return this.emit('Range', [start, limit, delta], [{ dtype: start.dtype, shape: [length] }])[0];
  }

  /** Lower (upper=0) or upper triangle of the last two dims, offset by k. */
  trilu(x: Value, upper: boolean, k = 0): Value {
    return this.emit('Trilu', [x, this.constant('int64', [], [k])], [{ dtype: x.dtype, shape: x.shape }], { upper: int(upper ? 1 : 0) })[0];
  }
}
