import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  adapterFeeds,
  attachAdapter,
  defaultLoraSpec,
  layoutForSpec,
  loadAdaptedCausalLM,
  loadCausalLM,
  makeLoraAdapter,
  noAdapterFeeds,
  openModelFolder,
  writePeftAdapter,
  type LoraAdapter,
  type ModelConfig,
} from '../../engine/index.js';
import { Rng } from '../../common/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';
import { referenceLogits } from '../helpers/reference-llama.js';
import { withOwnGraphCache } from '../helpers/own-graph-cache.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-lora-infer-'));
const cache = join(root, 'cache');
before(() => {
  process.env.CODEFUDGE_CACHE = cache;
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const IDS = [[5, 17, 42, 3, 99, 250, 7, 64, 1, 300, 12, 8]];

/** An adapter with both matrices random (a trained adapter's B is no longer zero). */
function randomAdapter(cfg: ModelConfig, seed: number, overrides: Parameters<typeof defaultLoraSpec>[0] = {}): LoraAdapter {
  const spec = defaultLoraSpec({ r: 4, alpha: 8, ...overrides });
  const rng = new Rng(seed);
  const matrices = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const m of layoutForSpec(cfg, spec).modules) {
    const fill = (n: number, s: number) => Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * s);
    matrices.set(m.keyA, { shape: [m.r, m.inFeatures], data: fill(m.r * m.inFeatures, 0.5) });
    matrices.set(m.keyB, { shape: [m.outFeatures, m.r], data: fill(m.outFeatures * m.r, 0.2) });
  }
  return makeLoraAdapter(spec, null, matrices);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('inference with a LoRA adapter', () => {
  const dir = join(root, 'model');
  const tiny = makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 2, heads: 4, kvHeads: 2, seed: 11 });
  const cfg = tiny.config;

  it('unmerged equals merged, both differ from the base, and both match the float64 reference', async () => {
    const adapter = randomAdapter(cfg, 1, { useRslora: true });
    const base = await loadCausalLM(dir, { logits: 'all', threads: 1 });
    const baseLogits = (await base.forward(IDS, base.emptyCache(1))).logits;
    const unmerged = await loadAdaptedCausalLM(dir, adapter, { logits: 'all', threads: 1 });
    const merged = await loadAdaptedCausalLM(dir, adapter, { logits: 'all', threads: 1, merge: true });
    const u = (await unmerged.lm.forward(IDS, unmerged.lm.emptyCache(1), { extra: unmerged.feeds })).logits;
    const m = (await merged.lm.forward(IDS, merged.lm.emptyCache(1), { extra: merged.feeds })).logits;
    assert.ok(maxDiff(u, m) < 1e-4, `unmerged vs merged ${maxDiff(u, m)}`);
    assert.ok(maxDiff(u, baseLogits) > 0.05, `the adapter changes the logits (${maxDiff(u, baseLogits)})`);

    // Independent check: the reference forward over W + (alpha/sqrt(r))·B·A computed here in float64.
    const attached = attachAdapter(cfg, adapter);
    const weights = new Map(tiny.tensors);
    for (const mod of attached.layout.modules) {
      const A = attached.matrix(mod.keyA);
      const B = attached.matrix(mod.keyB);
      const W = Float64Array.from(tiny.tensors.get(`${mod.module}.weight`)!);
      assert.equal(mod.scale, 8 / 2); // rsLoRA: alpha / sqrt(r)
      for (let o = 0; o < mod.outFeatures; o++) {
        for (let i = 0; i < mod.inFeatures; i++) {
          let s = 0;
          for (let k = 0; k < mod.r; k++) s += B[o * mod.r + k] * A[k * mod.inFeatures + i];
          W[o * mod.inFeatures + i] += mod.scale * s;
        }
      }
      weights.set(`${mod.module}.weight`, W as unknown as Float32Array);
    }
    const ref = referenceLogits(cfg, weights, IDS)[0];
    const flat = Float64Array.from(ref.flatMap((row) => [...row]));
    assert.ok(maxDiff(u, flat) < 1e-4, `unmerged vs reference ${maxDiff(u, flat)}`);
    await Promise.all([base.release(), unmerged.lm.release(), merged.lm.release()]);
  });

  it('one compiled graph serves every adapter on the same modules; a zero B gives the base logits exactly', async () => {
    const base = await loadCausalLM(dir, { logits: 'all', threads: 1 });
    const baseLogits = (await base.forward(IDS, base.emptyCache(1))).logits;
    const first = randomAdapter(cfg, 2);
    const lm = await loadAdaptedCausalLM(dir, first, { logits: 'all', threads: 1 });
    const secondMerged = await withOwnGraphCache(root, async (graphs) => {
      const run = async (feeds: typeof lm.feeds) => (await lm.lm.forward(IDS, lm.lm.emptyCache(1), { extra: feeds })).logits;
      const firstLogits = await run(lm.feeds);

      // Another adapter, another rank: same graph, other feeds.
      const second = randomAdapter(cfg, 3, { r: 2, alpha: 3 });
      const secondAttached = attachAdapter(cfg, second);
      const secondLogits = await run(adapterFeeds(secondAttached));
      const secondMerged = await loadAdaptedCausalLM(openModelFolder(dir), second, { logits: 'all', threads: 1, merge: true });
      const expected = (await secondMerged.lm.forward(IDS, secondMerged.lm.emptyCache(1))).logits;
      assert.ok(maxDiff(secondLogits, expected) < 1e-4);
      assert.ok(maxDiff(secondLogits, firstLogits) > 0.05);

      // Switching back gives the first adapter's logits again, bit for bit.
      assert.deepEqual(await run(lm.feeds), firstLogits);

      const zeroB = randomAdapter(cfg, 4);
      for (const [key, t] of zeroB.tensors) if (key.endsWith('lora_B.weight')) t.data.fill(0);
      assert.deepEqual(await run(adapterFeeds(attachAdapter(cfg, zeroB))), baseLogits);
      assert.deepEqual(await run(noAdapterFeeds(lm.attached.layout)), baseLogits);
      // Only the merged graph of `second` was compiled after the unmerged one.
      assert.equal(graphs().length, 1);
      return secondMerged;
    });
    await Promise.all([base.release(), lm.lm.release(), secondMerged.lm.release()]);
  });

  it('loads an adapter folder, including one stored in F16, with the KV cache', async () => {
    const adapter = randomAdapter(cfg, 5, { targets: ['q_proj', 'v_proj'] });
    for (const t of adapter.tensors.values()) t.dtype = 'F16';
    const folder = join(root, 'adapter-f16');
    writePeftAdapter(folder, adapter);
    const lm = await loadAdaptedCausalLM(dir, folder, { logits: 'all', threads: 1 });
    assert.equal(lm.attached.layout.modules.length, 4);
    const full = (await lm.lm.forward(IDS, lm.lm.emptyCache(1), { extra: lm.feeds })).logits;
    const head = await lm.lm.forward([IDS[0].slice(0, 7)], lm.lm.emptyCache(1), { extra: lm.feeds });
    const tail = await lm.lm.forward([IDS[0].slice(7)], head.cache, { extra: lm.feeds });
    const V = cfg.vocabSize;
    assert.ok(maxDiff(tail.logits, full.subarray(7 * V)) < 1e-5);
    await lm.lm.release();
  });
});
