// The two ways to form dx = g @ W in QLoRA's backward pass over a frozen quantized W [N, K],
// timed on the projection shapes of a 0.5B model (Qwen2.5-Coder-0.5B) at one 512-token sequence:
//   dequantize: W rebuilt in float32 inside the graph, then one Gemm (what the autodiff rule emits);
//   transposed: a second quantized copy of Wᵀ [K, N] (blocks along N), run through MatMulNBits;
//   float:      a float32 W and one Gemm, for scale.
// The transposed copy re-rounds W, so its max error against the dequantized W is printed too.
//
//   node dist/bench/qlora-backward.js [--rows 512] [--threads 2] [--bits 4]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder } from '../engine/graph/builder.js';
import { writeOnnxModel } from '../engine/graph/onnx-writer.js';
import { dequantizeValues, matMulNBits, runtimeTrue, type QuantizedValues } from '../engine/quant/dequantize-graph.js';
import { dequantizeWeight, quantizeWeight } from '../engine/quant/quantize.js';
import type { QuantizedWeight } from '../engine/quant/quantized-weight.js';
import { Rng } from '../common/index.js';
import { openSession, ort } from '../engine/session.js';

function initializers(b: Builder, q: QuantizedWeight): QuantizedValues {
  const blocks = Math.ceil(q.cols / q.blockSize);
  return {
    bits: q.bits,
    blockSize: q.blockSize,
    rows: q.rows,
    cols: q.cols,
    data: b.initializer('w.data', 'uint8', [q.rows, blocks, (q.blockSize * q.bits) / 8], q.data),
    scales: b.initializer('w.scales', 'float32', [q.scales.length], q.scales),
    zeroPoints: b.initializer('w.zp', 'uint8', [q.zeroPoints.length], q.zeroPoints),
  };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

async function timeGraph(
  b: Builder,
  g: Float32Array,
  dims: number[],
  threads: number,
  reps: number,
): Promise<{ ms: number; out: Float32Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-qlora-bw-'));
  try {
    const session = await openSession(writeOnnxModel(b, join(dir, 'm')), { threads });
    const feeds = { g: new ort.Tensor('float32', g, dims) };
    let out = (await session.run(feeds)).y.data as Float32Array;
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      out = (await session.run(feeds)).y.data as Float32Array;
      times.push(performance.now() - t0);
    }
    await session.release();
    times.sort((a, c) => a - c);
    return { ms: times[Math.floor(times.length / 2)], out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchQloraBackward(o: {
  rows: number;
  threads: number;
  bits: 4 | 8;
  reps: number;
  log: (l: string) => void;
}): Promise<void> {
  const shapes: [string, number, number][] = [
    ['q_proj/o_proj', 896, 896],
    ['gate/up_proj', 4864, 896],
    ['down_proj', 896, 4864],
  ];
  const rng = new Rng(3);
  o.log(`dx = g @ W, g [${o.rows}, N], ${o.bits}-bit W [N, K], ${o.threads} threads, median of ${o.reps}`);
  o.log('projection      N x K        dequantize ms  transposed ms  float ms  max |dx - float dx|: dequantize  transposed');
  for (const [name, N, K] of shapes) {
    const w = Float32Array.from({ length: N * K }, () => 0.02 * rng.normal());
    const q = quantizeWeight(w, N, K, o.bits);
    const deq = dequantizeWeight(q);
    const qt = quantizeWeight(transpose(deq, N, K), K, N, o.bits);
    const g = Float32Array.from({ length: o.rows * N }, () => rng.normal());
    const dims = [o.rows, N];

    const a = new Builder('float32');
    const ga = a.input('g', 'float32', ['m', N]);
    a.output(a.gemm(ga, dequantizeValues(a, initializers(a, q), runtimeTrue(a, ga))), 'y');
    const t = new Builder('float32');
    t.output(matMulNBits(t, t.input('g', 'float32', ['m', N]), initializers(t, qt)), 'y');
    const f = new Builder('float32');
    f.output(f.gemm(f.input('g', 'float32', ['m', N]), f.initializer('w', 'float32', [N, K], deq)), 'y');

    const ra = await timeGraph(a, g, dims, o.threads, o.reps);
    const rt = await timeGraph(t, g, dims, o.threads, o.reps);
    const rf = await timeGraph(f, g, dims, o.threads, o.reps);
    let errT = 0;
    let errA = 0;
    for (let i = 0; i < rf.out.length; i++) {
      errT = Math.max(errT, Math.abs(rt.out[i] - rf.out[i]));
      errA = Math.max(errA, Math.abs(ra.out[i] - rf.out[i]));
    }
    const cells = [
      ra.ms.toFixed(1).padStart(13),
      rt.ms.toFixed(1).padStart(13),
      rf.ms.toFixed(1).padStart(8),
      errA.toExponential(1).padStart(30),
      errT.toExponential(1).padStart(11),
    ];
    o.log(`${name.padEnd(14)}  ${`${N}x${K}`.padEnd(11)}  ${cells.join('  ')}`);
  }
}

if (process.argv[1]?.endsWith('qlora-backward.js')) {
  const arg = (n: string, d: number) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  await benchQloraBackward({
    rows: arg('rows', 512),
    threads: arg('threads', 2),
    bits: arg('bits', 4) === 8 ? 8 : 4,
    reps: arg('reps', 5),
    log: (l) => console.log(l),
  });
}
