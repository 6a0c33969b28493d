import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  defaultLoraSpec,
  exportAdapterToGguf,
  GgmlType,
  GgufFile,
  layoutForSpec,
  makeLoraAdapter,
  permuteRows,
  writePeftAdapter,
  type LoraAdapter,
  type ModelConfig,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-gguf-adapter-'));
after(() => rmSync(root, { recursive: true, force: true }));

function randomAdapter(cfg: ModelConfig, seed: number, overrides: Parameters<typeof defaultLoraSpec>[0] = {}): LoraAdapter {
  const spec = defaultLoraSpec({ r: 4, alpha: 8, ...overrides });
  const rng = new Rng(seed);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layoutForSpec(cfg, spec).modules) {
    matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: Float32Array.from({ length: m.r * m.inFeatures }, () => rng.normal()) });
    matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: Float32Array.from({ length: m.outFeatures * m.r }, () => rng.normal()) });
  }
  return makeLoraAdapter(spec, null, matrices);
}

const floats = (g: GgufFile, name: string) => {
  const b = g.bytes(name);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};

describe("a PEFT adapter exported as llama.cpp's LoRA GGUF", () => {
  for (const architecture of ['LlamaForCausalLM', 'Qwen2ForCausalLM'] as const) {
    it(`${architecture}: metadata, tensor names, shapes (ggml [in, r] and [r, out]) and values`, () => {
      const dir = join(root, architecture);
      const tiny = makeTinyModel(dir, { architecture, layers: 2, heads: 4, kvHeads: 2, seed: 1 });
      const adapter = randomAdapter(tiny.config, 2);
      const adir = join(root, `${architecture}-adapter`);
      writePeftAdapter(adir, adapter);
      const out = join(root, `${architecture}.gguf`);
      const r = exportAdapterToGguf(adir, dir, out);
      assert.equal(r.modules, 2 * 7);
      const g = GgufFile.open(out);
      try {
        assert.equal(g.get('general.type'), 'adapter');
        assert.equal(g.get('adapter.type'), 'lora');
        assert.equal(g.get('adapter.lora.alpha'), 8);
        assert.equal(g.get('general.architecture'), architecture === 'LlamaForCausalLM' ? 'llama' : 'qwen2');
        const names = g
          .tensors()
          .map((t) => t.name)
          .sort();
        const want: string[] = [];
        for (let l = 0; l < 2; l++) {
          for (const t of ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down']) {
            want.push(`blk.${l}.${t}.weight.lora_a`, `blk.${l}.${t}.weight.lora_b`);
          }
        }
        assert.deepEqual(names, want.sort());
        const { hiddenSize: h, intermediateSize: ffn, headDim: d } = tiny.config;
        const outOf: Record<string, [number, number]> = {
          attn_q: [h, 4 * d],
          attn_k: [h, 2 * d],
          attn_v: [h, 2 * d],
          attn_output: [4 * d, h],
          ffn_gate: [h, ffn],
          ffn_up: [h, ffn],
          ffn_down: [ffn, h],
        };
        for (const t of g.tensors()) {
          const [, , kind] = t.name.split('.');
          const [inDim, outDim] = outOf[kind];
          assert.equal(t.type, GgmlType.F32);
          assert.deepEqual(t.dims, t.name.endsWith('lora_a') ? [inDim, 4] : [4, outDim], t.name);
        }
        // A is stored as is; B as is, except llama's q/k, whose rows follow the base weight's permutation.
        const A = adapter.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!.data as Float32Array;
        assert.deepEqual(floats(g, 'blk.1.ffn_down.weight.lora_a'), A);
        const qB = adapter.tensors.get('base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight')!.data as Float32Array;
        const stored = floats(g, 'blk.0.attn_k.weight.lora_b');
        if (architecture === 'LlamaForCausalLM') {
          const bytes = permuteRows(
            new Uint8Array(stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.byteLength)),
            2 * d,
            16,
            2,
            false,
          );
          assert.deepEqual(new Float32Array(bytes.buffer), qB);
          assert.notDeepEqual(stored, qB);
        } else {
          assert.deepEqual(stored, qB);
        }
      } finally {
        g.close();
      }
    });
  }

  it('a scale other than alpha/r (rsLoRA) is folded into B so llama.cpp applies the same product', () => {
    const dir = join(root, 'rs');
    const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 1, seed: 3 });
    const adapter = randomAdapter(tiny.config, 4, { useRslora: true, r: 4, alpha: 8 });
    const adir = join(root, 'rs-adapter');
    writePeftAdapter(adir, adapter);
    const out = join(root, 'rs.gguf');
    exportAdapterToGguf(adir, dir, out);
    const g = GgufFile.open(out);
    try {
      const B = adapter.tensors.get('base_model.model.model.layers.0.mlp.up_proj.lora_B.weight')!.data as Float32Array;
      const stored = floats(g, 'blk.0.ffn_up.weight.lora_b');
      const ratio = 8 / Math.sqrt(4) / (8 / 4); // PEFT's scale over llama.cpp's alpha / r
      stored.forEach((v, i) => assert.ok(Math.abs(v - B[i] * ratio) <= 1e-6 * Math.abs(B[i] * ratio), `${i}`));
    } finally {
      g.close();
    }
  });
});
