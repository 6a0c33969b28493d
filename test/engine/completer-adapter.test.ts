import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Completer,
  defaultLoraSpec,
  generate,
  initLoraMatrices,
  layoutForSpec,
  loadAdaptedCausalLM,
  loadTokenizer,
  makeLoraAdapter,
  writePeftAdapter,
  type ModelConfig,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { withOwnGraphCache } from '../helpers/own-graph-cache.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'cf-completer-adapter-'));
const dir = join(root, 'model');
let config: ModelConfig;
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
  config = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 2, heads: 4, kvHeads: 2, seed: 21 }).config;
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A PEFT adapter with random non-zero B, so it visibly changes the model. */
function writeAdapter(name: string, seed: number, targets: string[]): string {
  const spec = defaultLoraSpec({ r: 4, alpha: 8, targets });
  const rng = new Rng(seed);
  const m = initLoraMatrices(layoutForSpec(config, spec), rng);
  for (const [key, t] of m)
    if (key.includes('lora_B'))
      t.data.forEach((_, i) => {
        t.data[i] = 0.5 * rng.normal();
      });
  const out = join(root, name);
  writePeftAdapter(out, makeLoraAdapter(spec, dir, m));
  return out;
}

const request = { prefix: 'def f(x):\n    return ', suffix: '\n', maxNewTokens: 8 };

describe('Completer with LoRA adapters', () => {
  it('completes with an adapter as the merged model does, switches adapters without recompiling, and goes back to the base', async () => {
    const a = writeAdapter('a', 1, ['q_proj', 'v_proj', 'down_proj']);
    const b = writeAdapter('b', 2, ['q_proj', 'v_proj', 'down_proj']);
    const base = await Completer.load(dir, { threads: 1 });
    const baseText = (await base.complete(request)).text;
    const c = await Completer.load(dir, { threads: 1, adapter: a });
    const withA = await c.complete(request);

    const tok = await loadTokenizer(dir);
    const merged = await loadAdaptedCausalLM(dir, a, { logits: 'last', merge: true, threads: 1 });
    const expected = await generate(merged.lm, tok, c.promptIds(request.prefix, request.suffix), {
      maxNewTokens: 8,
      stopTokens: c.stopTokenIds(),
    });
    assert.deepEqual(withA.ids, expected.ids);
    assert.notEqual(withA.text, baseText);

    const withB = await withOwnGraphCache(root, async (graphs) => {
      const out = await c.setAdapter(b).then(() => c.complete(request));
      assert.deepEqual(graphs(), [], 'switching to an adapter on the same modules compiled a new graph');
      return out;
    });
    assert.notDeepEqual(withB.ids, withA.ids);
    await c.setAdapter(a);
    assert.deepEqual((await c.complete(request)).ids, withA.ids);
    await c.setAdapter(undefined);
    assert.equal((await c.complete(request)).text, baseText);
    await Promise.all([base.release(), c.release(), merged.lm.release()]);
  });
});
