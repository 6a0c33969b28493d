import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UserError, Rng } from '../../common/index.js';
import { defaultLoraSpec, loadAdaptedCausalLM, openModelFolder, readPeftAdapter, writePeftAdapter } from '../../engine/index.js';
import { CHECKPOINT_FILE, TrainLoop, fullTarget, loraTarget, type TrainExample, type TrainLoopOptions } from '../../finetune/index.js';
import { makeTinyModel } from '../helpers/tiny-model.js';

const root = fs.mkdtempSync(join(tmpdir(), 'cf-train-lora-'));
before(() => {
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const modelDir = join(root, 'model');
const tiny = makeTinyModel(modelDir, {
  architecture: 'Qwen2ForCausalLM',
  layers: 2,
  hidden: 32,
  heads: 4,
  kvHeads: 2,
  ffn: 48,
  seed: 3,
  tied: true,
});
// Tied embeddings give the frozen head a wide logit range; an untied random head caps what LoRA can fit.
const V = tiny.config.vocabSize;

function randomExamples(n: number, seed: number, minLen = 6, maxLen = 14): TrainExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({ ids: Array.from({ length: minLen + rng.int(maxLen - minLen + 1) }, () => rng.int(V)) }));
}

describe('LoRA training loop', () => {
  it('memorises a short text (loss < 0.05), and the saved adapter reproduces it in inference', async () => {
    const text = [17, 250, 3, 88, 41, 300, 12, 9, 77, 150, 64, 5, 199, 23, 142, 8, 61, 290, 33, 100];
    const folder = openModelFolder(modelDir);
    const target = loraTarget(folder, defaultLoraSpec({ r: 8, alpha: 16 }));
    const progress: number[] = [];
    const loop = await TrainLoop.create({
      target,
      train: [{ ids: text }],
      steps: 40,
      batchSize: 1,
      lr: 2e-2,
      warmupSteps: 5,
      weightDecay: 0,
      seed: 1,
      session: { threads: 1 },
      onProgress: (p) => progress.push(p.step),
    });
    const t0 = performance.now();
    const { losses } = await loop.run();
    const seconds = (performance.now() - t0) / 1000;
    await loop.close();
    assert.deepEqual(
      progress,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.ok(losses[0] > 3, `starts far from the text (${losses[0]})`);
    assert.ok(losses[39] < 0.05, `final loss ${losses[39]}`);
    assert.ok(seconds < 20, `took ${seconds}s`);

    // The adapter, saved in PEFT format and loaded for inference, predicts the text greedily.
    const adapterDir = join(root, 'memorised');
    writePeftAdapter(adapterDir, target.toAdapter(loop.values, modelDir, { trained_steps: 40 }));
    const lm = await loadAdaptedCausalLM(folder, readPeftAdapter(adapterDir), { logits: 'all', threads: 1 });
    const out = await lm.lm.forward([text], lm.lm.emptyCache(1), { extra: lm.feeds });
    for (let p = 0; p + 1 < text.length; p++) {
      const row = out.logits.subarray(p * V, (p + 1) * V);
      assert.equal(row.indexOf(Math.max(...row)), text[p + 1], `position ${p}`);
    }
    await lm.lm.release();
  });

  const base = (over: Partial<TrainLoopOptions> = {}): TrainLoopOptions => {
    const folder = openModelFolder(modelDir);
    return {
      target: loraTarget(folder, defaultLoraSpec({ r: 4, alpha: 8, dropout: 0.1 })),
      train: randomExamples(7, 10),
      eval: randomExamples(3, 11),
      steps: 10,
      batchSize: 2,
      gradAccum: 2,
      lr: 5e-3,
      warmupSteps: 2,
      minLrRatio: 0.1,
      maxGradNorm: 0.5,
      seed: 99,
      evalEvery: 3,
      session: { threads: 2 },
      ...over,
    };
  };

  it('an interrupted run resumed from its checkpoint reproduces the uninterrupted run bit for bit', async () => {
    const straight = await TrainLoop.create(base());
    const full = await straight.run();
    const finalValues = new Map([...straight.values].map(([k, v]) => [k, Float32Array.from(v)]));
    await straight.close();
    assert.equal(full.losses.length, 10);
    assert.deepEqual(
      full.evalLosses.map((e) => e.step),
      [3, 6, 9, 10],
    );

    const dir = join(root, 'ckpt');
    const first = await TrainLoop.create(base({ checkpointDir: dir, checkpointEvery: 4 }));
    const partial = await first.run({ untilStep: 6 });
    await first.close();
    assert.deepEqual(partial.losses, full.losses.slice(0, 6));
    // Killed after step 6: the last checkpoint is step 4's, and only one tensor file is kept.
    assert.equal(JSON.parse(fs.readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')).step, 4);
    assert.deepEqual(fs.readdirSync(dir).sort(), [CHECKPOINT_FILE, 'state-00000004.safetensors']);

    const resumed = await TrainLoop.create(base({ checkpointDir: dir, checkpointEvery: 4 }));
    assert.equal(resumed.step, 4);
    const rest = await resumed.run();
    assert.deepEqual(rest.losses, full.losses);
    assert.deepEqual(rest.evalLosses, full.evalLosses);
    for (const [k, v] of finalValues) assert.deepEqual(resumed.values.get(k), v, k);
    await resumed.close();

    await assert.rejects(
      TrainLoop.create(base({ checkpointDir: dir, lr: 1e-3 })),
      (e: Error) => e instanceof UserError && /other settings/.test(e.message),
    );
  });

  it('gradient accumulation over micro-batches equals one batch of the same examples', async () => {
    const same = randomExamples(4, 12, 9, 9);
    // Dropout masks depend on the micro-batch, so compare with dropout off.
    const noDrop = (accum: number, batch: number) =>
      base({
        target: loraTarget(openModelFolder(modelDir), defaultLoraSpec({ r: 4, alpha: 8 })),
        train: same,
        eval: undefined,
        batchSize: batch,
        gradAccum: accum,
        steps: 2,
      });
    const a = await TrainLoop.create(noDrop(1, 4));
    const b = await TrainLoop.create(noDrop(2, 2));
    const [ra, rb] = [await a.run({ untilStep: 1 }), await b.run({ untilStep: 1 })];
    assert.ok(Math.abs(ra.losses[0] - rb.losses[0]) < 1e-5, `${ra.losses[0]} vs ${rb.losses[0]}`);
    for (const [k, v] of a.values) {
      const w = b.values.get(k)!;
      for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i] - w[i]) < 1e-5, `${k}[${i}]`);
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('full-parameter mode (pretraining) uses the same loop and lowers the loss', async () => {
    const folder = openModelFolder(modelDir);
    const text = randomExamples(2, 13, 12, 12);
    const loop = await TrainLoop.create({
      target: fullTarget(folder.config, folder.weights),
      train: text,
      eval: text,
      evalEvery: 8,
      steps: 8,
      batchSize: 2,
      lr: 3e-3,
      seed: 5,
      session: { threads: 1 },
    });
    const before = await loop.evaluate();
    const { losses, evalLosses } = await loop.run();
    await loop.close();
    assert.equal(loop.values.size, tiny.tensors.size);
    assert.ok(Math.abs(losses[0] - before) < 1e-4, `first step's loss ${losses[0]} is the starting eval loss ${before}`);
    assert.ok(evalLosses[0].loss < before - 1, `${before} -> ${evalLosses[0].loss}`);
  });

  it('refuses examples it cannot learn from, in one line', async () => {
    await assert.rejects(TrainLoop.create(base({ train: [{ ids: [1] }] })), /nothing to predict/);
    await assert.rejects(TrainLoop.create(base({ train: [{ ids: [1, V] }] })), /token id 320/);
    await assert.rejects(TrainLoop.create(base({ steps: 0 })), /steps must be a positive integer/);
  });
});
