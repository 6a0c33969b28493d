import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCausalLM, loadTokenizer } from '../../engine/index.js';
import { HiddenStateJudge } from '../../eval/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-judge-'));
process.env.CODEFUDGE_CACHE = join(root, 'cache');
const model = join(root, 'model');
const { config } = makeTinyModel(model, { layers: 1, seed: 4 });
const judge = await HiddenStateJudge.load(model, { threads: 1 });
after(async () => {
  await judge.release();
  rmSync(root, { recursive: true, force: true });
});

describe('hidden-state cosine', () => {
  it("embeds a text as the mean of its tokens' final hidden states", async () => {
    const text = 'def f(x):\n    return x';
    const lm = await loadCausalLM(model, { logits: 'all', hidden: true, threads: 1 });
    const ids = (await loadTokenizer(model)).encode(text);
    const { hidden } = await lm.forward([ids], lm.emptyCache(1));
    await lm.release();
    const H = config.hiddenSize;
    const got = (await judge.embed(text))!;
    assert.equal(got.length, H);
    for (let i = 0; i < H; i++) {
      let sum = 0;
      for (let t = 0; t < ids.length; t++) sum += hidden![t * H + i];
      assert.ok(Math.abs(got[i] - sum / ids.length) < 1e-5, `component ${i}`);
    }
    assert.equal(await judge.embed(''), null);
  });

  it('is 1 for equal texts, symmetric, below 1 for different texts; empty texts are defined', async () => {
    assert.ok(Math.abs((await judge.similarity('return x', 'return x')) - 1) < 1e-6);
    const ab = await judge.similarity('return x', 'import os');
    assert.ok(ab < 0.9999 && ab >= -1);
    assert.equal(ab, await judge.similarity('import os', 'return x'));
    assert.equal(await judge.similarity('', ''), 1);
    assert.equal(await judge.similarity('', 'x'), 0);
    assert.equal(await judge.similarity('x', ''), 0);
  });
});
