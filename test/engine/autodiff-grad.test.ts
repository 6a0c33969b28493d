// grad() as a whole: accumulation over shared values, pruning of frozen weights, stops, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad } from '../../engine/autodiff/grad.js';
import { Builder } from '../../engine/graph/builder.js';
import type { Node, Value } from '../../engine/graph/graph.js';
import { assertClose, checkGradients, openGraph } from '../helpers/autodiff-fd.js';
import { ort } from '../../engine/session.js';

const f64 = (values: number[], dims: number[]) => new ort.Tensor('float64', Float64Array.from(values), dims);

test('a value used by several nodes sums its gradients', async () => {
  await checkGradients(
    (b, [x, w]) => {
      const h = b.gemm(x, w, { transB: true });
      return b.add(b.mul(h, b.exp(x)), b.sin(b.mul(x, h)));
    },
    [
      { name: 'x', dims: [3, 4] },
      { name: 'w', dims: [4, 4] },
    ],
  );
});

test('integer casts stop the gradient: d/dx x * trunc(x) = trunc(x)', async () => {
  await checkGradients(
    (b, [x]) => b.mul(x, b.cast(b.cast(x, 'int64'), 'float64')),
    [{ name: 'x', dims: [5], values: [-2.3, -0.6, 0.4, 1.7, 3.2] }],
  );
});

function backwardNodes(b: Builder, forwardCount: number): Node[] {
  return b.nodes.slice(forwardCount);
}

test('a frozen weight gets no gradient nodes and its branch no backward work', () => {
  const b = new Builder('float64');
  const x = b.input('x', 'float64', ['n', 4]);
  const frozen = b.input('w_frozen', 'float64', [6, 4]);
  const trained = b.input('a_trained', 'float64', [3, 6]);
  const other = b.input('other_frozen', 'float64', [3]);
  const h = b.gemm(x, frozen, { transB: true });
  const y = b.add(b.gemm(h, trained, { transB: true }), b.exp(other));
  const loss = b.sum(b.mul(y, y), [0, 1], false);
  const forwardCount = b.nodes.length;
  const grads = grad(b, loss, [trained]);
  const back = backwardNodes(b, forwardCount);
  const uses = (v: Value) => back.filter((n) => n.inputs.includes(v.name));
  assert.deepEqual(uses(x), [], 'x is only needed for the frozen weight');
  assert.deepEqual(uses(frozen), [], 'no gradient flows through the frozen weight');
  assert.deepEqual(uses(other), [], 'the frozen bias branch is not differentiated');
  assert.equal(back.filter((n) => n.op === 'Gemm').length, 1, 'one Gemm: d a_trained = g^T h');
  assert.equal(back.filter((n) => n.op === 'Exp').length, 0);
  assert.deepEqual([...grads.keys()], ['a_trained']);
  assert.deepEqual(grads.get('a_trained')!.shape, [3, 6]);
});

test('the gradient of an intermediate value, and zeros for a value the loss ignores', async () => {
  const b = new Builder('float64');
  const x = b.input('x', 'float64', [2, 3]);
  const unused = b.input('unused', 'float64', [4]);
  const h = b.mul(x, b.scalar(2));
  const loss = b.sum(b.mul(h, h), [0, 1], false);
  const grads = grad(b, loss, [h, x, unused]);
  b.output(grads.get(h.name)!, 'dh');
  b.output(grads.get('x')!, 'dx');
  b.output(grads.get('unused')!, 'dunused');
  const { session, close } = await openGraph(b);
  try {
    const xs = [0.5, -1, 2, 0.25, 3, -0.75];
    const out = await session.run({ x: f64(xs, [2, 3]), unused: f64([1, 2, 3, 4], [4]) });
    assertClose(
      out.dh.data as Float64Array,
      xs.map((v) => 4 * v),
      0,
      1e-12,
      'dh = 2h',
    );
    assertClose(
      out.dx.data as Float64Array,
      xs.map((v) => 8 * v),
      0,
      1e-12,
      'dx = 8x',
    );
    assert.deepEqual(Array.from(out.dunused.data as Float64Array), [0, 0, 0, 0]);
  } finally {
    await close();
  }
});

test('a seed gives a vector-Jacobian product of a non-scalar output', async () => {
  const b = new Builder('float64');
  const x = b.input('x', 'float64', [3]);
  const seed = b.input('seed', 'float64', [3]);
  const y = b.mul(x, x);
  b.output(grad(b, y, [x], { seed }).get('x')!, 'dx');
  const { session, close } = await openGraph(b);
  try {
    const out = await session.run({ x: f64([1, 2, 3], [3]), seed: f64([1, 10, 100], [3]) });
    assert.deepEqual(Array.from(out.dx.data as Float64Array), [2, 40, 600]);
  } finally {
    await close();
  }
});

test('an op without a rule on the gradient path is named in the error', () => {
  const b = new Builder('float64');
  const x = b.input('x', 'float64', [3]);
  const y = b.emit('Erf', [x], [{ dtype: 'float64', shape: [3] }])[0];
  const loss = b.sum(y, [0], false);
  assert.throws(() => grad(b, loss, [x]), /no gradient rule for op Erf/);
});

test('the same op off the gradient path is not an error', () => {
  const b = new Builder('float64');
  const x = b.input('x', 'float64', [3]);
  const frozen = b.input('frozen', 'float64', [3]);
  const loss = b.sum(b.mul(x, b.emit('Erf', [frozen], [{ dtype: 'float64', shape: [3] }])[0]), [0], false);
  assert.equal(grad(b, loss, [x]).size, 1);
});

test('integer values cannot be differentiated', () => {
  const b = new Builder('float64');
  const ids = b.input('ids', 'int64', [3]);
  const loss = b.sum(b.cast(ids, 'float64'), [0], false);
  assert.throws(() => grad(b, loss, [ids]), /"ids" is int64, not a float/);
});
