// QLoRA: LoRA over frozen int4/int8 weights. The MatMulNBits rule against finite differences, and
// the whole training graph's loss and gradients against the float model whose weights are the
// dequantized values (its float64 graph, and finite differences of the float64 reference forward).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  dequantizeWeight,
  expectedTensors,
  layoutForSpec,
  matMulNBits,
  openModelFolder,
  quantBitsFor,
  quantizeWeight,
  TrainingSession,
  type LoraModule,
  type ModelConfig,
  type QuantMode,
  type QuantizedValues,
  type QuantizedWeight,
} from '../../engine/index.js';
import { Builder } from '../../engine/graph/builder.js';
import { slicedQuantizedHead } from '../../engine/llama/loss.js';
import { ort } from '../../engine/session.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';
import { checkGradients, openGraph } from '../helpers/autodiff-fd.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-qlora-grads-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A quantized [rows, cols] weight as initializers of `b`. */
function quantizedInit(b: Builder, bits: 4 | 8, rows: number, cols: number, seed: number): QuantizedValues {
  return quantizedPair(b, bits, rows, cols, seed).values;
}

/** Quantized weights by their arguments: checkGradients builds its graph three times, and the search quantizer is slow. */
const quantized = new Map<string, QuantizedWeight>();

/** The same, with the quantized weight itself. */
function quantizedPair(b: Builder, bits: 4 | 8, rows: number, cols: number, seed: number): { q: QuantizedWeight; values: QuantizedValues } {
  const key = `${bits} ${rows} ${cols} ${seed}`;
  let q = quantized.get(key);
  if (!q) {
    const rng = new Rng(seed);
    q = quantizeWeight(
      Float32Array.from({ length: rows * cols }, () => rng.normal()),
      rows,
      cols,
      bits,
    );
    quantized.set(key, q);
  }
  return { q, values: quantizedValues(b, q, seed) };
}

function quantizedValues(b: Builder, q: QuantizedWeight, seed: number): QuantizedValues {
  const { bits, rows, cols } = q;
  const blocks = Math.ceil(cols / 32);
  return {
    bits,
    blockSize: 32,
    rows,
    cols,
    data: b.initializer(`w${seed}.data`, 'uint8', [rows, blocks, (32 * bits) / 8], q.data),
    scales: b.initializer(`w${seed}.scales`, 'float32', [q.scales.length], q.scales),
    zeroPoints: b.initializer(`w${seed}.zp`, 'uint8', [q.zeroPoints.length], q.zeroPoints),
  };
}

describe('MatMulNBits gradient rule vs finite differences (float32: the op has no float64 kernel)', () => {
  for (const bits of [4, 8] as const) {
    // x @ Wᵀ is linear in x, so central differences are exact up to float32 rounding.
    it(`${bits}-bit, K = 80 (a padded tail block, an odd block count), x [5, 80]`, async () => {
      await checkGradients(
        (b, [x]) => matMulNBits(b, x, quantizedInit(b, bits, 6, 80, bits)),
        [{ name: 'x', dims: [5, 80], dtype: 'float32' }],
        { dtype: 'float32', eps: 0.5, rtol: 1e-3, atol: 1e-3 },
      );
    });
    it(`${bits}-bit, rank-3 input with a symbolic row count`, async () => {
      await checkGradients(
        (b, [x]) => b.mul(matMulNBits(b, x, quantizedInit(b, bits, 4, 64, 10 + bits)), b.scalar(1.5, x)),
        [{ name: 'x', dims: [2, 3, 64], shape: ['n', 3, 64], dtype: 'float32' }],
        { dtype: 'float32', eps: 0.5, rtol: 1e-3, atol: 1e-3 },
      );
    });
  }
  // The loss sums 140000 products in float32; a large step keeps its rounding out of the difference quotient (x @ Wᵀ is linear).
  it('a weight big enough to be dequantized in row slices (70000 x 64: 65536 rows, then 4464)', async () => {
    await checkGradients(
      (b, [x]) => matMulNBits(b, x, quantizedInit(b, 4, 70000, 64, 21)),
      [{ name: 'x', dims: [2, 64], dtype: 'float32' }],
      { dtype: 'float32', eps: 8, rtol: 1e-3, atol: 2e-3 },
    );
  });
});

describe('the vocabulary-sliced loss over a quantized lm_head (slicedQuantizedHead)', () => {
  // 50 rows of lm_head in slices of 7 (the last holds 1), K = 40 (a padded tail block); labels in several slices.
  const V = 50;
  const H = 40;
  const LABELS = [3, 49, 7, 21, 0, 35];
  for (const bits of [4, 8] as const) {
    for (const floatType of ['float64', 'float32'] as const) {
      it(`${bits}-bit, ${floatType}: -log p(label) and its gradient by the rows equal the dense softmax over the dequantized weight`, async () => {
        const b = new Builder(floatType);
        const rows = b.input('rows', floatType, ['n', H]);
        const labels = b.input('labels', 'int64', ['n']);
        const { q, values } = quantizedPair(b, bits, V, H, 40 + bits);
        const head = slicedQuantizedHead(b, values, rows, labels, { gradient: true, sliceRows: 7 });
        b.output(head.nll, 'nll');
        b.output(head.rowsGradient!, 'grad');
        const rng = new Rng(2);
        const x = Float64Array.from({ length: LABELS.length * H }, () => rng.normal() * 0.5);
        const { session, close } = await openGraph(b);
        const out = await session.run({
          rows: new ort.Tensor(floatType, floatType === 'float64' ? x : Float32Array.from(x), [LABELS.length, H]),
          labels: new ort.Tensor('int64', BigInt64Array.from(LABELS, BigInt), [LABELS.length]),
        });
        await close();
        // (code - zero point) * scale in float64, as the float64 graph forms it (dequantizeWeight rounds it to float32).
        const w32 = dequantizeWeight(q);
        const blocks = Math.ceil(H / 32);
        const w = Float64Array.from(w32, (v, i) => {
          const scale = q.scales[Math.floor(i / H) * blocks + Math.floor((i % H) / 32)];
          return Math.round(v / scale) * scale;
        });
        const tol = floatType === 'float64' ? 1e-10 : 2e-5;
        LABELS.forEach((label, n) => {
          const logits = Array.from({ length: V }, (_, v) => {
            let s = 0;
            for (let k = 0; k < H; k++) s += x[n * H + k] * w[v * H + k];
            return s;
          });
          const top = Math.max(...logits);
          const z = logits.reduce((s, l) => s + Math.exp(l - top), 0);
          const nll = top + Math.log(z) - logits[label];
          const got = (out.nll.data as Float64Array)[n];
          assert.ok(Math.abs(got - nll) <= tol * Math.max(1, nll), `row ${n}: nll ${got} vs ${nll}`);
          for (let k = 0; k < H; k++) {
            let g = -w[label * H + k];
            for (let v = 0; v < V; v++) g += (Math.exp(logits[v] - top) / z) * w[v * H + k];
            const gotG = (out.grad.data as Float64Array)[n * H + k];
            assert.ok(Math.abs(gotG - g) <= tol * 10, `row ${n}, [${k}]: gradient ${gotG} vs ${g}`);
          }
        });
      });
    }
  }
});

const IDS = [9, 41, 7, 300, 2, 77, 15, 150, 3, 64];

/** The tiny model's tensors with every tensor `mode` quantizes replaced by its dequantized values. */
function dequantized(cfg: ModelConfig, tensors: Map<string, Float32Array>, mode: QuantMode): Map<string, Float32Array> {
  const out = new Map(tensors);
  for (const { name, shape } of expectedTensors(cfg)) {
    const bits = quantBitsFor(name, mode, cfg.numLayers);
    if (bits) out.set(name, dequantizeWeight(quantizeWeight(tensors.get(name)!, shape[0], shape[1], bits)));
  }
  return out;
}

function referenceLoss(cfg: ModelConfig, weights: Map<string, Float64Array>): number {
  const logits = referenceLogits(cfg, weights as unknown as Map<string, Float32Array>, [IDS])[0];
  let total = 0;
  for (let p = 0; p + 1 < IDS.length; p++) {
    const row = logits[p];
    const max = Math.max(...row);
    total += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[IDS[p + 1]];
  }
  return total / (IDS.length - 1);
}

function merge(w: Float32Array, m: LoraModule, A: Float64Array, B: Float64Array): Float64Array {
  const out = Float64Array.from(w);
  for (let o = 0; o < m.outFeatures; o++) {
    for (let i = 0; i < m.inFeatures; i++) {
      let s = 0;
      for (let k = 0; k < m.r; k++) s += B[o * m.r + k] * A[k * m.inFeatures + i];
      out[o * m.inFeatures + i] += m.scale * s;
    }
  }
  return out;
}

describe('QLoRA training graph = LoRA on the float model with the dequantized weights', () => {
  for (const mode of ['int4', 'int8'] as const) {
    it(`${mode}: loss and every LoRA gradient (float32 graph vs float64 graph vs finite differences)`, async () => {
      const dir = join(root, mode);
      const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 3, hidden: 64, heads: 4, kvHeads: 2, ffn: 80, seed: 31 });
      const cfg = tiny.config;
      const folder = openModelFolder(dir);
      const layout = layoutForSpec(cfg, defaultLoraSpec({ r: 3, alpha: 6 }));
      const rng = new Rng(5);
      const values = new Map<string, Float32Array>();
      for (const m of layout.modules) {
        values.set(
          m.keyA,
          Float32Array.from({ length: m.r * m.inFeatures }, () => rng.normal() * 0.3),
        );
        values.set(
          m.keyB,
          Float32Array.from({ length: m.outFeatures * m.r }, () => rng.normal() * 0.3),
        );
      }
      const deq = dequantized(cfg, tiny.tensors, mode);
      const run = async (spec: { quant: QuantMode; float64: boolean; deq: boolean }) => {
        const weights = spec.deq ? { float32: (n: string) => deq.get(n)! } : folder.weights;
        const s = await TrainingSession.open(
          {
            config: cfg,
            weights,
            weightsKey: JSON.stringify(spec) + folder.weights.fingerprint(),
            lora: { layout, dropout: 0 },
            gradients: true,
            quant: spec.quant,
            floatType: spec.float64 ? 'float64' : 'float32',
          },
          { threads: 1 },
        );
        const feed = spec.float64 ? new Map([...values].map(([k, v]) => [k, Float64Array.from(v)])) : values;
        const out = await s.run({ ids: [IDS], labels: [IDS] }, feed);
        await s.release();
        return out;
      };
      const q32 = await run({ quant: mode, float64: false, deq: false }); // MatMulNBits forward, in-graph dequantization backward
      const q64 = await run({ quant: mode, float64: true, deq: false }); // dequantize + Gemm throughout, float64
      const f64 = await run({ quant: 'none', float64: true, deq: true }); // the float model on dequantized weights
      // The float64 graph forms (q - zp) * scale exactly; the float model's weights are those products rounded to float32.
      assert.ok(
        Math.abs(q64.lossSum - f64.lossSum) < 1e-5 * Math.abs(f64.lossSum),
        `float64 loss ${q64.lossSum} vs float model ${f64.lossSum}`,
      );
      assert.ok(Math.abs(q32.lossSum - f64.lossSum) < 1e-4 * Math.abs(f64.lossSum), `float32 loss ${q32.lossSum} vs ${f64.lossSum}`);
      for (const [key, g] of f64.grads!) {
        const g64 = q64.grads!.get(key)!;
        const g32 = q32.grads!.get(key)!;
        const scale = Math.max(...Array.from(g, Math.abs));
        for (let i = 0; i < g.length; i++) {
          assert.ok(Math.abs(g64[i] - g[i]) <= 1e-5 * scale + 1e-12, `${key}[${i}] float64 ${g64[i]} vs ${g[i]}`);
          assert.ok(Math.abs(g32[i] - g[i]) <= 2e-4 * scale + 1e-6, `${key}[${i}] float32 ${g32[i]} vs ${g[i]}`);
        }
      }
      // Finite differences of the float64 reference forward on the dequantized weights, merged with the LoRA matrices.
      const a64 = new Map([...values].map(([k, v]) => [k, Float64Array.from(v)]));
      const mergedAll = () => {
        const w = new Map<string, Float64Array>([...deq].map(([k, v]) => [k, Float64Array.from(v)]));
        for (const m of layout.modules)
          w.set(`${m.module}.weight`, merge(deq.get(`${m.module}.weight`)!, m, a64.get(m.keyA)!, a64.get(m.keyB)!));
        return w;
      };
      assert.ok(Math.abs(q32.lossSum / q32.count - referenceLoss(cfg, mergedAll())) < 1e-4);
      const h = 1e-4;
      const pick = new Rng(9);
      for (const m of layout.modules.filter((_, i) => i % 3 === 0)) {
        for (const key of [m.keyA, m.keyB]) {
          const t = a64.get(key)!;
          const i = pick.int(t.length);
          const keep = t[i];
          t[i] = keep + h;
          const up = referenceLoss(cfg, mergedAll());
          t[i] = keep - h;
          const down = referenceLoss(cfg, mergedAll());
          t[i] = keep;
          const fd = (up - down) / (2 * h);
          const got = q32.grads!.get(key)![i] / q32.count;
          assert.ok(
            Math.abs(got - fd) <= 2e-3 * Math.max(1, Math.abs(fd)) + 1e-4,
            `${key}[${i}]: graph ${got} vs finite differences ${fd}`,
          );
        }
      }
    });
  }
});
