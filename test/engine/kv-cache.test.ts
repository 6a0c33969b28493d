// The sequence-major KV cache: a forward pass appends its rows in place, a truncated or older
// cache is never changed by a later append (copy on write), and every path gives the logits of the
// reference forward over the whole sequence.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CausalLM, loadCausalLM } from '../../engine/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';

const root = mkdtempSync(join(tmpdir(), 'cf-kv-cache-'));
let lm: CausalLM;
let tiny: ReturnType<typeof makeTinyModel>;

before(async () => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
  tiny = makeTinyModel(join(root, 'model'), { architecture: 'Qwen2ForCausalLM', layers: 2, heads: 4, kvHeads: 2, seed: 11 });
  lm = await loadCausalLM(join(root, 'model'), { logits: 'last', threads: 1 });
});
after(async () => {
  await lm.release();
  rmSync(root, { recursive: true, force: true });
});

/** The last position's logits of the reference forward over `ids`. */
function expected(ids: number[]): number[] {
  return Array.from(referenceLogits(tiny.config, tiny.tensors, [ids])[0].at(-1)!);
}

function assertClose(actual: Float32Array, want: number[], what: string): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(actual[i] - want[i]));
  assert.ok(worst < 1e-4, `${what}: max |Δ| ${worst}`);
}

const key0 = 'past_key_values.0.key';

describe('KV cache', () => {
  it('is [batch, length, kvHeads, headDim], and decode steps append in place', async () => {
    const a = await lm.forward([[5, 6, 7, 8, 9]], lm.emptyCache(1));
    assert.deepEqual(a.cache.tensors.get(key0)!.dims, [1, 5, tiny.config.numKvHeads, tiny.config.headDim]);
    const b = await lm.forward([[10]], a.cache);
    const c = await lm.forward([[11]], b.cache);
    assert.equal(c.cache.stores!.get(key0)!.data, a.cache.stores!.get(key0)!.data, 'the same buffer, not a copy per token');
    assertClose(c.logits, expected([5, 6, 7, 8, 9, 10, 11]), 'after two appended steps');
  });

  it('leaves an older or truncated cache unchanged when a shorter one is extended (copy on write)', async () => {
    const a = await lm.forward([[5, 6, 7, 8, 9]], lm.emptyCache(1));
    const longer = await lm.forward([[10, 11]], a.cache);
    const before = Float32Array.from(longer.cache.tensors.get(key0)!.data as Float32Array);
    // Extend the 5-token cache (and a 3-token prefix of it) with other tokens: the 7-token cache must keep its rows.
    const other = await lm.forward([[20, 21]], a.cache);
    const prefix = await lm.forward([[30]], CausalLM.truncate(longer.cache, 3));
    assert.deepEqual(longer.cache.tensors.get(key0)!.data, before);
    assertClose(other.logits, expected([5, 6, 7, 8, 9, 20, 21]), 'the 5-token cache extended');
    assertClose(prefix.logits, expected([5, 6, 7, 30]), 'its 3-token prefix extended');
    assertClose((await lm.forward([[12]], longer.cache)).logits, expected([5, 6, 7, 8, 9, 10, 11, 12]), 'the 7-token cache still extends');
  });

  it('extends a taken truncation in place: the given-up rows are overwritten, the logits stay right', async () => {
    const a = await lm.forward([[5, 6, 7, 8, 9]], lm.emptyCache(1));
    const kept = await lm.forward([[40, 41]], CausalLM.truncate(a.cache, 3, true));
    assert.equal(kept.cache.stores!.get(key0)!.data, a.cache.stores!.get(key0)!.data, 'no copy of the kept rows');
    assertClose(kept.logits, expected([5, 6, 7, 40, 41]), 'the taken prefix extended');
  });

  it('keeps batch rows apart and reorders them for beam search', async () => {
    const rows = [
      [5, 6, 7],
      [9, 8, 7],
    ];
    const two = await lm.forward(rows, lm.emptyCache(2));
    const swapped = await lm.forward([[4], [4]], CausalLM.selectRows(two.cache, [1, 0]));
    const vocab = tiny.config.vocabSize;
    assertClose(swapped.logits.subarray(0, vocab), expected([9, 8, 7, 4]), 'row 0 (was row 1)');
    assertClose(swapped.logits.subarray(vocab), expected([5, 6, 7, 4]), 'row 1 (was row 0)');
  });
});
