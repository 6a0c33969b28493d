// Every vector-Jacobian rule against central finite differences, in float64 and again in float32.
import { test } from 'node:test';
import type { Builder } from '../../engine/graph/builder.js';
import type { Dim, Value } from '../../engine/graph/graph.js';
import { Rng } from '../../common/index.js';
import { checkGradients, type CheckOptions, type Operand } from '../helpers/autodiff-fd.js';

const rng = new Rng(7);
const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
/** A float operand; `shape` gives it symbolic dims in the graph. */
const x = (name: string, dims: number[], shape?: Dim[]): Operand => ({ name, dims, shape });
/** Values bounded away from zero (for Log, Sqrt, Reciprocal, Abs, Relu kinks). */
const away = (name: string, dims: number[], positive = false): Operand => ({
  name,
  dims,
  values: Array.from({ length: size(dims) }, () => (0.5 + rng.next()) * (positive || rng.next() < 0.5 ? 1 : -1)),
});
const ints = (name: string, dims: number[], values: number[]): Operand => ({ name, dims, values, dtype: 'int64' });

/** Checks in float64 (exact enough to test the maths) and again in float32 (the kernels training runs). */
function check(name: string, build: (b: Builder, v: Value[]) => Value, operands: Operand[], opts?: CheckOptions) {
  test(name, async () => {
    await checkGradients(build, operands, opts);
  });
  if (opts?.dtype) return;
  test(`float32: ${name}`, async () => {
    await checkGradients(build, operands, { dtype: 'float32' });
  });
}

// Unary
check('Neg', (b, [a]) => b.neg(a), [x('a', [2, 3])]);
check('Exp', (b, [a]) => b.exp(a), [x('a', [2, 3])]);
check('Log', (b, [a]) => b.log(a), [away('a', [2, 3], true)]);
check('Sqrt', (b, [a]) => b.sqrt(a), [away('a', [2, 3], true)]);
check('Reciprocal', (b, [a]) => b.reciprocal(a), [away('a', [2, 3])]);
check('Sigmoid', (b, [a]) => b.sigmoid(a), [x('a', [2, 3])]);
check('Tanh', (b, [a]) => b.tanh(a), [x('a', [2, 3])]);
check('Cos', (b, [a]) => b.cos(a), [x('a', [2, 3])]);
check('Sin', (b, [a]) => b.sin(a), [x('a', [2, 3])]);
check('Abs', (b, [a]) => b.abs(a), [away('a', [2, 3])]);
check('Relu', (b, [a]) => b.relu(a), [away('a', [2, 3])]);
check('Identity', (b, [a]) => b.identity(a), [x('a', [2, 3])]);
// Float64 -> float32 -> float64 loses precision, so the differences are taken at a wider step.
check(
  'Cast between float types',
  (b, [a]) => b.emit('Cast', [b.cast(a, 'float32')], [{ dtype: 'float64', shape: a.shape }], { to: { kind: 'int', value: 11 } })[0],
  [x('a', [2, 3])],
  { dtype: 'float64', eps: 1e-3, rtol: 1e-4, atol: 1e-4 },
);

// Binary, with broadcasting
check('Add with a bias [n] over [b, s, n]', (b, [a, c]) => b.add(a, c), [x('a', [2, 3, 4]), x('bias', [4])]);
check('Add with 1-dims on both sides', (b, [a, c]) => b.add(a, c), [x('a', [2, 1, 4]), x('c', [3, 1])]);
check('Sub with a scalar operand', (b, [a, c]) => b.sub(a, c), [x('a', [2, 3]), x('s', [])]);
check('Sub with the scalar first', (b, [a, c]) => b.sub(c, a), [x('a', [2, 3]), x('s', [])]);
check('Mul broadcasting [2, 1] against [1, 3]', (b, [a, c]) => b.mul(a, c), [x('a', [2, 1]), x('c', [1, 3])]);
check('Mul of a value with itself', (b, [a]) => b.mul(a, a), [x('a', [2, 3])]);
check('Div broadcasting', (b, [a, c]) => b.div(a, c), [x('a', [2, 3]), away('c', [3])]);
check('Pow with a constant exponent', (b, [a]) => b.pow(a, b.scalar(2.5)), [away('a', [2, 3], true)]);
check('Pow with both operands trained', (b, [a, c]) => b.pow(a, c), [away('a', [2, 3], true), x('p', [3])]);
check('Max', (b, [a, c]) => b.max(a, c), [x('a', [2, 3]), x('c', [3])]);
check('Min', (b, [a, c]) => b.min(a, c), [x('a', [2, 3]), x('c', [2, 1])]);
check('Where sends the gradient to the chosen branch', (b, [cond, a, c]) => b.where(cond, a, c), [
  { name: 'cond', dims: [2, 3], dtype: 'bool', values: [1, 0, 0, 1, 1, 0] },
  x('a', [2, 3]),
  x('c', [3]),
]);
check('Add with symbolic batch dims', (b, [a, c]) => b.add(a, c), [x('a', [3, 2, 4], ['n', 2, 4]), x('c', [1, 2, 1])]);

// Products
check('MatMul [b, s, k] @ [k, n] (weight path: one Gemm)', (b, [a, w]) => b.matmul(a, w), [x('a', [2, 3, 4]), x('w', [4, 5])]);
check('MatMul 2-D', (b, [a, w]) => b.matmul(a, w), [x('a', [3, 4]), x('w', [4, 2])]);
check('MatMul batched', (b, [a, w]) => b.matmul(a, w), [x('a', [2, 3, 4]), x('w', [2, 4, 5])]);
check('MatMul with broadcast batch dims', (b, [a, w]) => b.matmul(a, w), [x('a', [2, 1, 3, 4]), x('w', [3, 4, 2])]);
check('MatMul with a symbolic batch', (b, [a, w]) => b.matmul(a, w), [x('a', [3, 2, 4], ['n', 'm', 4]), x('w', [4, 2])]);
for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    check(`Gemm transA=${transA} transB=${transB} alpha=0.7`, (b, [a, w]) => b.gemm(a, w, { transA, transB, alpha: 0.7 }), [
      x('a', transA ? [4, 3] : [3, 4]),
      x('w', transB ? [5, 4] : [4, 5]),
    ]);
  }
}
check(
  'Gemm with a bias operand and beta',
  (b, [a, w, c]) =>
    b.emit('Gemm', [a, w, c], [{ dtype: a.dtype, shape: [3, 5] }], {
      transB: { kind: 'int', value: 1 },
      beta: { kind: 'float', value: 0.5 },
    })[0],
  [x('a', [3, 4]), x('w', [5, 4]), x('c', [5])],
);

// Shape ops
check('Reshape', (b, [a]) => b.reshape(a, [3, 2, 2]), [x('a', [2, 6])]);
check('Reshape with symbolic dims', (b, [a]) => b.reshape(a, [0, 2, 3]), [x('a', [4, 6], ['n', 6])]);
check('Reshape of two symbols into one', (b, [a]) => b.reshape(a, [-1, 3]), [x('a', [2, 2, 3], ['p', 'q', 3])]);
check('Transpose', (b, [a]) => b.transpose(a, [2, 0, 1]), [x('a', [2, 3, 4])]);
check('Concat of three, one frozen', (b, [a, c, d]) => b.concat([a, c, d], 1), [
  x('a', [2, 1, 3]),
  { name: 'c', dims: [2, 2, 3], trainable: false },
  x('d', [2, 3, 3]),
]);
check('Concat along a symbolic axis', (b, [a, c]) => b.concat([a, c], 0), [x('a', [2, 3], ['n', 3]), x('c', [1, 3])]);
check(
  'Split with an unused part',
  (b, [a]) => {
    const [p, , r] = b.split(a, 1, [1, 2, 2]);
    return b.mul(p, b.sum(r, [1], true));
  },
  [x('a', [2, 5])],
);
check('Slice with negative bounds', (b, [a]) => b.slice(a, [1, 2], [-3, 1], [-1, 100]), [x('a', [2, 4, 3])]);
check('Slice on a symbolic axis', (b, [a]) => b.slice(a, [0, 1], [1, -2], [1000, -1]), [x('a', [4, 5], ['n', 'm'])]);
check('Unsqueeze', (b, [a]) => b.unsqueeze(a, [0, 2]), [x('a', [2, 3])]);
check('Squeeze', (b, [a]) => b.squeeze(a, [1]), [x('a', [2, 1, 3])]);
check('Expand', (b, [a]) => b.expand(a, b.int64s([2, 3, 4]), [2, 3, 4]), [x('a', [3, 1])]);
check('Trilu', (b, [a]) => b.trilu(a, false, 1), [x('a', [2, 3, 3])]);

// Indexing
check('Gather rows with repeats (embeddings)', (b, [e, i]) => b.gather(e, i, 0), [
  x('emb', [5, 3]),
  ints('ids', [2, 3], [1, 4, 1, 0, 1, 3]),
]);
check('Gather on axis 1 with 2-D indices', (b, [e, i]) => b.gather(e, i, 1), [x('data', [2, 4, 3]), ints('idx', [2, 2], [3, 0, 3, 2])]);
check('Gather with a symbolic number of indices', (b, [e, i]) => b.gather(e, i, 0), [
  x('emb', [4, 2]),
  { ...ints('ids', [5], [0, 2, 2, 3, 0]), shape: ['n'] },
]);
check('GatherElements with repeats', (b, [d, i]) => b.gatherElements(d, i, 1), [x('d', [2, 4]), ints('i', [2, 3], [1, 1, 3, 0, 2, 0])]);

// Normalisers and reductions
check('Softmax on the last axis', (b, [a]) => b.softmax(a, -1), [x('a', [2, 4])]);
check('Softmax on a middle axis', (b, [a]) => b.softmax(a, 1), [x('a', [2, 3, 2])]);
check('LogSoftmax', (b, [a]) => b.logSoftmax(a, -1), [x('a', [2, 4])]);
check('ReduceSum keepdims', (b, [a]) => b.sum(a, [1], true), [x('a', [2, 3, 4])]);
check('ReduceSum over two axes, dropped', (b, [a]) => b.sum(a, [0, 2], false), [x('a', [2, 3, 4])]);
check('ReduceMean', (b, [a]) => b.mean(a, [-1], true), [x('a', [2, 3, 4])]);
check('ReduceMean over a symbolic axis', (b, [a]) => b.mean(a, [0], false), [x('a', [3, 2], ['n', 2])]);
check('ReduceMean keeping a symbolic axis', (b, [a]) => b.mean(a, [1], true), [x('a', [3, 4], ['n', 'm'])]);
check('ReduceMax', (b, [a]) => b.reduce('ReduceMax', a, [1], false), [x('a', [2, 5])]);
check('ReduceLogSumExp', (b, [a]) => b.reduce('ReduceLogSumExp', a, [1], false), [x('a', [3, 4])]);

// A composite as the decoder uses it
check(
  'RMSNorm',
  (b, [a, w]) => {
    const inv = b.reciprocal(b.sqrt(b.add(b.mean(b.mul(a, a), [-1]), b.scalar(1e-6))));
    return b.mul(b.mul(a, inv), w);
  },
  [x('h', [3, 4], ['n', 4]), x('w', [4])],
);

// The same rules in float32 (what training runs in), with a tolerance fit for single precision.
check(
  'float32: Softmax, Gemm and Gather together',
  (b, [e, w, i]) => b.softmax(b.gemm(b.gather(e, i, 0), w, { transB: true }), -1),
  [x('emb', [4, 3]), x('w', [5, 3]), ints('ids', [3], [2, 0, 2])],
  { dtype: 'float32' },
);
