// Activation checkpointing (engine/autodiff/checkpoint.ts): a training graph that recomputes each
// decoder layer in the backward pass gives the loss and gradients of the one that keeps every
// activation, for LoRA (with dropout, whose mask the recomputation must draw again), QLoRA, and
// full-parameter training with a tied embedding (used before the layers and after them).
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
  type QuantMode,
  type TrainingGraphSpec,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-checkpoint-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const IDS = [
  [9, 41, 7, 300, 2, 77, 15, 150],
  [3, 64, 64, 5, 201, 8, 90, 11],
];

type Values = Map<string, Float32Array | Float64Array>;

async function step(spec: TrainingGraphSpec, values: Values, dropoutSeed = 0) {
  const s = await TrainingSession.open(spec, { threads: 1 });
  try {
    return await s.run({ ids: IDS, labels: IDS }, values, dropoutSeed);
  } finally {
    await s.release();
  }
}

/** Runs `spec` with and without checkpointing and compares the loss and every gradient, relative to the largest entry. */
async function assertSameAsUncheckpointed(spec: TrainingGraphSpec, values: Values, tol: number, dropoutSeed = 0) {
  const plain = await step({ ...spec, checkpointLayers: false }, values, dropoutSeed);
  const ck = await step({ ...spec, checkpointLayers: true }, values, dropoutSeed);
  assert.ok(Math.abs(ck.lossSum - plain.lossSum) <= tol * Math.abs(plain.lossSum), `loss ${ck.lossSum} vs ${plain.lossSum}`);
  assert.equal(ck.grads!.size, plain.grads!.size);
  for (const [name, g] of plain.grads!) {
    const c = ck.grads!.get(name)!;
    const scale = Math.max(...Array.from(g, Math.abs));
    assert.ok(scale > 0, `${name}: no gradient`);
    for (let i = 0; i < g.length; i++) assert.ok(Math.abs(c[i] - g[i]) <= tol * scale, `${name}[${i}]: checkpointed ${c[i]} vs ${g[i]}`);
  }
}

describe('checkpointed layers give the un-checkpointed gradients', () => {
  const cases: { quant: QuantMode; floatType: 'float32' | 'float64'; dropout: number; tol: number }[] = [
    { quant: 'none', floatType: 'float64', dropout: 0, tol: 1e-12 },
    { quant: 'none', floatType: 'float32', dropout: 0.2, tol: 1e-6 },
    { quant: 'int4', floatType: 'float32', dropout: 0, tol: 1e-6 },
    { quant: 'int4', floatType: 'float64', dropout: 0.2, tol: 1e-12 },
  ];
  for (const c of cases) {
    it(`LoRA, ${c.quant === 'none' ? 'float' : c.quant} base, ${c.floatType}, dropout ${c.dropout}`, async () => {
      const dir = join(root, `lora-${c.quant}`);
      if (!fs.existsSync(dir))
        makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 3, hidden: 64, heads: 4, kvHeads: 2, ffn: 80, seed: 7 });
      const folder = openModelFolder(dir);
      const layout = layoutForSpec(folder.config, defaultLoraSpec({ r: 3, alpha: 6 }));
      const rng = new Rng(3);
      const values: Values = new Map();
      const random = (n: number) => Array.from({ length: n }, () => rng.normal() * 0.3);
      const typed = (xs: number[]) => (c.floatType === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs));
      for (const m of layout.modules) {
        values.set(m.keyA, typed(random(m.r * m.inFeatures)));
        values.set(m.keyB, typed(random(m.outFeatures * m.r)));
      }
      const spec: TrainingGraphSpec = {
        config: folder.config,
        weights: folder.weights,
        weightsKey: folder.weights.fingerprint(),
        lora: { layout, dropout: c.dropout },
        gradients: true,
        quant: c.quant,
        floatType: c.floatType,
      };
      await assertSameAsUncheckpointed(spec, values, c.tol, 12345);
      folder.weights.close();
    });
  }

  it('every weight trained, tied embedding (gradients from before, inside and after the layers)', async () => {
    const dir = join(root, 'full');
    const tiny = makeTinyModel(dir, { architecture: 'LlamaForCausalLM', layers: 2, hidden: 16, heads: 2, kvHeads: 1, ffn: 24, tied: true });
    const names = expectedTensors(tiny.config).map((t) => t.name);
    const values: Values = new Map([...tiny.tensors].map(([k, v]) => [k, Float64Array.from(v)]));
    const spec: TrainingGraphSpec = {
      config: tiny.config,
      weightsKey: 'none',
      trainableWeights: names,
      gradients: true,
      floatType: 'float64',
    };
    await assertSameAsUncheckpointed(spec, values, 1e-12);
  });
});
