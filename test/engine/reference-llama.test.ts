// Checks the plain-TypeScript reference forward pass that the ONNX engine is tested against:
// against Hugging Face transformers itself (fixtures/hf_reference_logits.py wrote the fixture),
// and against properties that hold for any correct Llama forward pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyRope, referenceLogits, referenceRope } from '../helpers/reference-llama.js';
import { makeTinyModel, type TinyModel, type TinyModelOptions } from '../helpers/tiny-model.js';
import { HF_CASES, HF_IDS, HF_KEPT_VOCAB } from './fixtures/hf-cases.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-reference-'));
test.after(() => fs.rmSync(root, { recursive: true, force: true }));
let folders = 0;
const tiny = (options: TinyModelOptions): TinyModel => makeTinyModel(path.join(root, String(folders++)), options);

function maxAbsDiff(a: Float64Array[][], b: Float64Array[][]): number {
  let max = 0;
  a.forEach((row, r) =>
    row.forEach((pos, p) =>
      pos.forEach((v, i) => {
        max = Math.max(max, Math.abs(v - b[r][p][i]));
      }),
    ),
  );
  return max;
}

const hf = JSON.parse(fs.readFileSync(new URL('../../../test/engine/fixtures/hf-reference-logits.json', import.meta.url), 'utf8')) as {
  kept: number[];
  logits: Record<string, number[][][]>;
};

test('matches Hugging Face transformers logits: GQA, biases, tied head, head_dim, BF16/F16, every rope scaling', () => {
  assert.deepEqual(hf.kept, HF_KEPT_VOCAB);
  for (const { name, options } of HF_CASES) {
    const { config, tensors } = tiny(options);
    const ours = referenceLogits(config, tensors, HF_IDS);
    const theirs = hf.logits[name];
    let max = 0;
    ours.forEach((row, r) =>
      row.forEach((pos, p) =>
        HF_KEPT_VOCAB.forEach((v, k) => {
          max = Math.max(max, Math.abs(pos[v] - theirs[r][p][k]));
        }),
      ),
    );
    // transformers computes the rotary angles in float32 even for a float64 model: ~1e-6 is its rounding.
    assert.ok(max < 2e-5, `${name}: max difference ${max}`);
  }
});

test('one logits vector per position per row, deterministic', () => {
  const { config, tensors } = tiny({ layers: 1, seed: 2 });
  const ids = [
    [1, 2, 3],
    [4, 5, 6, 7, 8],
  ];
  const a = referenceLogits(config, tensors, ids);
  assert.deepEqual(
    a.map((row) => row.length),
    [3, 5],
  );
  assert.ok(a.every((row) => row.every((pos) => pos.length === config.vocabSize && pos.every(Number.isFinite))));
  assert.deepEqual(referenceLogits(config, tensors, ids), a);
});

test('attention over a single token is exactly the value projection', () => {
  const { config, tensors } = tiny({ layers: 1, hidden: 8, heads: 2, ffn: 4, qkvBias: true, tied: true, seed: 4 });
  tensors.get('model.layers.0.mlp.down_proj.weight')!.fill(0);
  const get = (n: string) => tensors.get(n)!;
  const matvec = (w: Float32Array, x: number[], b?: Float32Array) =>
    Array.from({ length: w.length / x.length }, (_, o) => x.reduce((s, xi, i) => s + w[o * x.length + i] * xi, b ? b[o] : 0));
  const rms = (x: number[], w: Float32Array) => {
    const scale = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + config.rmsNormEps);
    return x.map((v, i) => v * scale * w[i]);
  };
  const token = 7;
  const embedding = Array.from(get('model.embed_tokens.weight').subarray(token * 8, token * 8 + 8));
  const v = matvec(
    get('model.layers.0.self_attn.v_proj.weight'),
    rms(embedding, get('model.layers.0.input_layernorm.weight')),
    get('model.layers.0.self_attn.v_proj.bias'),
  );
  const attn = matvec(get('model.layers.0.self_attn.o_proj.weight'), v, get('model.layers.0.self_attn.o_proj.bias'));
  const hidden = embedding.map((e, i) => e + attn[i]);
  const expected = matvec(get('model.embed_tokens.weight'), rms(hidden, get('model.norm.weight')));
  const [[logits]] = referenceLogits(config, tensors, [[token]]);
  expected.forEach((e, i) => assert.ok(Math.abs(e - logits[i]) < 1e-12, `logit ${i}`));
});

test('causal: a position never sees later tokens', () => {
  const { config, tensors } = tiny({ layers: 2, kvHeads: 2, seed: 6 });
  const full = referenceLogits(config, tensors, [[9, 8, 7, 6, 5, 4]])[0];
  const changedTail = referenceLogits(config, tensors, [[9, 8, 7, 100, 101, 102]])[0];
  for (let p = 0; p < 3; p++) assert.deepEqual(changedTail[p], full[p]);
  assert.notDeepEqual(changedTail[3], full[3]);
});

test('grouped-query attention equals full attention with each kv head repeated for its group', () => {
  const gqa = tiny({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, qkvBias: true, seed: 8 });
  const mha = tiny({ layers: 2, hidden: 16, heads: 4, kvHeads: 4, qkvBias: true, seed: 8 });
  const headDim = 4;
  for (const [name, grouped] of gqa.tensors) {
    const isKv = /self_attn\.[kv]_proj/.test(name);
    if (!isKv) {
      mha.tensors.set(name, grouped);
      continue;
    }
    // kv head h serves query heads 2h and 2h+1: repeat its rows (weights) or entries (bias) in place.
    const rowLength = name.endsWith('.bias') ? 1 : 16;
    const expanded = new Float32Array(grouped.length * 2);
    for (let q = 0; q < 4; q++) {
      const kv = Math.floor(q / 2);
      expanded.set(grouped.subarray(kv * headDim * rowLength, (kv + 1) * headDim * rowLength), q * headDim * rowLength);
    }
    mha.tensors.set(name, expanded);
  }
  const ids = [[3, 14, 15, 92, 65, 35]];
  assert.ok(maxAbsDiff(referenceLogits(gqa.config, gqa.tensors, ids), referenceLogits(mha.config, mha.tensors, ids)) < 1e-12);
});

test('a tied head is the embedding matrix', () => {
  const tied = tiny({ tied: true, seed: 10 });
  const untied = tiny({ tied: false, seed: 10 });
  for (const [name, t] of tied.tensors) untied.tensors.set(name, t);
  untied.tensors.set('lm_head.weight', tied.tensors.get('model.embed_tokens.weight')!);
  const ids = [[1, 2, 3, 4]];
  assert.deepEqual(referenceLogits(tied.config, tied.tensors, ids), referenceLogits(untied.config, untied.tensors, ids));
  untied.tensors.set(
    'lm_head.weight',
    untied.tensors.get('model.embed_tokens.weight')!.map((v) => v * 2),
  );
  assert.ok(maxAbsDiff(referenceLogits(tied.config, tied.tensors, ids), referenceLogits(untied.config, untied.tensors, ids)) > 0.1);
});

test('rotary embedding rotates the first half against the second half (rotate_half)', () => {
  const rope = { invFreq: Float64Array.of(1, 0.5), attentionScaling: 1 };
  const p = 0.7;
  const x = Float64Array.of(1, 0, 0, 0);
  applyRope(x, p, rope);
  assert.deepEqual(
    [...x].map((v) => +v.toFixed(12)),
    [Math.cos(p), 0, Math.sin(p), 0].map((v) => +v.toFixed(12)),
  );
  const y = Float64Array.of(0, 1, 0, 2);
  applyRope(y, p, rope);
  const [c, s] = [Math.cos(p * 0.5), Math.sin(p * 0.5)];
  assert.deepEqual(
    [...y].map((v) => +v.toFixed(12)),
    [0, c - 2 * s, 0, 2 * c + s].map((v) => +v.toFixed(12)),
  );
});

test('rope frequencies: default, linear and dynamic scaling', () => {
  const base = tiny({ hidden: 16, heads: 2, layers: 1 }).config;
  const plain = referenceRope(base, 10);
  assert.deepEqual(
    [...plain.invFreq],
    [0, 1, 2, 3].map((i) => 1 / 10000 ** (i / 4)),
  );
  const linear = referenceRope({ ...base, ropeScaling: { type: 'linear', factor: 4 } }, 10);
  assert.deepEqual(
    [...linear.invFreq],
    [...plain.invFreq].map((f) => f / 4),
  );
  const dynamic = { ...base, ropeScaling: { type: 'dynamic' as const, factor: 2, originalMaxPositionEmbeddings: 16 } };
  assert.deepEqual(referenceRope(dynamic, 16).invFreq, plain.invFreq);
  const grownBase = 10000 * ((2 * 32) / 16 - 1) ** (8 / 6);
  assert.ok(Math.abs(referenceRope(dynamic, 32).invFreq[1] - 1 / grownBase ** (2 / 8)) < 1e-15);
});
