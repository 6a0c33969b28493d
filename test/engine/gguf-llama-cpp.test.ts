// llama.cpp (node-llama-cpp's prebuilt CPU build) as the independent reader of what we export: the
// same greedy tokens from our GGUF as codefudge gives from the safetensors folder, with and without a LoRA.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  exportAdapterToGguf,
  exportModelToGguf,
  layoutForSpec,
  loadAdaptedCausalLM,
  loadCausalLM,
  makeLoraAdapter,
  writePeftAdapter,
  type CausalLM,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { llamaCppGreedy, loadLlamaCpp } from '../../bench/llama-cpp.js';
import { makeTinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-gguf-llamacpp-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => rmSync(root, { recursive: true, force: true }));

const PROMPTS = [[5, 17, 42, 3, 99], [250, 7, 64, 1, 300, 12, 8, 9], [100]];
const N = 16;

async function greedy(lm: CausalLM): Promise<number[][]> {
  const V = lm.config.vocabSize;
  const out: number[][] = [];
  for (const p of PROMPTS) {
    let r = await lm.forward([p], lm.emptyCache(1));
    const toks: number[] = [];
    for (let i = 0; i < N; i++) {
      const l = r.logits.subarray(0, V);
      let best = 0;
      for (let j = 1; j < V; j++) if (l[j] > l[best]) best = j;
      toks.push(best);
      r = await lm.forward([[best]], r.cache);
    }
    out.push(toks);
  }
  await lm.release();
  return out;
}

describe('llama.cpp runs our GGUF exports like codefudge runs the folder', async () => {
  const nlc = await loadLlamaCpp();
  const skip = 'missing' in nlc ? nlc.missing : false;
  after(async () => {
    if (!('missing' in nlc)) await nlc.llama.dispose();
  });

  const cases: [string, TinyModelOptions][] = [
    [
      'Llama: GQA 4/2, attention bias (permuted q/k weights and biases), untied',
      { architecture: 'LlamaForCausalLM', heads: 4, kvHeads: 2, qkvBias: true },
    ],
    ['Qwen2: GQA 4/1, q/k/v bias, tied embeddings', { architecture: 'Qwen2ForCausalLM', heads: 4, kvHeads: 1, tied: true }],
  ];
  cases.forEach(([name, opts], i) => {
    it(`${name}: same greedy tokens at F32`, { skip }, async () => {
      const dir = join(root, `m${i}`);
      makeTinyModel(dir, { layers: 2, hidden: 64, seed: 20 + i, ...opts });
      const file = exportModelToGguf(dir, join(root, `m${i}.gguf`), 'f32').file;
      const theirs = await llamaCppGreedy((nlc as { llama: never }).llama, { model: file, threads: 1 }, PROMPTS, N);
      const ours = await greedy(await loadCausalLM(dir, { logits: 'last', threads: 1 }));
      assert.deepEqual(theirs, ours);
    });
  });

  it('Llama with a LoRA adapter GGUF: same greedy tokens as codefudge with the PEFT adapter', { skip }, async () => {
    const dir = join(root, 'lora-base');
    const tiny = makeTinyModel(dir, { architecture: 'LlamaForCausalLM', layers: 2, hidden: 64, heads: 4, kvHeads: 2, seed: 30 });
    const spec = defaultLoraSpec({ r: 4, alpha: 8 });
    const rng = new Rng(31);
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
    const adir = join(root, 'lora-adapter');
    writePeftAdapter(adir, makeLoraAdapter(spec, null, matrices));
    const model = exportModelToGguf(dir, join(root, 'lora-base.gguf'), 'f32').file;
    const lora = exportAdapterToGguf(adir, dir, join(root, 'lora.gguf')).file;
    const theirs = await llamaCppGreedy((nlc as { llama: never }).llama, { model, lora, threads: 1 }, PROMPTS, N);
    const ours = await greedy((await loadAdaptedCausalLM(dir, adir, { logits: 'last', threads: 1 })).lm);
    const base = await greedy(await loadCausalLM(dir, { logits: 'last', threads: 1 }));
    assert.notDeepEqual(ours, base, 'the adapter should change the greedy tokens');
    assert.deepEqual(theirs, ours);
  });
});
