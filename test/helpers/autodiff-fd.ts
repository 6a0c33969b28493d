// Checks gradients from `grad` against central finite differences, running the graphs with onnxruntime.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grad } from '../../engine/autodiff/grad.js';
import { Builder } from '../../engine/graph/builder.js';
import type { DType } from '../../engine/graph/dtype.js';
import type { Dim, Value } from '../../engine/graph/graph.js';
import { writeOnnxModel } from '../../engine/graph/onnx-writer.js';
import { Rng } from '../../common/index.js';
import { openSession, ort } from '../../engine/session.js';

export interface Operand {
  name: string;
  /** The graph's (possibly symbolic) shape; defaults to `dims`. */
  shape?: Dim[];
  /** The run-time shape. */
  dims: number[];
  dtype?: DType;
  /** Values; random normal when omitted. */
  values?: number[];
  /** Differentiated and perturbed; default true for float operands. */
  trainable?: boolean;
}

export interface CheckOptions {
  dtype?: 'float64' | 'float32';
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

type Feeds = Record<string, ort.Tensor>;

const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

function tensor(dtype: DType, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  switch (dtype) {
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(values), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(values), dims);
    default:
      throw new Error(`no test tensors of ${dtype}`);
  }
}

/** Writes `b` to a temporary folder and opens it on one thread; `close` removes both. */
export async function openGraph(b: Builder): Promise<{ session: ort.InferenceSession; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'codefudge-autodiff-'));
  try {
    const session = await openSession(writeOnnxModel(b, join(dir, 'model')), { threads: 1 });
    return {
      session,
      close: async () => {
        await session.release();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= atol + rtol * Math.abs(expected[i]), `${label}[${i}]: ${actual[i]} vs ${expected[i]} (error ${err})`);
  }
}

function isFloatType(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/**
 * Builds `y = build(b, operands)` and `loss = sum(y * r)` for a fixed random `r`, differentiates
 * the loss with respect to every trainable operand, and compares each gradient element with
 * (loss(x + eps) - loss(x - eps)) / 2 eps. Returns the builder so callers can inspect the graph.
 */
export async function checkGradients(
  build: (b: Builder, xs: Value[]) => Value,
  operands: Operand[],
  opts: CheckOptions = {},
): Promise<Builder> {
  const dtype = opts.dtype ?? 'float64';
  const rng = new Rng(opts.seed ?? 1);
  const eps = opts.eps ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const rtol = opts.rtol ?? (dtype === 'float64' ? 1e-6 : 2e-2);
  const atol = opts.atol ?? (dtype === 'float64' ? 1e-8 : 2e-3);
  const typeOf = (o: Operand) => o.dtype ?? dtype;
  const data = operands.map((o) => o.values ?? Array.from({ length: size(o.dims) }, () => rng.normal()));
  const trainable = operands.filter((o) => o.trainable ?? isFloatType(typeOf(o)));
  const feedsFor = (values: number[][]): Feeds =>
    Object.fromEntries(operands.map((o, i) => [o.name, tensor(typeOf(o), values[i], o.dims)]));

  // First pass: the run-time shape of y, to draw r.
  const probe = new Builder(dtype);
  probe.output(
    build(
      probe,
      operands.map((o) => probe.input(o.name, typeOf(o), o.shape ?? o.dims)),
    ),
    'y',
  );
  const p = await openGraph(probe);
  const yDims = ((await p.session.run(feedsFor(data))).y.dims as number[]).slice();
  await p.close();
  const r = Array.from({ length: size(yDims) }, () => rng.normal());

  // The loss with its gradients' nodes, run once; the 2n perturbed runs use the loss alone, so each
  // costs one forward pass (a backward pass can cost far more, e.g. dequantizing a weight).
  const lossGraph = (withGrads: boolean): Builder => {
    const b = new Builder(dtype);
    const xs = operands.map((o) => b.input(o.name, typeOf(o), o.shape ?? o.dims));
    const y = build(b, xs);
    const rIn = b.input('r', dtype, y.shape);
    const loss = b.sum(
      b.mul(y, rIn),
      y.shape.map((_, i) => i),
      false,
    );
    b.output(loss, 'loss');
    if (withGrads) {
      const wrt = xs.filter((_, i) => trainable.includes(operands[i]));
      const grads = grad(b, loss, wrt);
      wrt.forEach((w) => b.output(grads.get(w.name)!, `grad_${w.name}`));
    }
    return b;
  };
  const b = lossGraph(true);
  const rTensor = tensor(dtype, r, yDims);
  const feeds = (values: number[][]): Feeds => ({ ...feedsFor(values), r: rTensor });
  const analyticRun = await openGraph(b);
  let base: ort.InferenceSession.ReturnType;
  try {
    base = await analyticRun.session.run(feeds(data));
  } finally {
    await analyticRun.close();
  }

  const { session, close } = await openGraph(lossGraph(false));
  try {
    const run = async (values: number[][]) => session.run(feeds(values));
    for (const o of trainable) {
      const k = operands.indexOf(o);
      const numeric = new Float64Array(data[k].length);
      for (let j = 0; j < numeric.length; j++) {
        const at = (delta: number) => data.map((v, i) => (i === k ? v.map((x, m) => (m === j ? x + delta : x)) : v));
        const plus = Number((await run(at(eps))).loss.data[0]);
        const minus = Number((await run(at(-eps))).loss.data[0]);
        numeric[j] = (plus - minus) / (2 * eps);
      }
      const analytic = base[`grad_${o.name}`];
      assert.deepEqual(analytic.dims, o.dims, `grad_${o.name} shape`);
      assertClose(Array.from(analytic.data as Float64Array, Number), numeric, rtol, atol, `grad_${o.name}`);
    }
  } finally {
    await close();
  }
  return b;
}
