// `--quant` on the model-loading commands: accepted everywhere, a bad value is one clear line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { assertOneLineError, runCli } from '../helpers/cli.js';
import { decodeWeightBytes } from '../../bench/infer.js';
import { openModelFolder } from '../../engine/model-folder.js';
import { quantizedBytes, quantizeWeight } from '../../engine/quant/quantize.js';

const root = mkdtempSync(join(tmpdir(), 'cf-cli-quant-'));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, 'model');
makeTinyModel(model, { architecture: 'Qwen2ForCausalLM', layers: 1, hidden: 64, heads: 4, kvHeads: 2, seed: 12 });
const source = join(root, 'hello.py');
writeFileSync(source, 'def greet(name):\n    return "hi " + name\n');
const cli = (...args: string[]) => runCli(args, { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') });

describe('--quant', () => {
  it('inspect logits: int4 logits differ from float32 by quantization error only', () => {
    const rows = (quant: string) => {
      const r = cli('inspect', 'logits', '--model', model, '--ids', '1,2,3,40', '--quant', quant);
      assert.equal(r.code, 0, r.err);
      return (JSON.parse(r.out) as number[][]).flat();
    };
    const f32 = rows('none');
    const int4 = rows('int4');
    const worst = Math.max(...f32.map((v, i) => Math.abs(v - int4[i])));
    const size = Math.max(...f32.map(Math.abs));
    assert.ok(worst > 0 && worst < 0.2 * size, `max difference ${worst}, logits up to ${size}`);
  });

  it("bench infer's decode bound counts an int4 model's head at 4 bits, the draft it reads (see lmHead)", () => {
    // One layer: its projections are the first and last, int8 in both modes, so only the head differs.
    const folder = openModelFolder(model);
    const head = (bits: 4 | 8) => quantizedBytes(quantizeWeight(new Float32Array(320 * 64), 320, 64, bits));
    assert.equal(decodeWeightBytes(folder, 'int4') - decodeWeightBytes(folder, 'int8'), head(4) - head(8));
    folder.weights.close();
  });

  it('complete runs with int8 weights', () => {
    const r = cli('complete', '--model', model, '--max-tokens', '3', '--quant', 'int8', `${source}:2:5`);
    assert.equal(r.code, 0, r.err);
  });

  for (const cmd of [
    ['complete', '--model', model, `${source}:2:5`],
    ['inspect', 'logits', '--model', model, '--ids', '1,2'],
    ['bench', 'infer', '--model', model],
    ['bench', 'lora', '--model', model],
    ['bench', 'typing', '--model', model],
    ['adapt', root, '--model', model],
    ['fim-eval', root, '--model', model],
    ['suggest-diff', '--repo', root, '--file', 'hello.py', '--model', model],
    ['serve', '--model', model],
  ]) {
    it(`${cmd.slice(0, 2).join(' ')}: a bad value is one line naming the choices`, () => {
      assertOneLineError(cli(...cmd, '--quant', 'q4_0'), /--quant must be int4, int8 or none, got "q4_0"/);
    });
  }
});
