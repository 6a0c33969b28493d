import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachAdapter, defaultLoraSpec, layoutForSpec, makeLoraAdapter, readPeftAdapter, writePeftAdapter } from '../../engine/index.js';
import { Rng, UserError } from '../../common/index.js';
import { loraGrads } from '../../finetune/index.js';
import { benchLora } from '../../bench/lora.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-lora-grads-cli-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const modelDir = join(root, 'model');
const tiny = makeTinyModel(modelDir, { architecture: 'LlamaForCausalLM', layers: 1, hidden: 16, heads: 2, kvHeads: 1, ffn: 24, seed: 8 });
const IDS = [4, 200, 31, 7, 99, 12];

function meanNll(weights: Map<string, Float32Array | Float64Array>): number {
  const logits = referenceLogits(tiny.config, weights as Map<string, Float32Array>, [IDS])[0];
  let total = 0;
  for (let p = 0; p + 1 < IDS.length; p++) {
    const row = logits[p];
    const max = Math.max(...row);
    total += max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) - row[IDS[p + 1]];
  }
  return total / (IDS.length - 1);
}

describe('loraGrads (inspect lora-grads)', () => {
  it('returns the next-token loss and d loss / d A, B by PEFT key as nested rows', async () => {
    const spec = defaultLoraSpec({ r: 2, alpha: 4, targets: ['q_proj', 'down_proj'] });
    const rng = new Rng(2);
    const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const m of layoutForSpec(tiny.config, spec).modules) {
      matrices.set(m.keyA, {
        shape: [m.r, m.inFeatures],
        data: Float32Array.from({ length: m.r * m.inFeatures }, () => rng.normal() * 0.3),
      });
      matrices.set(m.keyB, {
        shape: [m.outFeatures, m.r],
        data: Float32Array.from({ length: m.outFeatures * m.r }, () => rng.normal() * 0.3),
      });
    }
    const adapterDir = join(root, 'adapter');
    writePeftAdapter(adapterDir, makeLoraAdapter(spec, null, matrices));
    const out = await loraGrads(modelDir, adapterDir, IDS, 1);

    const keys = Object.keys(out.grads).sort();
    assert.deepEqual(keys, [
      'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight',
      'base_model.model.model.layers.0.mlp.down_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
    ]);
    assert.equal(out.grads['base_model.model.model.layers.0.mlp.down_proj.lora_A.weight'].length, 2);
    assert.equal(out.grads['base_model.model.model.layers.0.mlp.down_proj.lora_A.weight'][0].length, 24);
    assert.equal(out.grads['base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight'].length, 16);

    // The merged float64 reference gives the same loss, and a finite difference the same gradient.
    const attached = attachAdapter(tiny.config, readPeftAdapter(adapterDir));
    const merged = (bump: number) => {
      const w = new Map<string, Float32Array | Float64Array>(tiny.tensors);
      for (const m of attached.layout.modules) {
        const A = Float64Array.from(attached.matrix(m.keyA));
        if (m.module.endsWith('q_proj')) A[5] += bump;
        const B = attached.matrix(m.keyB);
        const W = Float64Array.from(tiny.tensors.get(`${m.module}.weight`)!);
        for (let o = 0; o < m.outFeatures; o++) {
          for (let i = 0; i < m.inFeatures; i++) {
            for (let k = 0; k < m.r; k++) W[o * m.inFeatures + i] += m.scale * B[o * m.r + k] * A[k * m.inFeatures + i];
          }
        }
        w.set(`${m.module}.weight`, W);
      }
      return w;
    };
    assert.ok(Math.abs(out.loss - meanNll(merged(0))) < 1e-4);
    const fd = (meanNll(merged(1e-4)) - meanNll(merged(-1e-4))) / 2e-4;
    const g = out.grads['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'][0][5];
    assert.ok(Math.abs(g - fd) < 1e-3 * Math.max(1, Math.abs(fd)), `${g} vs ${fd}`);

    await assert.rejects(loraGrads(modelDir, adapterDir, [3]), (e: Error) => e instanceof UserError);
  });
});

describe('benchLora', () => {
  it('reports throughput and memory per step on random tokens', async () => {
    const r = await benchLora({ model: modelDir, batch: 2, seq: 16, rank: 4, steps: 3, threads: 1 });
    assert.ok(r.tokensPerSecond > 0 && Number.isFinite(r.tokensPerSecond));
    assert.equal(r.rssPerStep.length, 3);
    assert.equal(r.losses.length, 4);
    assert.ok(r.peakRssBytes >= Math.max(...r.rssPerStep) * 0.5);
    // 7 projections: A [4, in] + B [out, 4] each.
    assert.equal(r.trainableParameters, 4 * (16 + 16 + (16 + 8) + (16 + 8) + (16 + 16) + (16 + 24) * 2 + (24 + 16)));
  });
});
