import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UserError, Rng } from '../../common/index.js';
import {
  attachAdapter,
  defaultLoraSpec,
  f32ToF16,
  layoutForSpec,
  makeLoraAdapter,
  parseModelConfig,
  pythonFloat,
  pythonJson,
  readPeftAdapter,
  writePeftAdapter,
  initLoraMatrices,
} from '../../engine/index.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-lora-peft-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** The bytes Python's safetensors writes: u64 header length, compact JSON header padded with spaces to 8, data. */
function safetensorsBytes(header: string, data: Uint8Array[]): Buffer {
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([len, Buffer.from(padded, 'utf8'), ...data]);
}

const bytesOf = (a: Uint16Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** An adapter_config.json exactly as PEFT 0.17 writes it (json.dumps(indent=2, sort_keys=True), no final newline). */
const PEFT_CONFIG = `{
  "alpha_pattern": {},
  "auto_mapping": null,
  "base_model_name_or_path": "Qwen/Qwen2.5-Coder-0.5B",
  "bias": "none",
  "corda_config": null,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 16,
  "lora_bias": false,
  "lora_dropout": 0.05,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "qalora_group_size": 16,
  "r": 2,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "v_proj",
    "q_proj"
  ],
  "target_parameters": null,
  "task_type": "CAUSAL_LM",
  "trainable_token_indices": null,
  "use_dora": false,
  "use_qalora": false,
  "use_rslora": false
}`;

/** A PEFT-written F16 adapter for q_proj and v_proj of layer 0 of a hidden-8 model (v: 4 outputs). */
function writePeftStyleFolder(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const values = (n: number, k: number) => f32ToF16(Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.5));
  const qa = values(16, 1),
    qb = values(16, 2),
    va = values(16, 3),
    vb = values(8, 4);
  const p = 'base_model.model.model.layers.0.self_attn';
  // Python's safetensors orders tensors by dtype, then name, and puts __metadata__ first.
  const header =
    `{"__metadata__":{"format":"pt"},` +
    `"${p}.q_proj.lora_A.weight":{"dtype":"F16","shape":[2,8],"data_offsets":[0,32]},` +
    `"${p}.q_proj.lora_B.weight":{"dtype":"F16","shape":[8,2],"data_offsets":[32,64]},` +
    `"${p}.v_proj.lora_A.weight":{"dtype":"F16","shape":[2,8],"data_offsets":[64,96]},` +
    `"${p}.v_proj.lora_B.weight":{"dtype":"F16","shape":[4,2],"data_offsets":[96,112]}}`;
  fs.writeFileSync(join(dir, 'adapter_model.safetensors'), safetensorsBytes(header, [qa, qb, va, vb].map(bytesOf)));
  fs.writeFileSync(join(dir, 'adapter_config.json'), PEFT_CONFIG);
}

const tinyConfig = parseModelConfig({
  architectures: ['LlamaForCausalLM'],
  vocab_size: 16,
  hidden_size: 8,
  intermediate_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
});

const same = (a: string, b: string, file: string) =>
  assert.ok(fs.readFileSync(join(a, file)).equals(fs.readFileSync(join(b, file))), `${file} differs`);

describe('PEFT adapter folders', () => {
  it('a PEFT-written F16 adapter loads and saves back byte-for-byte', () => {
    const src = join(root, 'peft-f16');
    const dst = join(root, 'peft-f16-copy');
    writePeftStyleFolder(src);
    const adapter = readPeftAdapter(src);
    assert.equal(adapter.spec.r, 2);
    assert.equal(adapter.spec.alpha, 16);
    assert.equal(adapter.spec.dropout, 0.05);
    assert.deepEqual([...adapter.spec.targets].sort(), ['q_proj', 'v_proj']);
    assert.equal(adapter.baseModel, 'Qwen/Qwen2.5-Coder-0.5B');
    assert.deepEqual(adapter.metadata, { format: 'pt' });
    assert.equal(adapter.tensors.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight')?.dtype, 'F16');
    writePeftAdapter(dst, adapter);
    same(src, dst, 'adapter_model.safetensors');
    same(src, dst, 'adapter_config.json');
    assert.ok(!fs.existsSync(join(dst, 'codefudge.json')));

    const attached = attachAdapter(tinyConfig, adapter);
    assert.deepEqual(
      attached.layout.modules.map((m) => [m.module, m.r, m.scale]),
      [
        ['model.layers.0.self_attn.q_proj', 2, 8],
        ['model.layers.0.self_attn.v_proj', 2, 8],
      ],
    );
  });

  it('an adapter of ours round-trips byte-for-byte, with codefudge fields kept out of adapter_config.json', () => {
    const spec = defaultLoraSpec({ r: 4, alpha: 8, dropout: 0 });
    const matrices = initLoraMatrices(layoutForSpec(tinyConfig, spec), new Rng(3));
    const meta = { base_model_fingerprint: 'abc123', trained_through_commit: 'deadbeef' };
    const first = join(root, 'ours');
    const second = join(root, 'ours-copy');
    writePeftAdapter(first, makeLoraAdapter(spec, 'models/tiny', matrices, meta));
    const config = fs.readFileSync(join(first, 'adapter_config.json'), 'utf8');
    assert.match(config, /\n {2}"lora_dropout": 0\.0,\n/);
    assert.match(config, /\n {2}"target_modules": \[\n {4}"down_proj",\n {4}"gate_proj",/);
    assert.ok(!config.endsWith('\n'));
    const json = JSON.parse(config);
    assert.equal(json.peft_type, 'LORA');
    assert.equal(json.task_type, 'CAUSAL_LM');
    assert.equal(json.bias, 'none');
    assert.equal(json.fan_in_fan_out, false);
    assert.equal(json.use_rslora, false);
    assert.ok(!('trained_through_commit' in json));
    const back = readPeftAdapter(first);
    assert.deepEqual(back.codefudge, meta);
    assert.deepEqual(Object.keys(back.metadata), ['format']);
    // 2 layers x 7 projections x (A, B), all float32 as written.
    assert.equal(back.tensors.size, 28);
    for (const [key, t] of matrices) assert.deepEqual(back.tensors.get(key)?.data, t.data);
    writePeftAdapter(second, back);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json', 'codefudge.json']) same(first, second, f);
  });

  it('a changed config is rewritten the way PEFT writes it', () => {
    const src = join(root, 'peft-f16');
    const adapter = readPeftAdapter(src);
    adapter.config = { ...adapter.config, lora_dropout: 0 };
    const dst = join(root, 'peft-changed');
    writePeftAdapter(dst, adapter);
    const text = fs.readFileSync(join(dst, 'adapter_config.json'), 'utf8');
    assert.equal(text, PEFT_CONFIG.replace('"lora_dropout": 0.05', '"lora_dropout": 0.0'));
  });

  it('refuses what it cannot apply faithfully, in one line', () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['not LoRA', (d) => fs.writeFileSync(join(d, 'adapter_config.json'), PEFT_CONFIG.replace('"LORA"', '"IA3"')), /only "LORA"/],
      [
        'DoRA',
        (d) => fs.writeFileSync(join(d, 'adapter_config.json'), PEFT_CONFIG.replace('"use_dora": false', '"use_dora": true')),
        /DoRA/,
      ],
      ['not JSON', (d) => fs.writeFileSync(join(d, 'adapter_config.json'), '{'), /not valid JSON/],
      ['no weights', (d) => fs.rmSync(join(d, 'adapter_model.safetensors')), /has no adapter_model\.safetensors/],
    ];
    cases.forEach(([name, spoil, message], i) => {
      const dir = join(root, `bad${i}`);
      writePeftStyleFolder(dir);
      spoil(dir);
      assert.throws(
        () => readPeftAdapter(dir),
        (e: Error) => e instanceof UserError && message.test(e.message) && !e.message.includes('\n'),
        name,
      );
    });
    assert.throws(() => readPeftAdapter(join(root, 'missing')), /does not exist/);
  });

  it('refuses matrices that do not fit the model', () => {
    const adapter = readPeftAdapter(join(root, 'peft-f16'));
    const wide = parseModelConfig({ ...tinyConfig.raw, hidden_size: 16 });
    assert.throws(
      () => attachAdapter(wide, adapter),
      (e: Error) => e instanceof UserError && /q_proj" have shapes A \[2, 8\]/.test(e.message),
    );
    const oneLayer = parseModelConfig({ ...tinyConfig.raw, num_hidden_layers: 0 + 1 });
    assert.doesNotThrow(() => attachAdapter(oneLayer, adapter));
    const half = readPeftAdapter(join(root, 'peft-f16'));
    half.tensors.delete('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
    assert.throws(() => attachAdapter(tinyConfig, half), /has lora_A but no lora_B for module "model\.layers\.0\.self_attn\.q_proj"/);
  });
});

describe('pythonJson', () => {
  it('writes what json.dumps(indent=2, sort_keys=True) writes', () => {
    const value = { b: [1, 2.5, true, null], a: { 'é😀': 'tab\there "q"', empty: [], none: {} }, c: 1e-5, d: 1e16 };
    assert.equal(
      pythonJson(value),
      '{\n  "a": {\n    "empty": [],\n    "none": {},\n    "\\u00e9\\ud83d\\ude00": "tab\\there \\"q\\""\n  },\n' +
        '  "b": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  "c": 1e-05,\n  "d": 10000000000000000\n}',
    );
    assert.deepEqual([0, 0.1, 1e-4, 1.5e-7, 2, 1e16, 123456.789].map(pythonFloat), [
      '0.0',
      '0.1',
      '0.0001',
      '1.5e-07',
      '2.0',
      '1e+16',
      '123456.789',
    ]);
  });
});
