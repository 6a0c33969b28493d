// The quantized inference graph (MatMulNBits for the projections and lm_head, a gathered in-graph
// dequantization for the embedding) against the float64 reference run on the dequantized weights.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  defaultQuantMode,
  dequantizeWeight,
  expectedTensors,
  loadCausalLM,
  parseQuantMode,
  quantBitsFor,
  quantizeWeight,
  RESCORED_CANDIDATES,
  type ModelConfig,
  type QuantMode,
} from '../../engine/index.js';
import { withOwnGraphCache } from '../helpers/own-graph-cache.js';
import { makeTinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = mkdtempSync(join(tmpdir(), 'cf-quant-forward-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => rmSync(root, { recursive: true, force: true }));

const IDS = [[5, 17, 42, 3, 99, 250, 7, 64, 1, 300, 12, 8]];

/** The weights a graph under `mode` computes with: each quantized tensor replaced by its dequantized values. */
export function dequantizedTensors(cfg: ModelConfig, tensors: Map<string, Float32Array>, mode: QuantMode): Map<string, Float32Array> {
  const out = new Map(tensors);
  for (const { name, shape } of expectedTensors(cfg)) {
    const bits = quantBitsFor(name, mode, cfg.numLayers);
    if (bits) out.set(name, dequantizeWeight(quantizeWeight(tensors.get(name)!, shape[0], shape[1], bits)));
  }
  return out;
}

/**
 * The reference logits [S][V] under `mode`: under int4, lm_head scores the vocabulary at 4 bits and
 * the RESCORED_CANDIDATES best of each row take the int8 head's logits (see lmHead). Also returns
 * both heads' logits.
 */
function quantizedReference(
  cfg: ModelConfig,
  tensors: Map<string, Float32Array>,
  mode: QuantMode,
  ids: number[][],
): { logits: Float64Array[]; full: Float64Array[]; draft: Float64Array[] } {
  const weights = dequantizedTensors(cfg, tensors, mode);
  const full = referenceLogits(cfg, weights, ids)[0];
  if (mode !== 'int4') return { logits: full, full, draft: full };
  // The draft head: the same model with lm_head (untied from the embedding) at 4 bits.
  const head = cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const drafted = new Map(weights);
  drafted.set('lm_head.weight', dequantizeWeight(quantizeWeight(tensors.get(head)!, cfg.vocabSize, cfg.hiddenSize, 4)));
  const draft = referenceLogits({ ...cfg, tieWordEmbeddings: false }, drafted, ids)[0];
  const logits = draft.map((row, p) => {
    const out = Float64Array.from(row);
    const best = Array.from(row.keys())
      .sort((a, b) => row[b] - row[a])
      .slice(0, RESCORED_CANDIDATES);
    for (const i of best) out[i] = full[p][i];
    return out;
  });
  return { logits, full, draft };
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

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
  // hidden 96: three blocks per row (an odd count: the last 4-bit zero point has its byte to itself).
  [
    'Qwen2: GQA, q/k/v bias, tied head, hidden 96, ffn 80 (padded tail block)',
    { architecture: 'Qwen2ForCausalLM', hidden: 96, heads: 4, kvHeads: 2, ffn: 80, tied: true },
  ],
  ['Llama: untied head, hidden 64', { architecture: 'LlamaForCausalLM', hidden: 64, heads: 4, kvHeads: 4, ffn: 128, tied: false }],
  ['Llama: hidden 16 (one block shorter than 32)', { architecture: 'LlamaForCausalLM', hidden: 16, heads: 2, kvHeads: 1 }],
];

describe('quantized forward matches the float reference on the dequantized weights', () => {
  for (const mode of ['int4', 'int8'] as const) {
    variants.forEach(([name, opts], i) => {
      it(`${mode}: ${name}`, async () => {
        const dir = join(root, `${mode}-${i}`);
        const tiny = makeTinyModel(dir, { layers: 3, seed: 300 + i, ...opts });
        const lm = await loadCausalLM(dir, { logits: 'all', threads: 1, quant: mode, quantActivations: 'float' });
        assert.equal(lm.quant, mode);
        const out = await lm.forward(IDS, lm.emptyCache(1));
        await lm.release();
        const ref = quantizedReference(tiny.config, tiny.tensors, mode, IDS).logits;
        const diff = maxAbsDiff(out.logits, ref, tiny.config.vocabSize);
        assert.ok(diff < 1e-4, `max |onnx - reference| = ${diff}`);
        // And it is really quantized: the float model's logits differ.
        const float = referenceLogits(tiny.config, tiny.tensors, IDS)[0];
        assert.ok(maxAbsDiff(out.logits, float, tiny.config.vocabSize) > 1e-3);
      });
    });
  }

  for (const mode of ['int4', 'int8'] as const) {
    it(`${mode} with int8 activations (the fast kernels, the inference default): close to the dequantized float model`, async () => {
      const dir = join(root, `fast-${mode}`);
      const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 3, hidden: 64, heads: 4, kvHeads: 2, ffn: 96, seed: 41 });
      const lm = await loadCausalLM(dir, { logits: 'all', threads: 1, quant: mode });
      const out = await lm.forward(IDS, lm.emptyCache(1));
      await lm.release();
      const { full, draft } = quantizedReference(tiny.config, tiny.tensors, mode, IDS);
      const V = tiny.config.vocabSize;
      let worst = 0;
      let size = 0;
      // Rounded activations can move a near-tie across the rescoring's cut, so each logit is held to
      // the nearer of the draft's and the full head's reference; the choice to the full head's.
      full.forEach((row, p) =>
        row.forEach((v, i) => {
          const o = out.logits[p * V + i];
          worst = Math.max(worst, Math.min(Math.abs(o - v), Math.abs(o - draft[p][i])));
          size = Math.max(size, Math.abs(v));
        }),
      );
      // Activations rounded to int8 per block of 32: errors of a few percent of the logits' range, no more.
      assert.ok(worst < 0.03 * size, `max |onnx - reference| = ${worst}, logits up to ${size}`);
      full.forEach((row, p) => assert.equal(argmax(out.logits.subarray(p * V, (p + 1) * V)), argmax(row), `position ${p}`));
    });
  }

  it('the quant mode is part of the graph cache key; a second load reuses the compiled (quantized) graph', async () => {
    const dir = join(root, 'cache-key');
    makeTinyModel(dir, { layers: 1, hidden: 32, heads: 2, kvHeads: 1, seed: 9 });
    await withOwnGraphCache(root, async (graphs) => {
      for (const quant of ['int4', 'int8', 'none'] as const)
        await (await loadCausalLM(dir, { logits: 'last', threads: 1, quant })).release();
      const made = graphs();
      assert.equal(made.length, 3);
      await (await loadCausalLM(dir, { logits: 'last', threads: 1, quant: 'int4' })).release();
      assert.deepEqual(graphs(), made);
    });
  });

  it('KV-cached decoding under int4 gives the logits of a full recompute', async () => {
    const dir = join(root, 'kv');
    const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 3, hidden: 64, heads: 4, kvHeads: 2, seed: 7 });
    const V = tiny.config.vocabSize;
    const lm = await loadCausalLM(dir, { logits: 'all', threads: 1, quant: 'int4', quantActivations: 'float' });
    const ids = IDS[0];
    const full = await lm.forward([ids], lm.emptyCache(1));
    let step = await lm.forward([ids.slice(0, 5)], lm.emptyCache(1));
    let worst = 0;
    for (let i = 5; i < ids.length; i++) {
      step = await lm.forward([[ids[i]]], step.cache);
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(step.logits[v] - full.logits[i * V + v]));
    }
    await lm.release();
    assert.ok(worst < 1e-4, `max difference ${worst}`);
  });
});

describe('quant mode flags and defaults', () => {
  it('parses int4, int8, none and names the flag on anything else', () => {
    assert.equal(parseQuantMode('int4'), 'int4');
    assert.equal(parseQuantMode(undefined), undefined);
    assert.throws(() => parseQuantMode('q4_0'), /--quant must be int4, int8 or none, got "q4_0"/);
  });

  it('small models default to float32, 0.5B-shaped ones to int4', () => {
    const tiny = makeTinyModel(join(root, 'small'), { layers: 1 }).config;
    assert.equal(defaultQuantMode(tiny), 'none');
    const big = {
      ...tiny,
      vocabSize: 151936,
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      tieWordEmbeddings: true,
    };
    assert.equal(defaultQuantMode(big), 'int4');
  });

  it('norms and biases stay float; lm_head, the embedding and the first and last layers are int8 in both modes', () => {
    assert.equal(quantBitsFor('model.layers.3.mlp.down_proj.weight', 'int4', 24), 4);
    assert.equal(quantBitsFor('model.layers.1.self_attn.v_proj.weight', 'int4', 24), 4);
    assert.equal(quantBitsFor('model.layers.22.self_attn.o_proj.weight', 'int4', 24), 4);
    assert.equal(quantBitsFor('model.layers.0.self_attn.v_proj.weight', 'int4', 24), 8);
    assert.equal(quantBitsFor('model.layers.23.mlp.down_proj.weight', 'int4', 24), 8);
    assert.equal(quantBitsFor('model.layers.3.self_attn.q_proj.weight', 'int8', 24), 8);
    assert.equal(quantBitsFor('model.layers.3.self_attn.q_proj.bias', 'int4', 24), undefined);
    assert.equal(quantBitsFor('model.layers.3.input_layernorm.weight', 'int4', 24), undefined);
    assert.equal(quantBitsFor('lm_head.weight', 'int4', 24), 8);
    assert.equal(quantBitsFor('model.embed_tokens.weight', 'int4', 24), 8);
    assert.equal(quantBitsFor('model.layers.0.mlp.up_proj.weight', 'none', 24), undefined);
  });
});
