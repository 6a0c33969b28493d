// Issue 13 item 5: broken weights and adapter settings are refused with one clear line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  attachAdapter,
  exportAdapterToGguf,
  layoutForSpec,
  loadAdaptedCausalLM,
  loadTokenizer,
  makeLoraAdapter,
  openModelFolder,
  readPeftAdapter,
  writePeftAdapter,
  defaultLoraSpec,
  type ModelConfig,
} from '../../engine/index.js';
import { Rng, UserError } from '../../common/index.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-bad-weights-'));
const env = { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') };
before(() => {
  process.env.CODEFUDGE_CACHE = env.CODEFUDGE_CACHE;
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const oneLine = (pattern: RegExp) => (e: Error) => {
  assert.ok(e instanceof UserError, `not a UserError: ${e.stack}`);
  assert.match(e.message, pattern);
  assert.ok(!e.message.includes('\n'));
  return true;
};

/** A safetensors file of named F32 matrices. */
function safetensors(tensors: Record<string, { shape: number[]; data: number[] }>): Buffer {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, t] of Object.entries(tensors)) {
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.from(Float32Array.from(Object.values(tensors).flatMap((t) => t.data)).buffer)]);
}

function adapter(name: string, config: Record<string, unknown>, a: number[], b: number[], r: number): string {
  const dir = join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj'], ...config }),
  );
  const key = 'base_model.model.model.layers.0.self_attn.q_proj';
  fs.writeFileSync(
    join(dir, 'adapter_model.safetensors'),
    safetensors({
      [`${key}.lora_A.weight`]: { shape: [r, a.length / r], data: a },
      [`${key}.lora_B.weight`]: { shape: [b.length / r, r], data: b },
    }),
  );
  return dir;
}

it('an adapter with NaN, with a rank other than its config, or with a bad alpha_pattern regex', () => {
  assert.throws(() => readPeftAdapter(adapter('nan', {}, [1, 2, NaN, 4], [0, 0, 0, 0], 2)), oneLine(/NaN or infinite/));
  assert.throws(() => readPeftAdapter(adapter('inf', {}, [1, 2, 3, 4], [0, Infinity, 0, 0], 2)), oneLine(/NaN or infinite/));
  assert.throws(
    () => readPeftAdapter(adapter('rank', {}, [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 0, 0], 3)),
    oneLine(/rank 3 but adapter_config.json says r = 2/),
  );
  assert.throws(
    () => readPeftAdapter(adapter('regex', { alpha_pattern: { 'q_proj(': 8 } }, [1, 2, 3, 4], [0, 0, 0, 0], 2)),
    oneLine(/not a valid regular expression/),
  );
  assert.equal(readPeftAdapter(adapter('fine', {}, [1, 2, 3, 4], [0, 0, 0, 0], 2)).spec.r, 2);
});

it('a FIFO as model.safetensors is refused instead of blocking', () => {
  const dir = join(root, 'model');
  makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 1, hidden: 16, heads: 2, kvHeads: 1, ffn: 24, seed: 1, tied: true });
  fs.rmSync(join(dir, 'model.safetensors'));
  execFileSync('mkfifo', [join(dir, 'model.safetensors')]);
  assert.throws(() => openModelFolder(dir), oneLine(/not a regular file/));
});

/** A tiny two-layer model folder (vocab 320) whose JSON files the tests then spoil. */
function tinyModel(name: string): { dir: string; config: ModelConfig } {
  const dir = join(root, name);
  const { config } = makeTinyModel(dir, {
    architecture: 'Qwen2ForCausalLM',
    layers: 2,
    hidden: 16,
    heads: 2,
    kvHeads: 1,
    ffn: 24,
    seed: 2,
  });
  return { dir, config };
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
}

/** `codefudge complete` at the end of a one-line Python file. */
function complete(model: string, ...extra: string[]) {
  const file = join(root, 'f.py');
  fs.writeFileSync(file, 'def f(x):\n    return');
  return runCli(['complete', '--model', model, ...extra, `${file}:2:11`], env);
}

describe('a config.json or tokenizer.json that does not fit the weights', () => {
  it('num_hidden_layers smaller or larger than the layers the weights hold', () => {
    const { dir } = tinyModel('layers');
    editJson(join(dir, 'config.json'), (c) => (c.num_hidden_layers = 1));
    const fewer = /config\.json says num_hidden_layers = 1, but the weights have 2 layers \(model\.layers\.0 to model\.layers\.1\)$/;
    assert.throws(() => openModelFolder(dir), oneLine(fewer));
    assertOneLineError(runCli(['inspect', 'logits', '--model', dir, '--ids', '1,2'], env), fewer);
    editJson(join(dir, 'config.json'), (c) => (c.num_hidden_layers = 3));
    assert.throws(() => openModelFolder(dir), oneLine(/num_hidden_layers = 3, but the weights have 2 layers/));
  });

  it('max_position_embeddings 1, or too few positions for a fill-in-the-middle prompt', () => {
    const { dir } = tinyModel('positions');
    editJson(join(dir, 'config.json'), (c) => (c.max_position_embeddings = 1));
    const one = /config\.json: field "max_position_embeddings" is 1; a model needs at least 2 positions/;
    assert.throws(() => openModelFolder(dir), oneLine(one));
    assertOneLineError(complete(dir), one);
    // Loads, but a completion could only ever be empty (it used to be, silently, with exit 0).
    editJson(join(dir, 'config.json'), (c) => (c.max_position_embeddings = 8));
    assertOneLineError(complete(dir), /max_position_embeddings 8 is too small; a fill-in-the-middle prompt needs at least 16 positions/);
  });

  it('a token id at or past vocab_size, named with its token at load', async () => {
    const { dir } = tinyModel('token-ids');
    editJson(join(dir, 'tokenizer.json'), (t) =>
      (t.added_tokens as object[]).push({
        id: 400,
        content: '<extra>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      }),
    );
    const extra =
      /tokenizer\.json: token "<extra>" has id 400, but the model has only 320 token embeddings \(vocab_size in config\.json\)$/;
    await assert.rejects(loadTokenizer(dir), oneLine(extra));
    assertOneLineError(complete(dir), extra);

    // The model's own vocabulary past a smaller vocab_size: the lowest such id is named, the rest counted.
    const { dir: small } = tinyModel('small-vocab');
    const vocab = JSON.parse(fs.readFileSync(join(small, 'tokenizer.json'), 'utf8')).model.vocab as Record<string, number>;
    const past = Object.entries(vocab).filter(([, id]) => id >= 300);
    const [first] = past.sort((a, b) => a[1] - b[1]);
    editJson(join(small, 'config.json'), (c) => (c.vocab_size = 300));
    await assert.rejects(
      loadTokenizer(small),
      oneLine(new RegExp(`token ${JSON.stringify(first[0])} has id 300, .*; ${past.length - 1} more tokens have ids of 300 or more$`)),
    );
  });
});

/** A PEFT folder of random q_proj and v_proj LoRA matrices on every layer; `keep` drops the others' matrices. */
function randomAdapter(name: string, config: ModelConfig, peft: Record<string, unknown> = {}, keep = (_key: string) => true): string {
  const spec = defaultLoraSpec({ r: 2, alpha: 4, targets: ['q_proj', 'v_proj'] });
  const rng = new Rng(7);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layoutForSpec(config, spec).modules) {
    const fill = (n: number) => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * 0.5);
    if (!keep(m.keyA)) continue;
    matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: fill(m.r * m.inFeatures) });
    matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: fill(m.outFeatures * m.r) });
  }
  const dir = join(root, name);
  writePeftAdapter(dir, makeLoraAdapter(spec, null, matrices));
  editJson(join(dir, 'adapter_config.json'), (c) => Object.assign(c, peft));
  return dir;
}

describe('adapter settings that name what the model does not have', () => {
  const { dir: model, config } = tinyModel('lora-model');

  it('target_modules naming a module the model lacks, named with the ones it has', () => {
    const typo = randomAdapter('typo', config, { target_modules: ['q_proj', 'q_projx'] });
    const message =
      /LoRA target_modules names "q_projx", which matches no projection of the model \(the model's projections are q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj\)$/;
    assert.throws(() => attachAdapter(config, readPeftAdapter(typo)), oneLine(message));
    assertOneLineError(complete(model, '--adapter', typo), message);
    const regex = randomAdapter('regex', config, { target_modules: '.*\\.attn\\.q_proj' });
    assert.throws(() => attachAdapter(config, readPeftAdapter(regex)), oneLine(/target_modules regex ".*" matches no projection/));
  });

  it('layers_to_transform (with layers_pattern) is honoured: matrices of other layers are not applied, as in PEFT', async () => {
    const layer0 = (key: string) => key.includes('.layers.0.');
    const dirs = {
      all: randomAdapter('all-layers', config),
      listed: randomAdapter('layers-0', config, { layers_to_transform: [0] }),
      patterned: randomAdapter('layers-0-pattern', config, { layers_to_transform: 0, layers_pattern: 'layers' }),
      only: randomAdapter('only-layer-0', config, {}, layer0),
    };
    const ids = [[5, 17, 42, 3, 99, 250, 7, 64]];
    const logits: Record<string, Float32Array> = {};
    for (const [name, dir] of Object.entries(dirs)) {
      const adapted = await loadAdaptedCausalLM(model, dir, { logits: 'all', threads: 1 });
      logits[name] = Float32Array.from((await adapted.lm.forward(ids, adapted.lm.emptyCache(1), { extra: adapted.feeds })).logits);
      await adapted.lm.release();
    }
    assert.deepEqual(logits.listed, logits.only, 'layers_to_transform [0] applies only the layer-0 matrices');
    assert.deepEqual(logits.patterned, logits.only, 'and so does layers_to_transform 0 with layers_pattern "layers"');
    assert.ok(
      logits.all.some((v, i) => Math.abs(v - logits.only[i]) > 1e-3),
      'the layer-1 matrices change the logits when every layer is transformed',
    );
    assert.deepEqual(
      attachAdapter(config, readPeftAdapter(dirs.listed)).layout.modules.map((m) => m.module),
      ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.v_proj'],
    );
    // llama.cpp gets what PEFT applies.
    assert.equal(exportAdapterToGguf(dirs.listed, model, join(root, 'listed.gguf')).modules, 2);
  });

  it('layers_to_transform past the layers, a layers_pattern that finds none, or either with a regex target', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ layers_to_transform: [0, 5] }, /LoRA layers_to_transform names layer 5, but the model has 2 layers \(0 to 1\)$/],
      [{ layers_to_transform: [0], layers_pattern: ['h', 'blocks'] }, /LoRA layers_pattern \["h","blocks"\] finds no layer index/],
      [{ layers_to_transform: 'first' }, /"layers_to_transform" must be a layer index or a list of them, got "first"$/],
      [{ layers_to_transform: [0], layers_pattern: 'layers(' }, /"layers_pattern" entry "layers\(" is not a valid regular expression$/],
      [
        { target_modules: '.*q_proj', layers_to_transform: [0] },
        /layers_to_transform and layers_pattern need target_modules as a list of names/,
      ],
    ];
    cases.forEach(([peft, message], i) => {
      const dir = randomAdapter(`bad-layers-${i}`, config, peft);
      assert.throws(() => attachAdapter(config, readPeftAdapter(dir)), oneLine(message), JSON.stringify(peft));
    });
  });
});
