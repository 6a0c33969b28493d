import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  expectedTensors,
  layoutForSpec,
  openModelFolder,
  TrainingSession,
  type LoraModule,
  type ModelConfig,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-lora-grads-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const IDS = [9, 41, 7, 300, 2, 77, 15, 150, 3, 64];

/** Mean next-token cross-entropy over positions 1..n-1 of the float64 reference forward. */
function referenceLoss(cfg: ModelConfig, weights: Map<string, Float64Array>): number {
  const logits = referenceLogits(cfg, weights as unknown as Map<string, Float32Array>, [IDS])[0];
  let total = 0;
  for (let p = 0; p + 1 < IDS.length; p++) {
    const row = logits[p];
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += logZ - row[IDS[p + 1]];
  }
  return total / (IDS.length - 1);
}

/** W + scale·B·A in float64. */
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

function assertGrad(name: string, onnx: number, fd: number): void {
  const tol = 2e-3 * Math.max(1, Math.abs(fd)) + 1e-4;
  assert.ok(Math.abs(onnx - fd) <= tol, `${name}: graph ${onnx} vs finite differences ${fd}`);
}

describe('training-graph gradients match finite differences of the float64 reference model', () => {
  it('LoRA A and B of all seven projections (GQA, q/k/v bias, rsLoRA, dropout compiled in but idle for eval)', async () => {
    const dir = join(root, 'qwen');
    const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 2, hidden: 16, heads: 4, kvHeads: 2, ffn: 24, seed: 21 });
    const cfg = tiny.config;
    const folder = openModelFolder(dir);
    const layout = layoutForSpec(cfg, defaultLoraSpec({ r: 3, alpha: 6, useRslora: true }));
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
    const session = await TrainingSession.open(
      { config: cfg, weights: folder.weights, weightsKey: folder.weights.fingerprint(), lora: { layout, dropout: 0 }, gradients: true },
      { threads: 1 },
    );
    const out = await session.run({ ids: [IDS], labels: [IDS] }, values);
    await session.release();
    assert.equal(out.count, IDS.length - 1);

    const f64 = new Map([...values].map(([k, v]) => [k, Float64Array.from(v)]));
    const mergedAll = () => {
      const w = new Map<string, Float64Array>([...tiny.tensors].map(([k, v]) => [k, Float64Array.from(v)]));
      for (const m of layout.modules)
        w.set(`${m.module}.weight`, merge(tiny.tensors.get(`${m.module}.weight`)!, m, f64.get(m.keyA)!, f64.get(m.keyB)!));
      return w;
    };
    const lossRef = referenceLoss(cfg, mergedAll());
    assert.ok(Math.abs(out.lossSum / out.count - lossRef) < 1e-4, `loss ${out.lossSum / out.count} vs reference ${lossRef}`);

    const h = 1e-4;
    const pick = new Rng(9);
    let checked = 0;
    for (const m of layout.modules) {
      for (const key of [m.keyA, m.keyB]) {
        const t = f64.get(key)!;
        for (let trial = 0; trial < 2; trial++) {
          const i = pick.int(t.length);
          const keep = t[i];
          t[i] = keep + h;
          const up = referenceLoss(cfg, mergedAll());
          t[i] = keep - h;
          const down = referenceLoss(cfg, mergedAll());
          t[i] = keep;
          assertGrad(`${key}[${i}]`, out.grads!.get(key)![i] / out.count, (up - down) / (2 * h));
          checked++;
        }
      }
    }
    assert.equal(checked, layout.modules.length * 4);
  });

  it('full-parameter mode: every weight is trainable, gradients match', async () => {
    const dir = join(root, 'llama');
    const tiny = makeTinyModel(dir, {
      architecture: 'LlamaForCausalLM',
      layers: 1,
      hidden: 16,
      heads: 2,
      kvHeads: 1,
      ffn: 24,
      tied: true,
      seed: 22,
    });
    const cfg = tiny.config;
    const names = expectedTensors(cfg).map((t) => t.name);
    const session = await TrainingSession.open(
      { config: cfg, weightsKey: 'none', trainableWeights: names, gradients: true },
      { threads: 1 },
    );
    const out = await session.run({ ids: [IDS], labels: [IDS] }, tiny.tensors);
    await session.release();
    const w64 = new Map([...tiny.tensors].map(([k, v]) => [k, Float64Array.from(v)]));
    const h = 1e-4;
    const pick = new Rng(4);
    for (const name of names) {
      const t = w64.get(name)!;
      const i = name === 'model.embed_tokens.weight' ? IDS[3] * cfg.hiddenSize + 5 : pick.int(t.length);
      const keep = t[i];
      t[i] = keep + h;
      const up = referenceLoss(cfg, w64);
      t[i] = keep - h;
      const down = referenceLoss(cfg, w64);
      t[i] = keep;
      assertGrad(`${name}[${i}]`, out.grads!.get(name)![i] / out.count, (up - down) / (2 * h));
    }
  });
});
