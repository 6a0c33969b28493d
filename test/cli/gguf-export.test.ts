import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultLoraSpec, GgufFile, layoutForSpec, makeLoraAdapter, writePeftAdapter } from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'cf-cli-gguf-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
const tiny = makeTinyModel(model, { architecture: 'LlamaForCausalLM', layers: 1, heads: 4, kvHeads: 2, seed: 12 });
const source = join(root, 'hello.py');
writeFileSync(source, 'def greet(name):\n    return "hi " + name\n');

const cli = (...args: string[]) => runCli(args, { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') });

describe('codefudge export --gguf and --model FILE.gguf', () => {
  const gguf = join(root, 'model.gguf');

  it('exports a model folder; inspect logits and complete give the same output from the GGUF', () => {
    const r = cli('export', '--gguf', gguf, '--quant', 'f32', '--model', model);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^wrote .*model\.gguf: 12 tensors, f32, [\d.]+ MiB\n$/);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left behind',
    );
    const ids = '5,17,42,3,99';
    const fromFolder = cli('inspect', 'logits', '--model', model, '--ids', ids);
    const fromGguf = cli('inspect', 'logits', '--model', gguf, '--ids', ids);
    assert.equal(fromGguf.code, 0, fromGguf.err);
    const a = JSON.parse(fromFolder.out) as number[][];
    const b = JSON.parse(fromGguf.out) as number[][];
    a.forEach((row, p) => row.forEach((v, i) => assert.ok(Math.abs(v - b[p][i]) <= 1e-5, `${p},${i}`)));
    const c1 = cli('complete', '--model', model, '--max-tokens', '5', `${source}:2:5`);
    const c2 = cli('complete', '--model', gguf, '--max-tokens', '5', `${source}:2:5`);
    assert.equal(c2.code, 0, c2.err);
    assert.equal(c2.out, c1.out);
  });

  it('q4_0 and q8_0 exports are readable GGUF with quantized 2-D tensors', () => {
    for (const quant of ['q4_0', 'q8_0']) {
      const out = join(root, `model-${quant}.gguf`);
      const r = cli('export', '--gguf', out, '--quant', quant, '--model', model);
      assert.equal(r.code, 0, r.err);
      const g = GgufFile.open(out);
      assert.equal(g.tensor('blk.0.attn_q.weight').type, quant === 'q4_0' ? 2 : 8);
      assert.equal(g.tensor('blk.0.attn_norm.weight').type, 0);
      g.close();
    }
  });

  it('exports an adapter as llama.cpp LoRA GGUF', () => {
    const spec = defaultLoraSpec({ r: 2, alpha: 4 });
    const rng = new Rng(1);
    const m = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const mod of layoutForSpec(tiny.config, spec).modules) {
      m.set(mod.keyA, { shape: [mod.r, mod.inFeatures], data: Float32Array.from({ length: mod.r * mod.inFeatures }, () => rng.normal()) });
      m.set(mod.keyB, {
        shape: [mod.outFeatures, mod.r],
        data: Float32Array.from({ length: mod.outFeatures * mod.r }, () => rng.normal()),
      });
    }
    const adir = join(root, 'adapter');
    writePeftAdapter(adir, makeLoraAdapter(spec, null, m));
    const out = join(root, 'adapter.gguf');
    const r = cli('export', '--gguf-adapter', out, '--adapter', adir, '--model', model);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /LoRA adapter, 7 modules/);
    const g = GgufFile.open(out);
    assert.equal(g.get('general.type'), 'adapter');
    assert.equal(g.tensors().length, 14);
    g.close();
  });

  it('bad flags and bad files are one-line errors', () => {
    assertOneLineError(
      cli('export', '--gguf', join(root, 'x.gguf'), '--quant', 'q3_k', '--model', model),
      /--quant must be one of f32, f16, q8_0, q4_0/,
    );
    assertOneLineError(cli('export', '--model', model), /exactly one of --gguf OUT or --gguf-adapter OUT/);
    assertOneLineError(cli('export', '--gguf-adapter', join(root, 'a.gguf'), '--model', model), /needs --adapter DIR/);
    assertOneLineError(
      cli('export', '--gguf-adapter', join(root, 'a.gguf'), '--adapter', join(root, 'nope'), '--model', model),
      /adapter folder ".*nope" does not exist/,
    );
    const bytes = readFileSync(join(root, 'model.gguf'));
    const truncated = join(root, 'truncated.gguf');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    assertOneLineError(
      cli('inspect', 'logits', '--model', truncated, '--ids', '1,2'),
      /truncated\.gguf: tensor "output\.weight" .* runs past the end of the file/,
    );
    assertOneLineError(cli('bench', 'infer', '--model', model, '--against', 'vllm'), /--against must be llama\.cpp/);
    assertOneLineError(
      cli('bench', 'infer', '--model', model, '--against', 'llama.cpp', '--quant', 'q2_k'),
      /--quant must be int4, int8 or none/,
    );
  });
});
