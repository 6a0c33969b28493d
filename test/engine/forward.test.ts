import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCausalLM } from '../../engine/index.js';
import { makeTinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = mkdtempSync(join(tmpdir(), 'cf-forward-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => rmSync(root, { recursive: true, force: true }));

const IDS = [[5, 17, 42, 3, 99, 250, 7, 64, 1, 300, 12, 8]];

function maxAbsDiff(onnx: Float32Array, ref: Float64Array[], vocab: number): number {
  let worst = 0;
  ref.forEach((row, p) =>
    row.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(onnx[p * vocab + i] - v));
    }),
  );
  return worst;
}

const variants: [string, TinyModelOptions][] = [
  ['Qwen2: GQA 4/2, q/k/v bias, tied head', { architecture: 'Qwen2ForCausalLM', heads: 4, kvHeads: 2, tied: true }],
  ['Llama: MHA, untied head, no bias', { architecture: 'LlamaForCausalLM', heads: 4, kvHeads: 4, tied: false }],
  ['Llama: GQA 4/1, attention and mlp bias', { architecture: 'LlamaForCausalLM', heads: 4, kvHeads: 1, qkvBias: true, mlpBias: true }],
  ['Mistral: GQA 8/2, head_dim not hidden/heads', { architecture: 'MistralForCausalLM', heads: 8, kvHeads: 2, headDim: 6, hidden: 32 }],
  ['F16 weights', { architecture: 'Qwen2ForCausalLM', dtype: 'F16' }],
  ['BF16 weights, 2 shards', { architecture: 'LlamaForCausalLM', dtype: 'BF16', shards: 2 }],
  [
    'llama3 rope scaling',
    {
      architecture: 'LlamaForCausalLM',
      ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    },
  ],
  ['linear rope scaling', { architecture: 'LlamaForCausalLM', ropeScaling: { type: 'linear', factor: 4 } }],
  [
    'yarn rope scaling',
    { architecture: 'Qwen2ForCausalLM', ropeScaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32 } },
  ],
];

describe('ONNX forward matches the plain-TypeScript reference', () => {
  variants.forEach(([name, opts], i) => {
    it(name, async () => {
      const dir = join(root, `m${i}`);
      const tiny = makeTinyModel(dir, { layers: 2, seed: 100 + i, ...opts });
      const lm = await loadCausalLM(dir, { logits: 'all', threads: 1 });
      const out = await lm.forward(IDS, lm.emptyCache(1));
      const ref = referenceLogits(tiny.config, tiny.tensors, IDS)[0];
      const diff = maxAbsDiff(out.logits, ref, tiny.config.vocabSize);
      assert.ok(diff < 1e-4, `max |onnx - reference| = ${diff}`);
      await lm.release();
    });
  });
});

describe('KV cache', () => {
  it('decoding token by token gives the logits of a full recompute', async () => {
    const dir = join(root, 'kv');
    const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 2, heads: 4, kvHeads: 2, seed: 7 });
    const V = tiny.config.vocabSize;
    const lm = await loadCausalLM(dir, { logits: 'all', threads: 1 });
    const ids = IDS[0];
    const full = await lm.forward([ids], lm.emptyCache(1));
    let step = await lm.forward([ids.slice(0, 5)], lm.emptyCache(1));
    let worst = 0;
    for (let i = 5; i < ids.length; i++) {
      step = await lm.forward([[ids[i]]], step.cache);
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(step.logits[v] - full.logits[i * V + v]));
    }
    assert.equal(step.cache.length, ids.length);
    assert.ok(worst < 1e-4, `max |incremental - full| = ${worst}`);
    await lm.release();
  });

  it("left padding masked by attention_mask leaves the real tokens' logits unchanged", async () => {
    const dir = join(root, 'pad');
    const tiny = makeTinyModel(dir, { architecture: 'LlamaForCausalLM', layers: 1, seed: 9 });
    const V = tiny.config.vocabSize;
    const lm = await loadCausalLM(dir, { logits: 'all', threads: 1 });
    const ids = [9, 8, 7, 6];
    const plain = await lm.forward([ids], lm.emptyCache(1));
    const padded = await lm.forward([[0, 0, ...ids]], lm.emptyCache(1), {
      attention: [[0, 0, 1, 1, 1, 1]],
      positions: [[0, 0, 0, 1, 2, 3]],
    });
    let worst = 0;
    for (let p = 0; p < ids.length; p++) {
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(padded.logits[(p + 2) * V + v] - plain.logits[p * V + v]));
    }
    assert.ok(worst < 1e-4, `padding changed logits by ${worst}`);
    await lm.release();
  });
});
